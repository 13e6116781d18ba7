# broken: the locked setup cell was edited: it is restored
# edit: replace setup
# loses: none
# status: ^edited locked cell setup \(restored\)$
math = None
