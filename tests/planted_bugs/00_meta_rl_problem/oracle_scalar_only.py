# planted bug: written for one robot only; wrong for a batch (B, 2), which only the hidden tests try
# cell: oracle_action
# loses: test_oracle_action
# message: a batch of shape
def oracle_action(position, goal):
    dx = min(max(goal[0] - position[0], -0.1), 0.1)
    dy = min(max(goal[1] - position[1], -0.1), 0.1)
    return np.array([dx, dy])
