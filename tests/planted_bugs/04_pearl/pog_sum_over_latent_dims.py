# planted bug: sums over the latent dimensions (the last axis) instead of over the factors
# cell: product_of_gaussians
# loses: test_product_of_gaussians
# message: not over the latent dimensions
def product_of_gaussians(means, variances):
    """The normalised product of N Gaussian factors per task: (T, N, d) -> mean, variance (T, d)."""
    variances = variances.clamp_min(1e-7)
    precision = (1.0 / variances).sum(dim=-1)
    variance = 1.0 / precision
    mean = variance * (means / variances).sum(dim=-1)
    return mean, variance
