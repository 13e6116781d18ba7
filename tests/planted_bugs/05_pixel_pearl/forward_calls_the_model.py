# planted bug: calls the model instead of computing its forward pass (in the notebook it recurses forever)
# cell: estimate_states
# loses: test_estimate_states
# message: called model\(frames\)
def estimate_states(model, frames):
    """ŝ = state_mean + state_std * head(conv(frames / 255)): (B, 3k, 64, 64) uint8 -> (B, 17)."""
    return model(frames)
