# broken: NaN instead of a number
# edit: replace mean
# loses: test_mean
# status: ^ok$
# feedback: returned nan: not a finite number
def mean(xs):
    return float("nan")
