# planted bug: returns (meta_test, meta_train) instead of (meta_train, meta_test)
# cell: split_tasks
# loses: test_split_tasks
# message: swapped sizes
def split_tasks(tasks, n_test, seed):
    perm = np.random.default_rng(seed).permutation(len(tasks))
    return [tasks[i] for i in perm[:n_test]], [tasks[i] for i in perm[n_test:]]
