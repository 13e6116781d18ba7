# planted bug: uses the first critic only instead of the minimum of the two
# cell: policy_and_value_losses
# loses: test_policy_and_value_losses
# message: not Q_1 alone
def policy_and_value_losses(agent, obs, z):
    """SAC's policy and value losses for observations (T, B, obs_dim) and z (T, latent_dim), z detached."""
    z = z.detach()
    s_z = with_task(obs, z)
    new_actions, log_prob = agent.policy(s_z)
    q_in = with_task(torch.cat([obs, new_actions], dim=-1), z)
    q = agent.q1(q_in).squeeze(-1)
    policy_loss = (log_prob - q).mean()
    value_target = (q - log_prob).detach()
    value_loss = ((agent.value(s_z).squeeze(-1) - value_target) ** 2).mean()
    return policy_loss, value_loss
