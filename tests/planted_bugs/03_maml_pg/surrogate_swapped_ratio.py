# planted bug: π_old / π_new instead of π_new / π_old
# cell: trpo_surrogate
# loses: test_trpo_surrogate
# message: old and new are swapped
def trpo_surrogate(new_log_probs, old_log_probs, advantages, mask):
    ratio = torch.exp(old_log_probs - new_log_probs)
    return -(ratio * advantages * mask).sum(dim=(1, 2)) / mask.sum(dim=(1, 2))
