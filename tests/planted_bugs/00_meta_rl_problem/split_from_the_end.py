# planted bug: the meta-test set is taken from the end of the permutation
# cell: split_tasks
# loses: test_split_tasks
# message: not the meta-test tasks the seed selects
def split_tasks(tasks, n_test, seed):
    perm = np.random.default_rng(seed).permutation(len(tasks))
    cut = len(tasks) - n_test
    return [tasks[i] for i in perm[:cut]], [tasks[i] for i in perm[cut:]]
