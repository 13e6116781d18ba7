# planted bug: δ_t = r_t + V_{t+1} - V_t, the next value is not discounted
# cell: gae
# loses: test_gae
# message: no discount on the next value
def gae(rewards, values, gamma, lam):
    advantages = torch.zeros_like(rewards)
    running = torch.zeros_like(rewards[0])
    next_value = torch.zeros_like(rewards[0])
    for t in reversed(range(len(rewards))):
        delta = rewards[t] + next_value - values[t]
        running = delta + gamma * lam * running
        advantages[t] = running
        next_value = values[t]
    return advantages
