# planted bug: onehot[rows, prev_action] with prev_action = -1 marks the last arm at the first step
# cell: rl2_inputs
# loses: test_rl2_inputs
# message: negative indexing
def rl2_inputs(obs, prev_action, prev_reward, prev_done, n_actions):
    onehot = torch.zeros(len(prev_action), n_actions)
    onehot[torch.arange(len(prev_action)), prev_action] = 1.0
    return torch.cat([obs, onehot, prev_reward[:, None], prev_done[:, None]], dim=1)
