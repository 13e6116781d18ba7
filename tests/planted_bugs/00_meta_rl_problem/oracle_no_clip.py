# planted bug: the oracle forgets that actions are clipped
# cell: oracle_action
# loses: test_oracle_action
# message: clipped to \[-0.1, 0.1\]
def oracle_action(position, goal):
    return np.asarray(goal) - np.asarray(position)
