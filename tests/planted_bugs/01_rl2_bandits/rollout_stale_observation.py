# planted bug: never moves on to the next observation (harmless on bandits, whose observation never changes)
# cell: collect_trials
# loses: test_collect_trials
# message: obs = next_obs
@torch.no_grad()
def collect_trials(policy, env, encode, greedy=False, device=None):
    """Play one trial in each of the env's B rows; the memory h is kept across all its episodes."""
    B = env.batch_size
    obs = torch.as_tensor(env.reset(), dtype=torch.float32, device=device)
    prev_action = torch.full((B,), -1, dtype=torch.long, device=device)
    prev_reward = torch.zeros(B, device=device)
    prev_done = torch.zeros(B, device=device)
    steps = {key: [] for key in ("inputs", "actions", "logp", "values", "rewards", "dones")}
    h = policy.initial_state(B, device)
    for _ in range(env.n_steps):
        x = encode(obs, prev_action, prev_reward, prev_done, env.n_actions)
        logits, value, h = policy(x[None], h)
        dist = Categorical(logits=logits[0])
        action = logits[0].argmax(-1) if greedy else dist.sample()
        next_obs, reward, done = env.step(action.cpu().numpy())
        reward = torch.as_tensor(reward, dtype=torch.float32, device=device)
        done = torch.as_tensor(done, dtype=torch.float32, device=device)
        for key, item in zip(steps, (x, action, dist.log_prob(action), value[0], reward, done)):
            steps[key].append(item)
        prev_action, prev_reward, prev_done = action, reward, done
    return Trials(**{key: torch.stack(items) for key, items in steps.items()})
