# planted bug: the ratio is the difference of log-probabilities, not exp of it
# cell: ppo_clip_loss
# loses: test_ppo_clip_loss
# message: ratio of probabilities
def ppo_clip_loss(logp, old_logp, advantages, clip):
    ratio = logp - old_logp
    clipped = torch.clamp(ratio, 1.0 - clip, 1.0 + clip)
    return -torch.min(ratio * advantages, clipped * advantages).mean()
