# planted bug: draws from np.random instead of the rng it is given, so runs are not reproducible
# cell: sample_posterior_mdp
# loses: test_sample_posterior_mdp
# message: seeded alike gave different MDPs
def sample_posterior_mdp(transition_counts, visits, reward_sums, rng):
    gamma = np.random.standard_gamma(1.0 + transition_counts)
    transitions = gamma / gamma.sum(axis=-1, keepdims=True)
    precision = 1.0 + visits
    return transitions, reward_sums / precision + np.random.standard_normal(visits.shape) / np.sqrt(precision)
