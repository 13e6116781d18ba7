# planted bug: divides the error by the variance before squaring
# cell: state_estimation_loss
# loses: test_state_estimation_loss, test_perception_loss
# message: divided by the variance
def state_estimation_loss(predicted, states, std):
    """mean over the batch and dimensions of ((ŝ - s) / σ)²."""
    return (((predicted - states) / std**2) ** 2).mean()
