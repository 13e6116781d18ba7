# planted bug: ends an episode only on truncation; passes on navigation, fails on bandits (hidden tests)
# cell: evaluate_adaptation
# loses: test_evaluate_adaptation
# message: after the episode ended
def evaluate_adaptation(make_agent, env, tasks, n_episodes):
    returns = np.zeros((len(tasks), n_episodes))
    for i, task in enumerate(tasks):
        env.reset_task(task)
        agent = make_agent()
        for k in range(n_episodes):
            obs, info = env.reset()
            truncated = False
            while not truncated:
                action = agent.act(obs)
                next_obs, reward, terminated, truncated, info = env.step(action)
                agent.observe(obs, action, reward, next_obs, truncated)
                returns[i, k] += reward
                obs = next_obs
    return returns
