# planted bug: solves the plain normal equations, which are singular when the observations are constant
# cell: fit_linear_baseline
# loses: test_fit_linear_baseline
# message: ridge
def fit_linear_baseline(observations, returns, mask):
    M, N, T, _ = observations.shape
    obs = observations.double().clamp(-10.0, 10.0)
    t = (torch.arange(T, dtype=torch.float64) / 100.0).expand(M, N, T).unsqueeze(-1)
    phi = torch.cat([obs, obs**2, t, t**2, t**3, torch.ones_like(t)], dim=-1)
    X = (phi * mask.double().unsqueeze(-1)).reshape(M, N * T, -1)
    y = (returns.double() * mask.double()).reshape(M, N * T, 1)
    w = torch.linalg.solve(X.transpose(1, 2) @ X, X.transpose(1, 2) @ y)
    return (phi.reshape(M, N * T, -1) @ w).reshape(M, N, T).to(returns.dtype)
