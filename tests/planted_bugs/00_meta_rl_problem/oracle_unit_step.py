# planted bug: moves a step of length 0.1 toward the goal (a disc, not the box of actions)
# cell: oracle_action
# loses: test_oracle_action
# message: right direction, wrong length
def oracle_action(position, goal):
    direction = np.asarray(goal) - np.asarray(position)
    distance = np.linalg.norm(direction, axis=-1, keepdims=True)
    return direction * np.minimum(1.0, 0.1 / np.maximum(distance, 1e-12))
