# planted bug: resets after every step, so the agent never gets past the start state
# cell: trial_step
# loses: test_trial_step
# message: reset only when the episode ends
def trial_step(mdp, actions):
    states, rewards, terminated, truncated, info = mdp.step(actions)
    states = mdp.reset()
    return np.eye(mdp.n_states)[states], rewards, truncated.astype(float)
