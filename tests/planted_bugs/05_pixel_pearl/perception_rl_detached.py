# planted bug: detaches the RL loss, so its gradient never reaches the estimator
# cell: perception_loss
# loses: test_perception_loss
# message: RL term's gradient does not reach the estimates
def perception_loss(predicted, states, std, rl_loss, weight):
    """L_φ = L_state(ŝ, s) + β L_RL."""
    return state_estimation_loss(predicted, states, std) + weight * rl_loss.detach()
