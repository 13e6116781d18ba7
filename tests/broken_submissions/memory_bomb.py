# broken: one huge allocation, beyond the memory limit
# edit: replace square
# loses: test_square
# status: ^MemoryError in cell square
# feedback: MemoryError
hoard = bytearray(64 * 2**30)

def square(x):
    return x * x
