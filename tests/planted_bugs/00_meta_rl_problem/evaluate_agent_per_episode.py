# planted bug: a new agent every episode, so nothing is remembered across episodes of a task
# cell: evaluate_adaptation
# loses: test_evaluate_adaptation
# message: new agent was made for every episode
def evaluate_adaptation(make_agent, env, tasks, n_episodes):
    returns = np.zeros((len(tasks), n_episodes))
    for i, task in enumerate(tasks):
        env.reset_task(task)
        for k in range(n_episodes):
            agent = make_agent()
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
