# planted bug: bootstraps from V̄(s') after the last step of an episode too
# cell: critic_loss
# loses: test_critic_loss
# message: mask is missing: after the last step
def critic_loss(q1, q2, rewards, dones, target_next_value, gamma, reward_scale):
    """mean (Q_1 - y)² + mean (Q_2 - y)², y = reward_scale·r + γ(1 - done)V̄(s') held constant."""
    target = (reward_scale * rewards + gamma * target_next_value).detach()
    return ((q1 - target) ** 2).mean() + ((q2 - target) ** 2).mean()
