# planted bug: forgets to multiply the precision-weighted sum of means by the product's variance
# cell: product_of_gaussians
# loses: test_product_of_gaussians
# message: must still be multiplied by the product's variance
def product_of_gaussians(means, variances):
    """The normalised product of N Gaussian factors per task: (T, N, d) -> mean, variance (T, d)."""
    variances = variances.clamp_min(1e-7)
    variance = 1.0 / (1.0 / variances).sum(dim=-2)
    mean = (means / variances).sum(dim=-2)
    return mean, variance
