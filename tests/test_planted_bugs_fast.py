"""Every planted bug against the graded test cells, in-process (seconds, no nbgrader).

The nbgrader round trip proves the same with the real grader; this fast twin runs in
``make test-fast`` and also checks that the feedback names the mistake.
"""

from __future__ import annotations

import re

import pytest

from grading_harness import load_planted_bugs, run_graded_cells
from metarl_course import pipeline

BUGS = [bug for unit in pipeline.list_units() for bug in load_planted_bugs(unit)]


@pytest.mark.parametrize("unit", pipeline.list_units())
def test_solutions_pass_every_graded_cell(unit):
    outcome = run_graded_cells(unit)
    assert outcome and all(message is None for message in outcome.values()), outcome


@pytest.mark.parametrize("bug", BUGS, ids=[f"{b.unit}/{b.name}" for b in BUGS])
def test_planted_bug_fails_exactly_its_cells_with_a_useful_message(bug):
    outcome = run_graded_cells(bug.unit, {bug.cell: bug.source})
    failed = {gid for gid, message in outcome.items() if message is not None}
    assert failed == set(bug.loses), f"{bug.description}: failed {failed}, expected {bug.loses}"
    if bug.message:
        messages = " | ".join(outcome[gid] for gid in bug.loses)
        assert re.search(bug.message, messages), f"feedback does not name the mistake: {messages}"
