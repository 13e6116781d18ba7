# planted bug: never sends the environment back to the start state when an episode ends
# cell: trial_step
# loses: test_trial_step
# message: go back to the start state with mdp.reset\(\)
def trial_step(mdp, actions):
    states, rewards, terminated, truncated, info = mdp.step(actions)
    return np.eye(mdp.n_states)[states], rewards, truncated.astype(float)
