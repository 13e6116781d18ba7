# planted bug: puts the states back to 0 by hand but not the step counter, so every later step looks like an episode end
# cell: trial_step
# loses: test_trial_step
# message: setting the states to 0 is not enough
def trial_step(mdp, actions):
    states, rewards, terminated, truncated, info = mdp.step(actions)
    if truncated.all():
        mdp.states[:] = 0
        states = mdp.states.copy()
    return np.eye(mdp.n_states)[states], rewards, truncated.astype(float)
