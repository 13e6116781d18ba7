# broken: the right number as the wrong type
# edit: replace mean
# loses: test_mean
# status: ^ok$
# feedback: mean should return a float, got str
def mean(xs):
    return str(sum(xs) / len(xs))
