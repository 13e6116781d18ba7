# broken: an endless loop at the top level of an answer cell
# edit: replace square
# loses: test_square
# status: ^timeout in cell square \(3 s\)$
# feedback: ran longer than the grading limit of 3 s
while True:
    pass

def square(x):
    return x * x
