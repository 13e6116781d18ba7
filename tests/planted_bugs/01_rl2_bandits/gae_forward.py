# planted bug: the recursion runs forward in time
# cell: gae
# loses: test_gae
# message: runs forward in time
def gae(rewards, values, gamma, lam):
    advantages = torch.zeros_like(rewards)
    running = torch.zeros_like(rewards[0])
    for t in range(len(rewards)):
        next_value = values[t + 1] if t + 1 < len(rewards) else torch.zeros_like(rewards[0])
        running = rewards[t] + gamma * next_value - values[t] + gamma * lam * running
        advantages[t] = running
    return advantages
