# broken: the kernel process exits in the middle of the notebook
# edit: replace normalise
# loses: test_normalise
# status: ^kernel died in cell normalise: the kernel exited with code 3; later cells not run$
import os
os._exit(3)
