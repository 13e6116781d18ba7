# planted bug: np.argmax breaks ties toward arm 0, so fresh trials always start with the first arm
# cell: ucb1
# loses: test_ucb1
# message: break ties uniformly at random
def ucb1(successes, failures, rng, c=1.0):
    pulls = successes + failures
    t = np.maximum(pulls.sum(axis=1, keepdims=True), 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        index = successes / pulls + c * np.sqrt(2.0 * np.log(t) / pulls)
    index = np.where(pulls == 0, np.inf, index)
    return np.argmax(index, axis=1)
