# planted bug: scales the output by the variance instead of the standard deviation
# cell: estimate_states
# loses: test_estimate_states
# message: multiplied by the variance
def estimate_states(model, frames):
    """ŝ = state_mean + state_std * head(conv(frames / 255)): (B, 3k, 64, 64) uint8 -> (B, 17)."""
    standardised = model.head(model.conv(frames.float() / 255.0))
    return model.state_mean + model.state_std ** 2 * standardised
