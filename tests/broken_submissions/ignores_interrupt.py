# broken: an endless loop that swallows the interrupt: the kernel is killed and the later cells are not run
# edit: replace mean
# loses: test_mean, test_normalise
# status: timeout in cell mean \(3 s\); the kernel ignored the interrupt in cell mean and was killed
# feedback: not run: the kernel did not stop after the timeout in cell mean
import time
while True:
    try:
        time.sleep(0.1)
    except KeyboardInterrupt:
        pass
