# planted bug: keeps the terminal Q_T = 0 in the returned array (T + 1 steps)
# cell: finite_horizon_q
# loses: test_finite_horizon_q
# message: do not return the extra Q_T
def finite_horizon_q(transitions, mean_rewards, horizon):
    q = np.zeros(mean_rewards.shape[:-2] + (horizon + 1,) + mean_rewards.shape[-2:])
    for h in reversed(range(horizon)):
        v = q[..., h + 1, :, :].max(axis=-1)
        q[..., h, :, :] = mean_rewards + np.einsum("...sat,...t->...sa", transitions, v)
    return q
