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


def _evaluate_variant(fresh_per_episode=False, reset_task=True, observe=True):
    def evaluate(make_agent, env, tasks, n):
        returns = np.zeros((len(tasks), n))
        for i, task in enumerate(tasks):
            if reset_task:
                env.reset_task(task)
            agent = make_agent()
            for k in range(n):
                if fresh_per_episode:
                    agent = make_agent() if k else agent
                obs, _ = env.reset()
                done = False
                while not done:
                    action = agent.act(obs)
                    nxt, r, term, trunc, _ = env.step(action)
                    done = term or trunc
                    if observe:
                        agent.observe(obs, action, r, nxt, done)
                    returns[i, k] += r
                    obs = nxt
        return returns
    return evaluate


@pytest.mark.parametrize("student, hint", [
    (_evaluate_variant(fresh_per_episode=True), "new agent was made for every episode"),
    (_evaluate_variant(reset_task=False), "reset_task"),
    (_evaluate_variant(observe=False), "agent.observe"),
])
def test_evaluate_mistakes_are_named(student, hint):
    with pytest.raises(CheckFailure, match=hint):
        checks.check_evaluate_adaptation(student)


def test_evaluate_that_ignores_termination_is_stopped_not_hung():
    def only_truncation(make_agent, env, tasks, n):
        out = np.zeros((len(tasks), n))
        for i, task in enumerate(tasks):
            env.reset_task(task)
            agent = make_agent()
            for k in range(n):
                obs, _ = env.reset()
                trunc = False
                while not trunc:
                    obs, r, term, trunc, _ = env.step(agent.act(obs))
                    out[i, k] += r
        return out
    with pytest.raises(CheckFailure, match="after the episode ended"):
        checks.check_evaluate_adaptation(only_truncation, family="bandit")


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
