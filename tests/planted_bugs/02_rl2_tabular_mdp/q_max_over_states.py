# planted bug: the next state's value takes the max over the states instead of the actions
# cell: finite_horizon_q
# loses: test_finite_horizon_q
# message: max is over the wrong axis
def finite_horizon_q(transitions, mean_rewards, horizon):
    transitions = np.asarray(transitions, dtype=float)
    mean_rewards = np.asarray(mean_rewards, dtype=float)
    q = np.zeros(mean_rewards.shape[:-2] + (horizon,) + mean_rewards.shape[-2:])
    v_next = np.zeros(mean_rewards.shape[:-1])
    for h in range(horizon - 1, -1, -1):
        q[..., h, :, :] = mean_rewards + (transitions * v_next[..., None, None, :]).sum(-1)
        v_next = q[..., h, :, :].max(axis=-2)
    return q
