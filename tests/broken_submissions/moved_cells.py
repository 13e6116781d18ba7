# broken: a test cell moved to the top of the notebook: the release's order is restored
# edit: move test_normalise 0
# loses: none
# status: ^cells moved \(the release's order was restored\)$
