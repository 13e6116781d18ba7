# broken: memory grows until the limit (64 MiB at a time)
# edit: replace mean
# loses: test_mean
# status: ^MemoryError in cell mean
hoard = []
while True:
    hoard.append(bytearray(2**26))
