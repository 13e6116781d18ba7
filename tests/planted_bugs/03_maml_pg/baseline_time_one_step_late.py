# planted bug: the time feature starts at t = 1/100 on the first step instead of 0
# cell: fit_linear_baseline
# loses: test_fit_linear_baseline
# message: one step late
def fit_linear_baseline(observations, returns, mask):
    M, N, T, _ = observations.shape
    m = mask.double()
    obs = observations.double().clamp(-10.0, 10.0)
    t = ((torch.arange(T, dtype=torch.float64) + 1) / 100.0).expand(M, N, T).unsqueeze(-1)
    phi = torch.cat([obs, obs**2, t, t**2, t**3, torch.ones_like(t)], dim=-1) * m[..., None]
    phi = phi.reshape(M, N * T, -1)
    y = (returns.double() * m).reshape(M, N * T, 1)
    ridge = 1e-5 * torch.eye(phi.shape[-1], dtype=torch.float64)
    w = torch.linalg.solve(phi.transpose(1, 2) @ phi + ridge, phi.transpose(1, 2) @ y)
    return (phi @ w).reshape(M, N, T).to(returns.dtype)
