# broken: the student's function raises
# edit: replace square
# loses: test_square
# status: ^ok$
# feedback: ValueError: negative numbers are not supported
def square(x):
    raise ValueError("negative numbers are not supported")
