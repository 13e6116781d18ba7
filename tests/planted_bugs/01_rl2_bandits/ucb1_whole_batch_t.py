# planted bug: t counts the pulls of every trial in the batch, not those of the row's own trial
# cell: ucb1
# loses: test_ucb1
# message: not the pulls of the whole batch
def ucb1(successes, failures, rng, c=1.0):
    pulls = successes + failures
    t = max(pulls.sum(), 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        index = successes / pulls + c * np.sqrt(2.0 * np.log(t) / pulls)
    index = np.where(pulls == 0, np.inf, index)
    return argmax_random_ties(index, rng)
