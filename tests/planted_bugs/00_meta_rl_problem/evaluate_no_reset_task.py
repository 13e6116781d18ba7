# planted bug: never switches the environment to the task, so every row plays the same task
# cell: evaluate_adaptation
# loses: test_evaluate_adaptation
# message: reset_task
def evaluate_adaptation(make_agent, env, tasks, n_episodes):
    returns = np.zeros((len(tasks), n_episodes))
    for i, task in enumerate(tasks):
        agent = make_agent()
        for k in range(n_episodes):
            obs, info = env.reset()
            done = False
            while not done:
                action = agent.act(obs)
                next_obs, reward, terminated, truncated, info = env.step(action)
                done = terminated or truncated
                agent.observe(obs, action, reward, next_obs, done)
                returns[i, k] += reward
                obs = next_obs
    return returns
