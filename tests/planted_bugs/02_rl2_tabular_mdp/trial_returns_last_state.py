# planted bug: resets, but returns the state the episode ended in instead of the start state
# cell: trial_step
# loses: test_trial_step
# message: returned the state the episode ended in
def trial_step(mdp, actions):
    states, rewards, terminated, truncated, info = mdp.step(actions)
    if truncated.all():
        mdp.reset()
    return np.eye(mdp.n_states)[states], rewards, truncated.astype(float)
