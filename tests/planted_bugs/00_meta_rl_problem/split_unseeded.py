# planted bug: the permutation ignores the seed, so the split is not reproducible
# cell: split_tasks
# loses: test_split_tasks
# message: different splits
def split_tasks(tasks, n_test, seed):
    perm = np.random.permutation(len(tasks))
    return [tasks[i] for i in perm[n_test:]], [tasks[i] for i in perm[:n_test]]
