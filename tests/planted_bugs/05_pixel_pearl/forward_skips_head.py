# planted bug: returns the flattened convolution features without the head
# cell: estimate_states
# loses: test_estimate_states
# message: flattened convolution output
def estimate_states(model, frames):
    """ŝ = state_mean + state_std * head(conv(frames / 255)): (B, 3k, 64, 64) uint8 -> (B, 17)."""
    return model.conv(frames.float() / 255.0)
