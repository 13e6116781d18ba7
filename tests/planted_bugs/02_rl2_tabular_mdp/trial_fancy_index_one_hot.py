# planted bug: obs[:, states] = 1 sets the columns of every row's state in every row, not one per row
# cell: trial_step
# loses: test_trial_step
# message: not one-hot
def trial_step(mdp, actions):
    states, rewards, terminated, truncated, info = mdp.step(actions)
    if truncated.all():
        states = mdp.reset()
    obs = np.zeros((len(states), mdp.n_states))
    obs[:, states] = 1.0
    return obs, rewards, truncated.astype(float)
