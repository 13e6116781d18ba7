# planted bug: sums over the state dimensions and averages over the batch
# cell: state_estimation_loss
# loses: test_state_estimation_loss, test_perception_loss
# message: dimensions were summed and the batch averaged
def state_estimation_loss(predicted, states, std):
    """mean over the batch and dimensions of ((ŝ - s) / σ)²."""
    return (((predicted - states) / std) ** 2).sum(dim=-1).mean()
