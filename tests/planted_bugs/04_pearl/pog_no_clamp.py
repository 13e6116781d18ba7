# planted bug: forgets to clamp the variances, so a factor of variance 0 gives NaN
# cell: product_of_gaussians
# loses: test_product_of_gaussians
# message: clamp the variances first
def product_of_gaussians(means, variances):
    """The normalised product of N Gaussian factors per task: (T, N, d) -> mean, variance (T, d)."""
    precision = (1.0 / variances).sum(dim=-2)
    variance = 1.0 / precision
    mean = variance * (means / variances).sum(dim=-2)
    return mean, variance
