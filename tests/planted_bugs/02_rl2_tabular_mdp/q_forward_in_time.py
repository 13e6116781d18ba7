# planted bug: fills Q from h = 0 upwards, so Q[0] holds the last step (mu) instead of T steps to go
# cell: finite_horizon_q
# loses: test_finite_horizon_q
# message: time axis is reversed
def finite_horizon_q(transitions, mean_rewards, horizon):
    q = np.zeros(mean_rewards.shape[:-2] + (horizon,) + mean_rewards.shape[-2:])
    v = np.zeros(mean_rewards.shape[:-1])
    for h in range(horizon):
        q[..., h, :, :] = mean_rewards + np.einsum("...sat,...t->...sa", transitions, v)
        v = q[..., h, :, :].max(axis=-1)
    return q
