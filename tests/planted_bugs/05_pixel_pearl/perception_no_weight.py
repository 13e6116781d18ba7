# planted bug: forgets the weight β
# cell: perception_loss
# loses: test_perception_loss
# message: weight β is missing
def perception_loss(predicted, states, std, rl_loss, weight):
    """L_φ = L_state(ŝ, s) + β L_RL."""
    return state_estimation_loss(predicted, states, std) + rl_loss
