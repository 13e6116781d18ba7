# broken: nothing: a scratch cell added at the end is normal and changes nothing
# edit: append
# loses: none
# status: ^ok$
print("my own experiments", square(12))
