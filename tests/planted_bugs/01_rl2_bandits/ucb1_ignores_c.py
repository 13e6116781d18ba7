# planted bug: the bonus is not scaled by c (right at c = 1, the visible test; wrong in the hidden ones)
# cell: ucb1
# loses: test_ucb1
# message: scaled by c
def ucb1(successes, failures, rng, c=1.0):
    pulls = successes + failures
    t = np.maximum(pulls.sum(axis=1, keepdims=True), 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        index = successes / pulls + np.sqrt(2.0 * np.log(t) / pulls)
    index = np.where(pulls == 0, np.inf, index)
    return argmax_random_ties(index, rng)
