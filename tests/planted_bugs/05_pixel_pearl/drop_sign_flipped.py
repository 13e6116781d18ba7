# planted bug: subtracts the upper bound from the other stage
# cell: return_drop
# loses: test_return_drop
# message: sign is flipped
def return_drop(upper, other, floor):
    """The return a stage loses against the upper bound, and that loss as a share of the upper bound's gain over floor."""
    upper_mean, other_mean = float(np.mean(upper)), float(np.mean(other))
    drop = other_mean - upper_mean
    return {"drop": drop, "share": drop / (upper_mean - floor)}
