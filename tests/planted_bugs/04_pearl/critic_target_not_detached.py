# planted bug: lets the gradient flow into the Bellman target
# cell: critic_loss
# loses: test_critic_loss
# message: gradient flows into target_next_value
def critic_loss(q1, q2, rewards, dones, target_next_value, gamma, reward_scale):
    """mean (Q_1 - y)² + mean (Q_2 - y)², y = reward_scale·r + γ(1 - done)V̄(s') held constant."""
    target = reward_scale * rewards + gamma * (1.0 - dones) * target_next_value
    return ((q1 - target) ** 2).mean() + ((q2 - target) ** 2).mean()
