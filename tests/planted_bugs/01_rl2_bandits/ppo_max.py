# planted bug: the optimistic max of the two surrogates instead of the pessimistic min
# cell: ppo_clip_loss
# loses: test_ppo_clip_loss
# message: min and max are swapped
def ppo_clip_loss(logp, old_logp, advantages, clip):
    ratio = torch.exp(logp - old_logp)
    clipped = torch.clamp(ratio, 1.0 - clip, 1.0 + clip)
    return -torch.max(ratio * advantages, clipped * advantages).mean()
