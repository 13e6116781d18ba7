# planted bug: "P transpose times V", as for a Markov chain's distribution, sums over the current state
# cell: finite_horizon_q
# loses: test_finite_horizon_q
# message: wrong axis of P
def finite_horizon_q(transitions, mean_rewards, horizon):
    q = np.zeros((horizon,) + mean_rewards.shape)
    v = np.zeros(mean_rewards.shape[0])
    for h in reversed(range(horizon)):
        q[h] = mean_rewards + transitions.T @ v
        v = q[h].max(axis=-1)
    return q
