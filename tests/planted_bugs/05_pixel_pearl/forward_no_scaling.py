# planted bug: feeds the raw 0..255 pixel values to the network
# cell: estimate_states
# loses: test_estimate_states
# message: frames were not scaled
def estimate_states(model, frames):
    """ŝ = state_mean + state_std * head(conv(frames / 255)): (B, 3k, 64, 64) uint8 -> (B, 17)."""
    standardised = model.head(model.conv(frames.float()))
    return model.state_mean + model.state_std * standardised
