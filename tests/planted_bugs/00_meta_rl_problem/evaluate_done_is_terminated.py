# planted bug: tells the agent only about termination, so a navigation episode (truncated at the horizon) never ends for it
# cell: evaluate_adaptation
# loses: test_evaluate_adaptation
# message: done = terminated or truncated
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
                agent.observe(obs, action, reward, next_obs, terminated)
                done = terminated or truncated
                returns[i, k] += reward
                obs = next_obs
    return returns
