# broken: a function that loops forever when the test calls it: the test cell times out
# edit: replace square
# loses: test_square
# status: ^timeout in cell test_square \(3 s\)$
def square(x):
    while x == x:
        pass
