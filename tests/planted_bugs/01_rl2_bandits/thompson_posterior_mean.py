# planted bug: the posterior mean instead of a posterior sample, which is greedy play
# cell: thompson
# loses: test_thompson
# message: that is greedy
def thompson(successes, failures, rng):
    return argmax_random_ties((successes + 1.0) / (successes + failures + 2.0), rng)
