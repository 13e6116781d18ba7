# planted bug: features of the state only, so the baseline cannot follow the return-to-go shrinking over the episode
# cell: fit_linear_baseline
# loses: test_fit_linear_baseline
# message: time features are missing
def fit_linear_baseline(observations, returns, mask):
    M, N, T, _ = observations.shape
    obs = observations.double().clamp(-10.0, 10.0)
    phi = torch.cat([obs, obs**2, torch.ones_like(obs[..., :1])], dim=-1)
    X = (phi * mask.double().unsqueeze(-1)).reshape(M, N * T, -1)
    y = (returns.double() * mask.double()).reshape(M, N * T, 1)
    ridge = 1e-5 * torch.eye(X.shape[-1], dtype=torch.float64)
    w = torch.linalg.solve(X.transpose(1, 2) @ X + ridge, X.transpose(1, 2) @ y)
    return (phi.reshape(M, N * T, -1) @ w).reshape(M, N, T).to(returns.dtype)
