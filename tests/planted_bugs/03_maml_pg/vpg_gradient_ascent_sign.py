# planted bug: returns the surrogate objective instead of the loss, so descending it lowers the return
# cell: vpg_loss
# loses: test_vpg_loss
# message: the sign
def vpg_loss(log_probs, advantages, mask):
    return (log_probs * advantages.detach() * mask).sum(dim=(1, 2)) / mask.sum(dim=(1, 2))
