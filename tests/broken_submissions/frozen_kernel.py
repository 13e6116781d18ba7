# broken: the kernel freezes itself (SIGSTOP): it answers nothing, so it is killed and the later cells are not run
# edit: replace mean
# loses: test_mean, test_normalise
# status: timeout in cell mean \(3 s\); the kernel ignored the interrupt in cell mean and was killed
import os, signal
os.kill(os.getpid(), signal.SIGSTOP)
