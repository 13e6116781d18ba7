# planted bug: averages the next state's action values instead of taking the best one
# cell: finite_horizon_q
# loses: test_finite_horizon_q
# message: take the max over the next actions
def finite_horizon_q(transitions, mean_rewards, horizon):
    q = np.zeros(mean_rewards.shape[:-2] + (horizon,) + mean_rewards.shape[-2:])
    v = np.zeros(mean_rewards.shape[:-1])
    for h in reversed(range(horizon)):
        q[..., h, :, :] = mean_rewards + np.einsum("...sat,...t->...sa", transitions, v)
        v = q[..., h, :, :].mean(axis=-1)
    return q
