# planted bug: scales the noise by the posterior variance 1 / (1 + N) instead of its square root
# cell: sample_posterior_mdp
# loses: test_sample_posterior_mdp
# message: variance 1 / \(1 \+ N\) as the standard deviation
def sample_posterior_mdp(transition_counts, visits, reward_sums, rng):
    gamma = rng.standard_gamma(1.0 + transition_counts)
    transitions = gamma / gamma.sum(axis=-1, keepdims=True)
    precision = 1.0 + visits
    return transitions, reward_sums / precision + rng.standard_normal(visits.shape) / precision
