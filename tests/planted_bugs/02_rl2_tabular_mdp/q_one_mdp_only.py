# planted bug: right for one MDP, but breaks on a batch of MDPs, which only the hidden tests try
# cell: finite_horizon_q
# loses: test_finite_horizon_q
# message: leading batch dimensions
def finite_horizon_q(transitions, mean_rewards, horizon):
    q = np.zeros((horizon,) + mean_rewards.shape)
    v = np.zeros(mean_rewards.shape[0])
    for h in reversed(range(horizon)):
        q[h] = mean_rewards + transitions @ v
        v = q[h].max(axis=1)
    return q
