# broken: the student deleted an answer cell
# edit: delete mean
# loses: test_mean
# status: ^answer cell mean was deleted \(its empty version was restored before your cells\)$
