"""Environments: gymnasium compliance, hand-derived dynamics and rewards, batched = single."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import metarl_course.envs as envs
from metarl_course.envs import (BatchedBernoulliBandit, BatchedNavigation2D, BernoulliBanditEnv, Navigation2DEnv,
                                TaskDistribution)


@pytest.mark.parametrize("env_id", sorted(envs.ENV_IDS))
def test_registered_envs_pass_gymnasium_check_env(env_id):
    env = gym.make(env_id)
    check_env(env.unwrapped, skip_render_check=True)
    assert isinstance(env.unwrapped, TaskDistribution)


def test_registered_kwargs():
    sparse = gym.make("metarl_course/SparseNavigation2D-v0").unwrapped
    assert (sparse.goal_distribution, sparse.horizon, sparse.sparse, sparse.goal_radius) == ("semicircle", 20, True, 0.2)
    assert gym.make("metarl_course/BernoulliBandit-v0", k=10).unwrapped.k == 10


def test_navigation_hand_derived_episode():
    env = Navigation2DEnv(horizon=4)
    env.reset_task({"goal": [0.25, 0.0]})
    env.reset()
    rewards = []
    for action in ([0.1, 0.0], [0.5, 0.0], [0.1, 0.0], [-0.02, 0.3]):  # the 0.5 and 0.3 are clipped to 0.1
        obs, reward, terminated, truncated, info = env.step(np.array(action))
        rewards.append(reward)
    np.testing.assert_allclose(rewards, [-0.15, -0.05, -0.05, np.hypot(0.03, 0.1) * -1], atol=1e-7)
    np.testing.assert_allclose(obs, [0.28, 0.1], atol=1e-6)
    assert truncated and not terminated
    assert info["dense_reward"] == pytest.approx(rewards[-1])


def test_sparse_reward_inside_and_outside_the_goal_radius():
    env = Navigation2DEnv(goal_distribution="semicircle", horizon=20, sparse=True, goal_radius=0.2)
    env.reset_task({"goal": [0.15, 0.0]})
    env.reset()
    _, reward, *_ , info = env.step(np.array([0.1, 0.0]))
    assert reward == pytest.approx(1 - 0.05) and info["success"]
    assert info["dense_reward"] == pytest.approx(-0.05)
    env.reset_task({"goal": [0.0, 1.0]})
    env.reset()
    _, reward, *_ , info = env.step(np.array([0.1, 0.1]))
    assert reward == 0.0 and not info["success"]


def test_goal_distributions_and_reproducible_task_sampling():
    square = Navigation2DEnv().sample_tasks(500, seed=1)
    goals = np.array([t["goal"] for t in square])
    assert goals.min() >= -0.5 and goals.max() <= 0.5 and abs(goals.mean()) < 0.05
    semi = np.array([t["goal"] for t in Navigation2DEnv(goal_distribution="semicircle").sample_tasks(500, seed=1)])
    np.testing.assert_allclose(np.linalg.norm(semi, axis=1), 1.0)
    assert semi[:, 1].min() >= 0
    again = np.array([t["goal"] for t in Navigation2DEnv().sample_tasks(500, seed=1)])
    np.testing.assert_array_equal(goals, again)
    with pytest.raises(ValueError, match="unknown goal distribution"):
        Navigation2DEnv(goal_distribution="circle").sample_tasks(1)


def test_batched_navigation_equals_single_env_row_by_row():
    rng = np.random.default_rng(0)
    goals = rng.uniform(-0.5, 0.5, size=(6, 2))
    actions = rng.uniform(-0.2, 0.2, size=(10, 6, 2))
    batched = BatchedNavigation2D(goals, horizon=10)
    batched.reset()
    out = [batched.step(a) for a in actions]
    for row, goal in enumerate(goals):
        env = Navigation2DEnv(horizon=10)
        env.reset_task({"goal": goal})
        env.reset()
        for t in range(10):
            obs, reward, terminated, truncated, _ = env.step(actions[t, row])
            np.testing.assert_allclose(out[t][0][row], obs, atol=1e-6)
            assert out[t][1][row] == pytest.approx(reward, abs=1e-6)
            assert out[t][3][row] == truncated
    with pytest.raises(ValueError, match="actions must have shape"):
        batched.step(np.zeros((3, 2)))


def test_bandit_pays_bernoulli_of_the_pulled_arm():
    env = BernoulliBanditEnv(k=3)
    env.reset_task({"means": [0.0, 1.0, 0.3]})
    env.reset(seed=0)
    assert env.step(0)[1] == 0.0 and env.step(1)[1] == 1.0
    obs, reward, terminated, truncated, info = env.step(2)
    assert terminated and not truncated and info["best_mean"] == 1.0 and info["regret"] == pytest.approx(0.7)
    rewards = [env.step(2)[1] for _ in range(4000)]
    assert abs(np.mean(rewards) - 0.3) < 4 * np.sqrt(0.3 * 0.7 / 4000)
    with pytest.raises(ValueError, match="arms 0..2"):
        env.step(3)
    with pytest.raises(ValueError, match="k=3"):
        env.reset_task({"means": [0.5, 0.5]})


def test_batched_bandit_rates_and_shapes():
    means = np.array([[0.1, 0.9], [0.5, 0.2], [1.0, 0.0]])
    bandit = BatchedBernoulliBandit(means, seed=0)
    arms = np.array([1, 0, 0])
    totals = sum(bandit.pull(arms) for _ in range(5000)) / 5000
    np.testing.assert_allclose(totals, [0.9, 0.5, 1.0], atol=0.03)
    np.testing.assert_array_equal(bandit.expected_reward(arms), [0.9, 0.5, 1.0])
    with pytest.raises(ValueError):
        bandit.pull(np.array([0, 1]))
    tasks = BernoulliBanditEnv(k=4).sample_tasks(3, seed=2)
    assert len(tasks) == 3 and tasks[0]["means"].shape == (4,)
