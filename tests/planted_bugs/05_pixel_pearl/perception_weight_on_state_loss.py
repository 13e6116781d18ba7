# planted bug: puts the weight β on the state loss instead of the RL loss
# cell: perception_loss
# loses: test_perception_loss
# message: weight multiplies the state loss
def perception_loss(predicted, states, std, rl_loss, weight):
    """L_φ = L_state(ŝ, s) + β L_RL."""
    return weight * state_estimation_loss(predicted, states, std) + rl_loss
