# planted bug: reports the share of the gain that is kept, not lost
# cell: return_drop
# loses: test_return_drop
# message: share \*kept\*
def return_drop(upper, other, floor):
    """The return a stage loses against the upper bound, and that loss as a share of the upper bound's gain over floor."""
    upper_mean, other_mean = float(np.mean(upper)), float(np.mean(other))
    return {"drop": upper_mean - other_mean, "share": (other_mean - floor) / (upper_mean - floor)}
