# planted bug: returns the context point with the highest reward instead of solving for the goal
# cell: infer_goal
# loses: test_infer_goal
# message: not the goal
def infer_goal(positions, rewards):
    return np.asarray(positions)[np.argmax(rewards)]
