# planted bug: a plain mean squared error, each dimension in its own units
# cell: state_estimation_loss
# loses: test_state_estimation_loss, test_perception_loss
# message: divided by its standard deviation
def state_estimation_loss(predicted, states, std):
    """mean over the batch and dimensions of ((ŝ - s) / σ)²."""
    return ((predicted - states) ** 2).mean()
