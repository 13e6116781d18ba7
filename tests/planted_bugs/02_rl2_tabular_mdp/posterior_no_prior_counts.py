# planted bug: Dirichlet(counts) without the prior's +1, so unvisited pairs give 0 / 0
# cell: sample_posterior_mdp
# loses: test_sample_posterior_mdp
# message: includes the prior: Dirichlet\(1 \+ counts\)
def sample_posterior_mdp(transition_counts, visits, reward_sums, rng):
    gamma = rng.standard_gamma(transition_counts)
    transitions = gamma / gamma.sum(axis=-1, keepdims=True)
    precision = 1.0 + visits
    return transitions, reward_sums / precision + rng.standard_normal(visits.shape) / np.sqrt(precision)
