# planted bug: uses `terminated` (always False here) as the done flag, so the policy never sees episodes end
# cell: trial_step
# loses: test_trial_step
# message: the done flag must be 1
def trial_step(mdp, actions):
    states, rewards, terminated, truncated, info = mdp.step(actions)
    if truncated.all():
        states = mdp.reset()
    return np.eye(mdp.n_states)[states], rewards, terminated.astype(float)
