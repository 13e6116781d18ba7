# planted bug: takes the square root (an RMSE)
# cell: state_estimation_loss
# loses: test_state_estimation_loss, test_perception_loss
# message: root of the loss
def state_estimation_loss(predicted, states, std):
    """mean over the batch and dimensions of ((ŝ - s) / σ)²."""
    return torch.sqrt((((predicted - states) / std) ** 2).mean())
