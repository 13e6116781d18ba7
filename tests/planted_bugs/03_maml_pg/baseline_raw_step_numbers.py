# planted bug: time features from the raw step index (0, 1, 2, ...) instead of t = step / 100
# cell: fit_linear_baseline
# loses: test_fit_linear_baseline
# message: t = step / 100
def fit_linear_baseline(observations, returns, mask):
    M, N, T, _ = observations.shape
    obs = observations.double().clamp(-10.0, 10.0)
    t = torch.arange(T, dtype=torch.float64).expand(M, N, T).unsqueeze(-1)
    phi = torch.cat([obs, obs**2, t, t**2, t**3, torch.ones_like(t)], dim=-1)
    X = (phi * mask.double().unsqueeze(-1)).reshape(M, N * T, -1)
    y = (returns.double() * mask.double()).reshape(M, N * T, 1)
    ridge = 1e-5 * torch.eye(X.shape[-1], dtype=torch.float64)
    w = torch.linalg.solve(X.transpose(1, 2) @ X + ridge, X.transpose(1, 2) @ y)
    return (phi.reshape(M, N * T, -1) @ w).reshape(M, N, T).to(returns.dtype)
