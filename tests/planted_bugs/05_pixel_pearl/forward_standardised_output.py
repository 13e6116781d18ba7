# planted bug: returns the head's standardised output, not the state in the data's units
# cell: estimate_states
# loses: test_estimate_states
# message: that is the standardised output
def estimate_states(model, frames):
    """ŝ = state_mean + state_std * head(conv(frames / 255)): (B, 3k, 64, 64) uint8 -> (B, 17)."""
    return model.head(model.conv(frames.float() / 255.0))
