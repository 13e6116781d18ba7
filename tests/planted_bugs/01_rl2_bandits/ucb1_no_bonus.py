# planted bug: the exploration bonus is missing, which leaves greedy play on empirical means
# cell: ucb1
# loses: test_ucb1
# message: greedy arm
def ucb1(successes, failures, rng, c=1.0):
    pulls = successes + failures
    with np.errstate(divide="ignore", invalid="ignore"):
        index = successes / pulls
    index = np.where(pulls == 0, np.inf, index)
    return argmax_random_ties(index, rng)
