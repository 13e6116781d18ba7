# broken: infinite outputs
# edit: replace normalise
# loses: test_normalise
# status: ^ok$
# feedback: normalise returned \[inf, inf\]: not finite numbers
def normalise(v):
    return [float("inf") for _ in v]
