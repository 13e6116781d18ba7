# broken: the answer tries to read the solutions, the hidden tests, the gradebook and another student's work, and to overwrite it
# edit: replace square
# loses: none
# status: ^ok$
# feedback: blocked: 9 of 9
# never: LEAKED
import os
attempts = ["@@ROOT@@/solutions/toy/toy.ipynb", "@@ROOT@@/nbgrader_config.py", "@@REPO@@/tests/grading_toy.py",
            "@@SUBMISSIONS@@/good/toy/toy.ipynb", "../../../source/toy/toy.ipynb", "../../../gradebook.db",
            "../../../nbgrader_config.py", "../../../events.jsonl"]
blocked = 0
for path in attempts:
    try:
        with open(path) as f:
            print("LEAKED", path, f.read(80))
    except OSError:
        blocked += 1
try:
    with open("@@SUBMISSIONS@@/good/toy/toy.ipynb", "w") as f:
        f.write("{}")
    print("LEAKED: overwrote another submission")
except OSError:
    blocked += 1
print(f"blocked: {blocked} of {len(attempts) + 1}")

def square(x):
    return x * x
