# planted bug: returns the posterior mean MDP (the greedy agent's model) instead of a random draw
# cell: sample_posterior_mdp
# loses: test_sample_posterior_mdp
# message: all 4000 draws are the same MDP
def sample_posterior_mdp(transition_counts, visits, reward_sums, rng):
    alpha = 1.0 + transition_counts
    return alpha / alpha.sum(axis=-1, keepdims=True), reward_sums / (1.0 + visits)
