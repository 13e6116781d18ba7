# planted bug: arms never pulled get index 0 (nan_to_num) instead of infinity, so they are never tried
# cell: ucb1
# loses: test_ucb1
# message: never pulled has an infinite index
def ucb1(successes, failures, rng, c=1.0):
    pulls = successes + failures
    t = np.maximum(pulls.sum(axis=1, keepdims=True), 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        index = successes / pulls + c * np.sqrt(2.0 * np.log(t) / pulls)
    return argmax_random_ties(np.nan_to_num(index, nan=0.0, posinf=0.0), rng)
