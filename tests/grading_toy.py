"""A three-exercise course unit for testing the grader itself, and its corpus of broken submissions.

The kit's real units take tens of seconds per notebook; the grader's failure modes
(timeouts, dead kernels, tampering, escapes from the sandbox) do not depend on what the
exercises teach, so they are tested on ``toy``: a notebook that imports nothing but
``math``, graded by exactly the same ``metarl-course grade`` pipeline.

A broken submission is a file ``tests/broken_submissions/<name>.py``: a header saying how
to make it from the toy's student notebook and what the grader must report, then a body::

    # broken: an endless loop at the top level of an answer cell
    # base: filled              (filled: every answer correct; blank: the untouched release)
    # edit: replace square      (replace GRADE_ID | delete GRADE_ID | move GRADE_ID INDEX | append | file)
    # loses: test_square        (the graded cells that must get 0; "none" for none)
    # status: timeout in cell square      (a regular expression the status column must match)
    # feedback: NameError       (optional: a regular expression the feedback must show)
    # never: LEAKED             (optional: a regular expression that must not appear in the outputs)
    while True:
        pass

``@@SUBMISSIONS@@``, ``@@ROOT@@``, ``@@REPO@@`` and ``@@PORT@@`` in a body are replaced by
the submissions folder, the toy course's root, the repository and the port of a TCP
server the test listens on, so that an escape attempt knows exactly where to look.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from grading_harness import read_header

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO / "tests" / "broken_submissions"
UNIT = "toy"

CONFIG = """c = get_config()
c.CourseDirectory.course_id = "toy"
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "notebooks"
c.Execute.timeout = 3
c.Execute.interrupt_on_timeout = True
c.SafeExecute.kill_grace = 3
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\\nraise NotImplementedError()"}
"""

ANSWERS = {
    "square": "def square(x):\n    return x * x",
    "mean": "def mean(xs):\n    return sum(xs) / len(xs)",
    "normalise": "def normalise(v):\n    norm = math.sqrt(sum(x * x for x in v))\n    return [x / norm for x in v]",
}
TESTS = {
    "test_square": (2, 'assert square(3) == 9, f"square(3) should be 9, got {square(3)!r}"',
                    'assert square(-2) == 4, "square(-2) should be 4"'),
    "test_mean": (1, "value = mean([1.0, 2.0, 4.5])\n"
                     'assert isinstance(value, float), f"mean should return a float, got {type(value).__name__}"\n'
                     'assert math.isfinite(value), f"mean([1, 2, 4.5]) returned {value}: not a finite number"\n'
                     'assert abs(value - 2.5) < 1e-12, f"mean([1, 2, 4.5]) should be 2.5, got {value}"',
                  'assert mean([4.0]) == 4.0, "mean([4.0]) should be 4.0"'),
    "test_normalise": (2, "v = normalise([3.0, 4.0])\n"
                          'assert all(math.isfinite(x) for x in v), f"normalise returned {v}: not finite numbers"\n'
                          'assert max(abs(a - b) for a, b in zip(v, [0.6, 0.8])) < 1e-12, f"got {v}"',
                       'assert abs(sum(x * x for x in normalise([1.0, 1.0, 1.0])) - 1) < 1e-12'),
}
POINTS = {name: float(points) for name, (points, _, _) in TESTS.items()}


def _meta(grade_id: str, *, solution=False, grade=False, locked=False, points=0) -> dict:
    meta = {"grade_id": grade_id, "solution": solution, "grade": grade, "locked": locked, "schema_version": 3}
    if grade:
        meta["points"] = points
    return {"nbgrader": meta}


def solution_notebook() -> nbformat.NotebookNode:
    cells = [new_markdown_cell("# A toy unit for testing the grader"),
             new_code_cell("import math", metadata=_meta("setup", locked=True))]
    for answer, test in zip(ANSWERS, TESTS):
        body = ANSWERS[answer].split("\n", 1)
        source = f"{body[0]}\n    ### BEGIN SOLUTION\n{body[1]}\n    ### END SOLUTION"
        cells.append(new_markdown_cell(f"Write `{answer}`."))
        cells.append(new_code_cell(source, metadata=_meta(answer, solution=True)))
        points, visible, hidden = TESTS[test]
        cells.append(new_code_cell(f"{visible}\n### BEGIN HIDDEN TESTS\n{hidden}\n### END HIDDEN TESTS",
                                   metadata=_meta(test, grade=True, locked=True, points=points)))
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb


def write_course(root: Path) -> Path:
    """A course folder ``root`` holding the toy unit's solutions and its released student notebook."""
    from metarl_course import pipeline

    (root / "solutions" / UNIT).mkdir(parents=True, exist_ok=True)
    (root / "nbgrader_config.py").write_text(CONFIG)
    nbformat.write(solution_notebook(), root / "solutions" / UNIT / f"{UNIT}.ipynb")
    pipeline.release([UNIT], root=root)
    return root


def student_notebook(root: Path, filled: bool) -> nbformat.NotebookNode:
    nb = nbformat.read(root / "notebooks" / UNIT / f"{UNIT}.ipynb", as_version=4)
    if filled:
        for cell in nb.cells:
            gid = cell.metadata.get("nbgrader", {}).get("grade_id")
            if gid in ANSWERS:
                cell.source = ANSWERS[gid]
    return nb


@dataclass
class Broken:
    name: str
    description: str
    base: str
    edit: str
    loses: list[str]
    status: str
    body: str
    feedback: str | None = None
    never: str | None = None


def load_corpus() -> list[Broken]:
    cases = []
    for path in sorted(CORPUS.glob("*.py")):
        header, body = read_header(path)
        loses = [] if header["loses"] == "none" else [c.strip() for c in header["loses"].split(",")]
        cases.append(Broken(path.stem, header["broken"], header.get("base", "filled"), header["edit"], loses,
                            header["status"], "\n".join(body).strip("\n"), header.get("feedback"), header.get("never")))
    return cases


def write_broken(case: Broken, root: Path, submissions: Path, substitutions: dict[str, str]) -> None:
    """Write ``submissions/<case.name>/toy/toy.ipynb`` as the case's header says."""
    body = case.body
    for key, value in substitutions.items():
        body = body.replace(f"@@{key}@@", value)
    folder = submissions / case.name / UNIT
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{UNIT}.ipynb"
    verb, *args = case.edit.split()
    if verb == "file":
        path.write_text(body)
        return
    nb = student_notebook(root, filled=case.base == "filled")
    index = {c.metadata.get("nbgrader", {}).get("grade_id"): i for i, c in enumerate(nb.cells)}
    if verb == "replace":
        nb.cells[index[args[0]]].source = body
    elif verb == "delete":
        del nb.cells[index[args[0]]]
    elif verb == "move":
        cell = nb.cells.pop(index[args[0]])
        nb.cells.insert(int(args[1]), cell)
    elif verb == "append":
        nb.cells.append(new_code_cell(body))
    else:
        raise ValueError(f"{case.name}: unknown edit {case.edit!r}")
    nbformat.write(copy.deepcopy(nb), path)
