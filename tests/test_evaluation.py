"""The evaluation protocol and the hand-written navigation agents, against hand-derived values."""

from __future__ import annotations

import numpy as np
import pytest

from metarl_course import nav_agents
from metarl_course.envs import Navigation2DEnv
from metarl_course.evaluation import evaluate_adaptation, mean_and_stderr, split_tasks


def test_split_tasks_is_a_seeded_permutation():
    tasks = [{"goal": np.array([i, 0.0])} for i in range(6)]
    train, test = split_tasks(tasks, 2, seed=0)
    perm = np.random.default_rng(0).permutation(6)
    assert [t["goal"][0] for t in test] == list(perm[:2])
    assert [t["goal"][0] for t in train] == list(perm[2:])
    with pytest.raises(ValueError):
        split_tasks(tasks, 7, seed=0)


def test_oracle_return_is_hand_derived():
    # goal (0.25, 0): positions 0.1, 0.2, 0.25 then stay -> rewards -0.15, -0.05, 0, 0, ...
    env = Navigation2DEnv(horizon=100)
    task = {"goal": np.array([0.25, 0.0])}
    returns = evaluate_adaptation(lambda: nav_agents.OracleAgent(task["goal"]), env, [task], 2)
    np.testing.assert_allclose(returns, [[-0.2, -0.2]], atol=1e-6)


def test_oracle_action_is_the_clipped_displacement():
    np.testing.assert_allclose(nav_agents.oracle_action(np.zeros(2), np.array([0.3, -0.05])), [0.1, -0.05])
    batch = nav_agents.oracle_action(np.zeros((2, 2)), np.array([[0.3, 0.3], [-0.01, 0.2]]))
    np.testing.assert_allclose(batch, [[0.1, 0.1], [-0.01, 0.1]])


def test_infer_goal_is_exact_from_three_points():
    goal = np.array([0.31, -0.22])
    positions = np.array([[0.1, 0.0], [0.1, 0.1], [0.0, 0.1]])
    rewards = -np.linalg.norm(positions - goal, axis=1)
    np.testing.assert_allclose(nav_agents.infer_goal(positions, rewards), goal, atol=1e-10)


def test_probe_then_go_matches_the_oracle_from_the_second_episode():
    env = Navigation2DEnv()
    tasks = env.sample_tasks(10, seed=3)
    probe = evaluate_adaptation(nav_agents.ProbeThenGoAgent, env, tasks, 3)
    oracle = np.concatenate([evaluate_adaptation(lambda t=t: nav_agents.OracleAgent(t["goal"]), env, [t], 3) for t in tasks])
    np.testing.assert_allclose(probe[:, 1:], oracle[:, 1:], atol=1e-5)
    assert np.all(probe[:, 0] < oracle[:, 0])  # probing costs something in episode 1


def test_stay_agent_scores_minus_horizon_times_distance():
    env = Navigation2DEnv(horizon=100)
    task = {"goal": np.array([0.3, 0.4])}
    np.testing.assert_allclose(evaluate_adaptation(nav_agents.StayAgent, env, [task], 1), [[-50.0]])


def test_search_then_go_improves_across_episodes_on_sparse_navigation():
    env = Navigation2DEnv(goal_distribution="semicircle", horizon=20, sparse=True)
    returns = evaluate_adaptation(nav_agents.SearchThenGoAgent, env, env.sample_tasks(30, seed=0), 4)
    means = returns.mean(axis=0)
    assert means[0] < means[1] < means[3]
    assert means[3] > 8.0  # the oracle scores about 13; random play about 0


def test_mean_and_stderr_hand_values():
    mean, stderr = mean_and_stderr(np.array([[1.0, 2.0], [3.0, 2.0], [5.0, 2.0]]))
    np.testing.assert_allclose(mean, [3.0, 2.0])
    np.testing.assert_allclose(stderr, [2.0 / np.sqrt(3), 0.0])
