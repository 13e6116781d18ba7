# planted bug: averages over the latent dimensions instead of summing
# cell: kl_to_standard_normal
# loses: test_kl_to_standard_normal
# message: latent dimensions were averaged
def kl_to_standard_normal(mean, variance):
    """KL(N(μ, diag σ²) ‖ N(0, I)) per task: (T, d) -> (T,)."""
    return 0.5 * (variance + mean**2 - 1.0 - torch.log(variance)).mean(dim=-1)
