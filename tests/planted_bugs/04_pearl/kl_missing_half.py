# planted bug: drops the factor ½
# cell: kl_to_standard_normal
# loses: test_kl_to_standard_normal
# message: the ½ is missing
def kl_to_standard_normal(mean, variance):
    """KL(N(μ, diag σ²) ‖ N(0, I)) per task: (T, d) -> (T,)."""
    return (variance + mean**2 - 1.0 - torch.log(variance)).sum(dim=-1)
