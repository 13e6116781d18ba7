# planted bug: clamps the "no action yet" -1 to 0, so the first step claims arm 0 was pulled
# cell: rl2_inputs
# loses: test_rl2_inputs
# message: column 0 was set
def rl2_inputs(obs, prev_action, prev_reward, prev_done, n_actions):
    onehot = torch.nn.functional.one_hot(prev_action.clamp(min=0), n_actions).float()
    return torch.cat([obs, onehot, prev_reward[:, None], prev_done[:, None]], dim=-1)
