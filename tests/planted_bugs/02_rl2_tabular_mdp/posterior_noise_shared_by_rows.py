# planted bug: one draw of the reward noise for a single MDP, broadcast over every trial of the batch
# cell: sample_posterior_mdp
# loses: test_sample_posterior_mdp
# message: every draw has the same mean rewards
def sample_posterior_mdp(transition_counts, visits, reward_sums, rng):
    gamma = rng.standard_gamma(1.0 + np.asarray(transition_counts, dtype=float))
    transitions = gamma / gamma.sum(axis=-1, keepdims=True)
    precision = 1.0 + np.asarray(visits, dtype=float)
    mean = np.asarray(reward_sums, dtype=float) / precision
    mean_rewards = mean + rng.standard_normal(precision.shape[-2:]) / np.sqrt(precision)
    return transitions, mean_rewards
