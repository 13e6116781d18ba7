# planted bug: the surrogate objective is returned instead of the loss (no minus sign)
# cell: ppo_clip_loss
# loses: test_ppo_clip_loss
# message: the sign
def ppo_clip_loss(logp, old_logp, advantages, clip):
    ratio = torch.exp(logp - old_logp)
    clipped = torch.clamp(ratio, 1.0 - clip, 1.0 + clip)
    return torch.min(ratio * advantages, clipped * advantages).mean()
