# planted bug: runs the network under torch.no_grad(), so nothing can be trained through it
# cell: estimate_states
# loses: test_estimate_states
# message: carry no gradient
def estimate_states(model, frames):
    """ŝ = state_mean + state_std * head(conv(frames / 255)): (B, 3k, 64, 64) uint8 -> (B, 17)."""
    with torch.no_grad():
        standardised = model.head(model.conv(frames.float() / 255.0))
    return model.state_mean + model.state_std * standardised
