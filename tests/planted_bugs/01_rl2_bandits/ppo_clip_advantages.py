# planted bug: the advantages are clipped instead of the ratio
# cell: ppo_clip_loss
# loses: test_ppo_clip_loss
# message: clip the ratio, not the advantages
def ppo_clip_loss(logp, old_logp, advantages, clip):
    ratio = torch.exp(logp - old_logp)
    return -torch.min(ratio * advantages, ratio * torch.clamp(advantages, 1.0 - clip, 1.0 + clip)).mean()
