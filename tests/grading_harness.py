"""Build nbgrader submissions from the solution and student notebooks, with planted bugs.

A planted bug is a file ``tests/planted_bugs/<unit>/<name>.py``: a small, plausible wrong
version of one solution cell. Its header says which solution cell it replaces and which
graded cells must lose their points::

    # planted bug: the meta-test set is taken from the end of the permutation
    # cell: split_tasks
    # loses: test_split_tasks
    # message: not the meta-test tasks the seed selects
    def split_tasks(tasks, n_test, seed):
        ...

``message`` (optional) is a regular expression the check's failure message must match,
so that the feedback names the mistake. Every other solution cell of the submission holds the instructor's solution, so the bug
must cost exactly the cells named in ``loses`` and nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import nbformat

REPO = Path(__file__).resolve().parent.parent


@dataclass
class PlantedBug:
    unit: str
    name: str
    description: str
    cell: str
    loses: list[str]
    source: str
    message: str | None = None


def read_header(path: Path) -> tuple[dict[str, str], list[str]]:
    """The ``# key: value`` lines at the top of a planted bug or broken submission, and the rest."""
    header, body = {}, []
    for line in path.read_text().splitlines():
        if not body and line.startswith("# ") and ":" in line:
            key, value = line[2:].split(":", 1)
            header[key.strip()] = value.strip()
        else:
            body.append(line)
    return header, body


def load_planted_bugs(unit: str) -> list[PlantedBug]:
    bugs = []
    for path in sorted((REPO / "tests" / "planted_bugs" / unit).glob("*.py")):
        header, body = read_header(path)
        bugs.append(PlantedBug(unit, path.stem, header["planted bug"], header["cell"],
                               [c.strip() for c in header["loses"].split(",")], "\n".join(body).strip(),
                               header.get("message")))
    return bugs


def nbgrader_meta(cell) -> dict:
    return cell.metadata.get("nbgrader", {})


def solution_cells(notebook) -> dict[str, str]:
    """grade_id -> source of every autograded-answer cell."""
    return {nbgrader_meta(c)["grade_id"]: c.source for c in notebook.cells
            if nbgrader_meta(c).get("solution") and not nbgrader_meta(c).get("grade")}


def graded_cells(notebook) -> dict[str, float]:
    """grade_id -> points of every graded test cell."""
    return {nbgrader_meta(c)["grade_id"]: float(nbgrader_meta(c)["points"]) for c in notebook.cells
            if nbgrader_meta(c).get("grade") and not nbgrader_meta(c).get("solution")}


def read_units(unit: str):
    solution = nbformat.read(REPO / "solutions" / unit / f"{unit}.ipynb", as_version=4)
    student = nbformat.read(REPO / "notebooks" / unit / f"{unit}.ipynb", as_version=4)
    return solution, student


def filled_student_notebook(unit: str, replacements: dict[str, str] | None = None):
    """The student notebook with every answer cell filled in, as a diligent student would.

    Answers come from the solutions (with the BEGIN/END SOLUTION markers removed), except
    the cells named in ``replacements``.
    """
    solution, student = read_units(unit)
    answers = {gid: _strip_markers(src) for gid, src in solution_cells(solution).items()}
    answers.update(replacements or {})
    for cell in student.cells:
        gid = nbgrader_meta(cell).get("grade_id")
        if gid in answers and nbgrader_meta(cell).get("solution"):
            cell.source = answers[gid]
    return student


def _strip_markers(source: str) -> str:
    return "\n".join(line for line in source.splitlines()
                     if line.strip() not in ("### BEGIN SOLUTION", "### END SOLUTION"))


def write_submission(folder: Path, student: str, unit: str, notebook) -> None:
    target = folder / student / unit
    target.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, target / f"{unit}.ipynb")


def run_graded_cells(unit: str, replacements: dict[str, str] | None = None) -> dict[str, str | None]:
    """Grade in-process, without nbgrader: the fast twin of the round trip.

    Executes the setup cell, every answer cell (the solutions, or ``replacements``) and
    every graded test cell, hidden tests included, in notebook order; returns
    grade_id -> None when the test cell passed, else the failure message.
    """
    solution, _ = read_units(unit)
    namespace: dict = {"__name__": "__main__"}
    outcome: dict[str, str | None] = {}
    for cell in solution.cells:
        meta = nbgrader_meta(cell)
        gid = meta.get("grade_id")
        if cell.cell_type != "code" or not (gid == "setup" or meta.get("solution") or meta.get("grade")):
            continue
        source = (replacements or {}).get(gid, cell.source)
        if meta.get("grade"):
            try:
                exec(source, namespace)
                outcome[gid] = None
            except Exception as error:  # a failed test cell, as nbgrader would count it
                outcome[gid] = f"{type(error).__name__}: {error}"
        else:
            exec(source, namespace)
    return outcome


def assert_refuses_reference_and_unimplemented(check, reference) -> None:
    """A check must refuse the package's own function (handed in instead of the student's) and a
    function that still raises NotImplementedError, each with its own message."""
    import pytest

    from metarl_course.checks import CheckFailure

    with pytest.raises(CheckFailure, match="reference implementation"):
        check(reference)

    def todo(*args, **kwargs):
        raise NotImplementedError()
    with pytest.raises(CheckFailure, match="not implemented yet"):
        check(todo)
