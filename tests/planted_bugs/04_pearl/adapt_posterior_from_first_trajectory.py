# planted bug: infers the posterior once, after the first trajectory, and never updates it
# cell: adapt_online
# loses: test_adapt_online
# message: must be re-inferred before every trajectory
@torch.no_grad()
def adapt_online(agent, env, n_trajectories, n_exploration=1, deterministic=True, generator=None):
    """PEARL's meta-test on M tasks at once: returns (n_trajectories, M) and the context of all transitions."""
    M = env.goals.shape[0]
    context = None
    belief = None
    returns = []
    for k in range(n_trajectories):
        if k < n_exploration:
            mean, variance = prior_belief((M,), agent.encoder.latent_dim, env.goals)
        else:
            if belief is None:
                belief = infer_posterior(agent.encoder, agent.context(context))
            mean, variance = belief
        z = sample_z(mean, variance, generator)
        trajectory = collect_trajectories(agent, env, z, deterministic)
        returns.append(trajectory["rewards"][..., 0].sum(dim=1))
        if context is None:
            context = trajectory
        else:
            context = {name: torch.cat([context[name], trajectory[name]], dim=1) for name in context}
    return torch.stack(returns), context
