# planted bug: the done flag before the reward
# cell: rl2_inputs
# loses: test_rl2_inputs
# message: swapped
def rl2_inputs(obs, prev_action, prev_reward, prev_done, n_actions):
    onehot = torch.zeros(len(prev_action), n_actions)
    has_action = prev_action >= 0
    onehot[has_action, prev_action[has_action]] = 1.0
    return torch.cat([obs, onehot, prev_done[:, None], prev_reward[:, None]], dim=1)
