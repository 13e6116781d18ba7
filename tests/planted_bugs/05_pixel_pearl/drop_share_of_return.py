# planted bug: divides the drop by the upper bound's return instead of its gain over the floor
# cell: return_drop
# loses: test_return_drop
# message: gained over the floor
def return_drop(upper, other, floor):
    """The return a stage loses against the upper bound, and that loss as a share of the upper bound's gain over floor."""
    upper_mean, other_mean = float(np.mean(upper)), float(np.mean(other))
    drop = upper_mean - other_mean
    return {"drop": drop, "share": drop / abs(upper_mean)}
