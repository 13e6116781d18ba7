# planted bug: averages the factors' means instead of weighting them by their precisions
# cell: product_of_gaussians
# loses: test_product_of_gaussians
# message: plain average of the factors' means
def product_of_gaussians(means, variances):
    """The normalised product of N Gaussian factors per task: (T, N, d) -> mean, variance (T, d)."""
    variances = variances.clamp_min(1e-7)
    precision = (1.0 / variances).sum(dim=-2)
    variance = 1.0 / precision
    mean = means.mean(dim=-2)
    return mean, variance
