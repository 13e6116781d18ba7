# planted bug: uses the difference of log-probabilities as the importance ratio
# cell: trpo_surrogate
# loses: test_trpo_surrogate
# message: not the difference of log-probabilities
def trpo_surrogate(new_log_probs, old_log_probs, advantages, mask):
    ratio = new_log_probs - old_log_probs
    return -(ratio * advantages * mask).sum(dim=(1, 2)) / mask.sum(dim=(1, 2))
