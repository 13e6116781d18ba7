"""The grading round trip, with nbgrader itself, for every unit.

- the solution notebooks get full marks;
- the untouched student notebooks get 0 on every graded cell, without crashing the grader;
- a planted bug for each graded cell loses the points of exactly the cells it names, and
  no other cell's;
- every graded cell is caught by at least one planted bug.

Each nbgrader submission costs a full notebook execution, so the round trip takes one
planted bug per graded cell (``representative_bugs``); every planted bug goes through the
same graded cells in-process in ``test_planted_bugs_fast``.
"""

from __future__ import annotations

import csv

import nbformat
import pytest

from grading_harness import (filled_student_notebook, graded_cells, load_planted_bugs, read_units,
                             solution_cells, write_submission)
from metarl_course import pipeline

UNITS = pipeline.list_units()


@pytest.mark.parametrize("unit", UNITS)
def test_every_graded_cell_has_a_planted_bug(unit):
    solution, _ = read_units(unit)
    bugs = load_planted_bugs(unit)
    caught = {cell for bug in bugs for cell in bug.loses}
    assert set(graded_cells(solution)) <= caught, f"graded cells without a planted bug: {set(graded_cells(solution)) - caught}"
    for bug in bugs:
        assert bug.cell in solution_cells(solution), f"{bug.name}: no solution cell {bug.cell!r}"
        assert set(bug.loses) <= set(graded_cells(solution)), f"{bug.name}: unknown graded cells {bug.loses}"


def representative_bugs(unit: str):
    """The first planted bug (by name) that costs each graded cell."""
    chosen = {}
    for bug in load_planted_bugs(unit):
        for cell in bug.loses:
            chosen.setdefault(cell, bug)
    return sorted({bug.name: bug for bug in chosen.values()}.values(), key=lambda bug: bug.name)


@pytest.fixture(scope="module", params=UNITS)
def graded(request, tmp_path_factory):
    """Autograde, in one nbgrader run: the solutions, the blank notebook, one submission per bug."""
    unit = request.param
    submissions = tmp_path_factory.mktemp(f"submitted-{unit}")
    solution, student = read_units(unit)
    write_submission(submissions, "solutions", unit, solution)
    write_submission(submissions, "blank", unit, student)
    write_submission(submissions, "diligent", unit, filled_student_notebook(unit))
    bugs = representative_bugs(unit)
    for bug in bugs:
        write_submission(submissions, f"bug-{bug.name}", unit, filled_student_notebook(unit, {bug.cell: bug.source}))
    out = tmp_path_factory.mktemp(f"grades-{unit}")
    report = pipeline.grade(unit, submissions, out, jobs=2)
    return unit, report, bugs, graded_cells(solution), out


@pytest.mark.slow
def test_solutions_and_filled_notebooks_get_full_marks(graded):
    unit, report, _, points, _ = graded
    rows = report.by_student()
    for student in ("solutions", "diligent"):
        scores = {cell: rows[student][cell] for cell in points}
        assert scores == points, f"{unit}: {student} lost points: {scores} vs max {points}"
        assert rows[student]["total"] == sum(points.values())


@pytest.mark.slow
def test_untouched_student_notebook_gets_zero_everywhere(graded):
    unit, report, _, points, _ = graded
    row = report.by_student()["blank"]
    assert {cell: row[cell] for cell in points} == {cell: 0.0 for cell in points}
    assert row["status"] == "ok"  # graded, not crashed


@pytest.mark.slow
def test_each_planted_bug_loses_exactly_its_cells(graded):
    unit, report, bugs, points, _ = graded
    rows = report.by_student()
    for bug in bugs:
        row = rows[f"bug-{bug.name}"]
        lost = {cell for cell in points if row[cell] < points[cell]}
        assert lost == set(bug.loses), f"{unit}/{bug.name} ({bug.description}): lost {lost}, expected {bug.loses}"


@pytest.mark.slow
def test_grades_csv_has_one_row_per_student_and_the_maximum(graded):
    unit, report, bugs, points, out = graded
    with open(out / "grades.csv") as f:
        rows = list(csv.DictReader(f))
    assert rows[0]["student"] == "(max)" and float(rows[0]["total"]) == sum(points.values())
    assert sorted(r["student"] for r in rows[1:]) == sorted(["solutions", "blank", "diligent"] + [f"bug-{b.name}" for b in bugs])
    assert list(rows[0].keys()) == ["student", *points.keys(), "total", "status"]
    autograded = out / "autograded" / "solutions" / unit / f"{unit}.ipynb"
    assert nbformat.read(autograded, as_version=4).cells, "the autograded notebooks are kept for feedback"
