# planted bug: averages over every step, padding included
# cell: vpg_loss
# loses: test_vpg_loss
# message: padded steps count
def vpg_loss(log_probs, advantages, mask):
    return -(log_probs * advantages.detach()).mean(dim=(1, 2))
