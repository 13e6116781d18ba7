# broken: a syntax error in one answer cell; the other exercises are graded as usual
# edit: replace square
# loses: test_square
# status: ^ok$
# feedback: SyntaxError
def square(x)
    return x * x
