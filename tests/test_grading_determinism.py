"""Every check is seeded: 20 gradings in a row give the solutions full marks and the blank notebooks 0.

Each repetition runs every graded cell (hidden tests included) of every unit, in-process,
after putting Python's, NumPy's and torch's global random generators in a different state:
a check that drew from a global generator instead of its own seed would pass some
repetitions and fail others. The nbgrader round trip (``test_grading_roundtrip``) grades
the same notebooks once more with the real grader.
"""

from __future__ import annotations

import random

import numpy as np
import pytest
import torch

from grading_harness import nbgrader_meta, read_units, run_graded_cells
from metarl_course import pipeline

REPEATS = 20


def blank_answers(unit: str) -> dict[str, str]:
    """The untouched student notebook's answer cells (``raise NotImplementedError()``)."""
    _, student = read_units(unit)
    return {nbgrader_meta(c)["grade_id"]: c.source for c in student.cells
            if nbgrader_meta(c).get("solution") and not nbgrader_meta(c).get("grade")}


def scramble_global_generators(repeat: int) -> None:
    random.seed(1000 + repeat)
    np.random.seed(2000 + repeat)
    torch.manual_seed(3000 + repeat)


@pytest.mark.slow
@pytest.mark.parametrize("unit", pipeline.list_units())
def test_twenty_gradings_in_a_row(unit):
    blank = blank_answers(unit)
    for repeat in range(REPEATS):
        scramble_global_generators(repeat)
        solved = run_graded_cells(unit)
        assert solved and all(m is None for m in solved.values()), f"repeat {repeat}: the solutions failed {solved}"
        scramble_global_generators(repeat)
        unanswered = run_graded_cells(unit, blank)
        passed = [cell for cell, message in unanswered.items() if message is None]
        assert not passed, f"repeat {repeat}: the blank notebook passed {passed}"
