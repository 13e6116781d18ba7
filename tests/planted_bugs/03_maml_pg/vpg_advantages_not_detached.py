# planted bug: lets the gradient flow into the advantages
# cell: vpg_loss
# loses: test_vpg_loss
# message: gradient flows into the advantages
def vpg_loss(log_probs, advantages, mask):
    return -(log_probs * advantages * mask).sum(dim=(1, 2)) / mask.sum(dim=(1, 2))
