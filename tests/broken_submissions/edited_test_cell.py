# broken: an unanswered notebook whose test cell was replaced by `pass`: the instructor's test runs
# base: blank
# edit: replace test_square
# loses: test_square, test_mean, test_normalise
# status: ^edited locked cell test_square \(restored\)$
pass
