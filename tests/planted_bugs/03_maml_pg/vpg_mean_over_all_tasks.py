# planted bug: one loss for the whole meta-batch instead of one per task
# cell: vpg_loss
# loses: test_vpg_loss
# message: one loss per task
def vpg_loss(log_probs, advantages, mask):
    return -(log_probs * advantages.detach() * mask).sum() / mask.sum()
