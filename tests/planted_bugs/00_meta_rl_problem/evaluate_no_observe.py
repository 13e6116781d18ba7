# planted bug: the agent never observes its transitions, so it cannot learn within a task
# cell: evaluate_adaptation
# loses: test_evaluate_adaptation
# message: agent.observe
def evaluate_adaptation(make_agent, env, tasks, n_episodes):
    returns = np.zeros((len(tasks), n_episodes))
    for i, task in enumerate(tasks):
        env.reset_task(task)
        agent = make_agent()
        for k in range(n_episodes):
            obs, info = env.reset()
            done = False
            while not done:
                obs, reward, terminated, truncated, info = env.step(agent.act(obs))
                done = terminated or truncated
                returns[i, k] += reward
    return returns
