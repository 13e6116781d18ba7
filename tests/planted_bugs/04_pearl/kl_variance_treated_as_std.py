# planted bug: writes the KL in terms of σ but plugs in the variance for σ
# cell: kl_to_standard_normal
# loses: test_kl_to_standard_normal
# message: treated as a standard deviation
def kl_to_standard_normal(mean, variance):
    """KL(N(μ, diag σ²) ‖ N(0, I)) per task: (T, d) -> (T,)."""
    sigma = variance
    return 0.5 * (sigma**2 + mean**2 - 1.0 - 2.0 * torch.log(sigma)).sum(dim=-1)
