# planted bug: mixes the two losses as (1 - β) L_state + β L_RL
# cell: perception_loss
# loses: test_perception_loss
# message: convex mix
def perception_loss(predicted, states, std, rl_loss, weight):
    """L_φ = L_state(ŝ, s) + β L_RL."""
    return (1 - weight) * state_estimation_loss(predicted, states, std) + weight * rl_loss
