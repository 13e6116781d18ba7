"""The unit-00 checks accept correct code and name the mistake in wrong code."""

from __future__ import annotations

import numpy as np
import pytest

from metarl_course import evaluation, nav_agents
from metarl_course.checks import CheckFailure
from metarl_course.checks import unit00 as checks


def correct_split(tasks, n_test, seed):
    return evaluation.split_tasks(tasks, n_test, seed)


def correct_evaluate(make_agent, env, tasks, n):
    return evaluation.evaluate_adaptation(make_agent, env, tasks, n)


def test_correct_functions_pass_all_cases():
    checks.check_split_tasks(correct_split, cases=[(10, 3, 0), (4, 4, 1), (4, 0, 2)])
    checks.check_split_tasks(lambda t, n, s: list(correct_split(t, n, s)))   # a pair as a list unpacks the same
    checks.check_oracle_action(lambda p, g: np.clip(g - p, -0.1, 0.1), seeds=[0, 1], batched=True)
    checks.check_evaluate_adaptation(correct_evaluate)
    checks.check_evaluate_adaptation(correct_evaluate, family="bandit")
    checks.check_infer_goal(lambda p, r: nav_agents.infer_goal(p, r), seeds=[0, 1, 2])


@pytest.mark.parametrize("student, hint", [
    (lambda t, n, s: correct_split(t, n, s)[::-1], "swapped"),
    (lambda t, n, s: (list(t[n:]), list(t[:n])), "not the meta-test tasks the seed selects"),
    (lambda t, n, s: correct_split(t, n, np.random.randint(1000)), "different splits"),
    (lambda t, n, s: 42, "must return a tuple"),
])
def test_split_mistakes_are_named(student, hint):
    with pytest.raises(CheckFailure, match=hint):
        checks.check_split_tasks(student)


@pytest.mark.parametrize("student, hint", [
    (lambda p, g: g - p, "clipped"),
    (lambda p, g: np.clip(p - g, -0.1, 0.1), "sign is flipped"),
    (lambda p, g: 0.1 * (g - p) / np.linalg.norm(g - p), "right direction, wrong length"),
    (lambda p, g: [np.nan, 0.0], "NaN"),
])
def test_oracle_mistakes_are_named(student, hint):
    with pytest.raises(CheckFailure, match=hint):
        checks.check_oracle_action(student)


# The wrong versions of evaluate_adaptation are planted bugs (tests/planted_bugs/), run with
# their expected messages by test_planted_bugs_fast.py and through nbgrader by the round trip.


def test_unimplemented_and_reference_functions_are_refused():
    def todo(tasks, n_test, seed):
        raise NotImplementedError()
    with pytest.raises(CheckFailure, match="not implemented yet"):
        checks.check_split_tasks(todo)
    with pytest.raises(CheckFailure, match="reference implementation"):
        checks.check_split_tasks(evaluation.split_tasks)


def test_infer_goal_mistakes_are_named():
    with pytest.raises(CheckFailure, match="not the goal"):
        checks.check_infer_goal(lambda p, r: p[np.argmax(r)])
    with pytest.raises(CheckFailure, match="the goal"):
        checks.check_infer_goal(lambda p, r: np.zeros(2))
