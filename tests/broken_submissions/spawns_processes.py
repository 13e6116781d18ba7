# broken: the answer starts a background process and a double-forked daemon that try to outlive grading
# edit: replace normalise
# loses: none
# status: ^ok$
import math, os, subprocess
subprocess.Popen(["sleep", "4321.5"], start_new_session=True)
if os.fork() == 0:
    if os.fork() == 0:
        os.setsid()
        os.execvp("sleep", ["sleep", "4321.6"])
    os._exit(0)

def normalise(v):
    norm = math.sqrt(sum(x * x for x in v))
    return [x / norm for x in v]
