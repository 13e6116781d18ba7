# planted bug: A_t = δ_t + λ A_{t+1}, the trace forgets γ
# cell: gae
# loses: test_gae
# message: multiplies by λ only
def gae(rewards, values, gamma, lam):
    advantages = torch.zeros_like(rewards)
    running = torch.zeros_like(rewards[0])
    next_value = torch.zeros_like(rewards[0])
    for t in reversed(range(len(rewards))):
        delta = rewards[t] + gamma * next_value - values[t]
        running = delta + lam * running
        advantages[t] = running
        next_value = values[t]
    return advantages
