# planted bug: normalises the Gamma draws over the actions instead of the next states
# cell: sample_posterior_mdp
# loses: test_sample_posterior_mdp
# message: do not sum to 1 over the next states
def sample_posterior_mdp(transition_counts, visits, reward_sums, rng):
    gamma = rng.standard_gamma(1.0 + transition_counts)
    transitions = gamma / gamma.sum(axis=-2, keepdims=True)
    precision = 1.0 + visits
    return transitions, reward_sums / precision + rng.standard_normal(visits.shape) / np.sqrt(precision)
