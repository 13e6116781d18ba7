# planted bug: centres mu on the plain average of the rewards, forgetting the prior's pull toward mu0 = 0
# cell: sample_posterior_mdp
# loses: test_sample_posterior_mdp
# message: plain average of the rewards
def sample_posterior_mdp(transition_counts, visits, reward_sums, rng):
    gamma = rng.standard_gamma(1.0 + transition_counts)
    transitions = gamma / gamma.sum(axis=-1, keepdims=True)
    mean = reward_sums / np.maximum(visits, 1.0)
    return transitions, mean + rng.standard_normal(visits.shape) / np.sqrt(1.0 + visits)
