# planted bug: uses the distances instead of their squares in the linear system
# cell: infer_goal
# loses: test_infer_goal
# message: squared distances
def infer_goal(positions, rewards):
    x = np.asarray(positions, dtype=float)
    c = (x ** 2).sum(axis=1) - np.abs(np.asarray(rewards, dtype=float))
    A = 2 * (x[1:] - x[0])
    b = c[1:] - c[0]
    return np.linalg.lstsq(A, b, rcond=None)[0]
