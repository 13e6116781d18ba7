# broken: a sleep that never ends in an answer cell
# edit: replace mean
# loses: test_mean
# status: ^timeout in cell mean \(3 s\)$
import time
time.sleep(10**6)

def mean(xs):
    return sum(xs) / len(xs)
