# planted bug: never moves on to the next observation, so the agent acts on the first one all episode
# cell: evaluate_adaptation
# loses: test_evaluate_adaptation
# message: current observation
def evaluate_adaptation(make_agent, env, tasks, n_episodes):
    returns = np.zeros((len(tasks), n_episodes))
    for i, task in enumerate(tasks):
        env.reset_task(task)
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
    return returns
