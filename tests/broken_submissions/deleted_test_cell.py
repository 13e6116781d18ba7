# broken: the student deleted a test cell: it is restored and run
# edit: delete test_mean
# loses: none
# status: ^deleted cell test_mean \(restored\)$
