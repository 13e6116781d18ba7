# planted bug: infers the posterior from the last trajectory only, instead of everything seen so far
# cell: adapt_online
# loses: test_adapt_online
# message: only the last trajectory
@torch.no_grad()
def adapt_online(agent, env, n_trajectories, n_exploration=1, deterministic=True, generator=None):
    """PEARL's meta-test on M tasks at once: returns (n_trajectories, M) and the context of all transitions."""
    M = env.goals.shape[0]
    context = None
    last = None
    returns = []
    for k in range(n_trajectories):
        if k < n_exploration:
            mean, variance = prior_belief((M,), agent.encoder.latent_dim, env.goals)
        else:
            mean, variance = infer_posterior(agent.encoder, agent.context(last))
        z = sample_z(mean, variance, generator)
        trajectory = collect_trajectories(agent, env, z, deterministic)
        returns.append(trajectory["rewards"][..., 0].sum(dim=1))
        last = trajectory
        if context is None:
            context = trajectory
        else:
            context = {name: torch.cat([context[name], trajectory[name]], dim=1) for name in context}
    return torch.stack(returns), context
