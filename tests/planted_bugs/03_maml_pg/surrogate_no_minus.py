# planted bug: returns the surrogate advantage to maximise, not the loss to minimise
# cell: trpo_surrogate
# loses: test_trpo_surrogate
# message: the sign
def trpo_surrogate(new_log_probs, old_log_probs, advantages, mask):
    ratio = torch.exp(new_log_probs - old_log_probs)
    return (ratio * advantages * mask).sum(dim=(1, 2)) / mask.sum(dim=(1, 2))
