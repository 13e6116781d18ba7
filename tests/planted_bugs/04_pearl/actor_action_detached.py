# planted bug: detaches the sampled action before the critics see it (no reparameterisation gradient)
# cell: policy_and_value_losses
# loses: test_policy_and_value_losses
# message: ã must stay differentiable
def policy_and_value_losses(agent, obs, z):
    """SAC's policy and value losses for observations (T, B, obs_dim) and z (T, latent_dim), z detached."""
    z = z.detach()
    s_z = with_task(obs, z)
    new_actions, log_prob = agent.policy(s_z)
    q_in = with_task(torch.cat([obs, new_actions.detach()], dim=-1), z)
    min_q = torch.min(agent.q1(q_in), agent.q2(q_in)).squeeze(-1)
    policy_loss = (log_prob - min_q).mean()
    value_target = (min_q - log_prob).detach()
    value_loss = ((agent.value(s_z).squeeze(-1) - value_target) ** 2).mean()
    return policy_loss, value_loss
