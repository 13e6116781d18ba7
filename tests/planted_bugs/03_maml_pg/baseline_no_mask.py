# planted bug: fits the baseline on every step, the padding after an episode's end included
# cell: fit_linear_baseline
# loses: test_fit_linear_baseline
# message: padded steps \(mask 0\) were used in the fit
def fit_linear_baseline(observations, returns, mask):
    M, N, T, _ = observations.shape
    obs = observations.double().clamp(-10.0, 10.0)
    t = (torch.arange(T, dtype=torch.float64) / 100.0).expand(M, N, T).unsqueeze(-1)
    phi = torch.cat([obs, obs**2, t, t**2, t**3, torch.ones_like(t)], dim=-1).reshape(M, N * T, -1)
    y = returns.double().reshape(M, N * T, 1)
    ridge = 1e-5 * torch.eye(phi.shape[-1], dtype=torch.float64)
    w = torch.linalg.solve(phi.transpose(1, 2) @ phi + ridge, phi.transpose(1, 2) @ y)
    return (phi @ w).reshape(M, N, T).to(returns.dtype)
