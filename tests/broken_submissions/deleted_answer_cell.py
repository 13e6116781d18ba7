# broken: the student deleted an answer cell
# edit: delete mean
# loses: test_mean
# status: ^answer cell mean was deleted \(graded as unanswered\)$
