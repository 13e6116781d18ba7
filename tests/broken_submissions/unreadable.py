# broken: the file is not a notebook any more (truncated JSON)
# edit: file
# loses: test_square, test_mean, test_normalise
# status: ^unreadable notebook
{"cells": [{"cell_type": "code", "source": "def square(x):
