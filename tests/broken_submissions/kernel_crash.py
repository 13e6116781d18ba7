# broken: a segmentation fault kills the kernel; what ran before is graded, nothing after passes
# edit: replace mean
# loses: test_mean, test_normalise
# status: ^kernel died in cell mean: the kernel crashed \(segmentation fault\); later cells not run$
# feedback: not run: the kernel crashed \(segmentation fault\) in cell mean
import ctypes
ctypes.string_at(0)
