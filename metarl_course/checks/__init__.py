"""Graded checks: what the notebooks' test cells call, one module per unit.

A check runs the student's function on seeded inputs, compares the result with the
reference implementation or a hand-derived value, and prints one line per passed case.
On the first wrong case it raises ``CheckFailure`` (an ``AssertionError``, which is
what nbgrader counts as a failed test) with a message in the student's terms: which
input, what was expected, what came back, and the likely mistake.
"""

from metarl_course.checks._core import CheckFailure

__all__ = ["CheckFailure"]
