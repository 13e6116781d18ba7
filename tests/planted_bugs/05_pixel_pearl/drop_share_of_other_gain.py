# planted bug: divides by the other stage's gain over the floor
# cell: return_drop
# loses: test_return_drop
# message: not the other stage's
def return_drop(upper, other, floor):
    """The return a stage loses against the upper bound, and that loss as a share of the upper bound's gain over floor."""
    upper_mean, other_mean = float(np.mean(upper)), float(np.mean(other))
    drop = upper_mean - other_mean
    return {"drop": drop, "share": drop / (other_mean - floor)}
