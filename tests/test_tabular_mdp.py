"""Random tabular MDPs (RL² §4.1): the task distribution, the gymnasium env, the batched env."""

import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

from metarl_course.envs.tabular_mdp import (
    HORIZON,
    START_STATE,
    BatchedTabularMDP,
    TabularMDPEnv,
    sample_mdps,
)


def test_task_distribution_moments():
    transitions, mean_rewards = sample_mdps(4000, seed=0)
    assert transitions.shape == (4000, 10, 5, 10) and mean_rewards.shape == (4000, 10, 5)
    np.testing.assert_allclose(transitions.sum(axis=-1), 1.0)
    # μ ~ N(1, 1)
    assert mean_rewards.mean() == pytest.approx(1.0, abs=0.01)
    assert mean_rewards.var() == pytest.approx(1.0, abs=0.01)
    # Dirichlet(1) over 10 states: each coordinate ~ Beta(1, 9), mean 1/10, variance 9 / (100 * 11)
    assert transitions.mean() == pytest.approx(0.1, abs=1e-12)
    assert transitions.var() == pytest.approx(9 / 1100, rel=0.02)


def test_sample_tasks_is_reproducible_and_resettable():
    env = TabularMDPEnv()
    first, again = env.sample_tasks(3, seed=5), env.sample_tasks(3, seed=5)
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a["transitions"], b["transitions"])
        np.testing.assert_array_equal(a["mean_rewards"], b["mean_rewards"])
    env.reset_task(first[1])
    np.testing.assert_array_equal(env.mean_rewards, first[1]["mean_rewards"])
    with pytest.raises(ValueError):
        env.reset_task({"transitions": np.ones((3, 5, 3)) / 3, "mean_rewards": np.zeros((3, 5))})
    with pytest.raises(ValueError):
        env.reset_task({"transitions": np.ones((10, 5, 10)), "mean_rewards": np.zeros((10, 5))})


def test_passes_the_gymnasium_env_checker():
    check_env(TabularMDPEnv(), skip_render_check=True)


def test_episode_starts_in_state_zero_and_is_truncated_after_T_steps():
    env = TabularMDPEnv()
    state, _ = env.reset(seed=0, options={"task": env.sample_tasks(1, seed=1)[0]})
    assert state == START_STATE
    for t in range(1, HORIZON + 1):
        state, reward, terminated, truncated, info = env.step(t % 5)
        assert not terminated and truncated == (t == HORIZON)
        assert env.observation_space.contains(state)


def test_single_env_equals_batched_env_with_one_row_and_the_same_seed():
    env = TabularMDPEnv()
    task = env.sample_tasks(1, seed=3)[0]
    batched = BatchedTabularMDP.from_tasks([task], seed=9)
    env.reset(seed=9, options={"task": task})
    batched.reset()
    actions = np.random.default_rng(0).integers(0, 5, size=HORIZON)
    for a in actions:
        s1, r1, _, t1, _ = env.step(a)
        s2, r2, _, t2, _ = batched.step(np.array([a]))
        assert s1 == s2[0] and r1 == r2[0] and t1 == t2[0]


def test_batched_env_equals_single_envs_row_by_row():
    # Deterministic transitions make every row's state path independent of the noise draws,
    # so B single envs and one batched env must agree exactly on states and mean rewards.
    rng = np.random.default_rng(4)
    batch = 6
    _, mean_rewards = sample_mdps(batch, seed=4)
    successor = rng.integers(0, 10, size=(batch, 10, 5))
    transitions = np.eye(10)[successor]  # P(s' | s, a) = 1 for s' = successor[b, s, a]
    batched = BatchedTabularMDP(transitions, mean_rewards, seed=0)
    singles = [TabularMDPEnv() for _ in range(batch)]
    for b, env in enumerate(singles):
        env.reset(seed=b, options={"task": {"transitions": transitions[b], "mean_rewards": mean_rewards[b]}})
    batched.reset()
    noise = []
    for _ in range(HORIZON):
        actions = rng.integers(0, 5, size=batch)
        states, rewards, _, _, info = batched.step(actions)
        for b, env in enumerate(singles):
            state, _, _, _, single_info = env.step(actions[b])
            assert state == states[b]
            assert single_info["mean_reward"] == info["mean_reward"][b]
        noise.append(rewards - info["mean_reward"])
    # and the reward noise is standard normal
    noise = np.concatenate(noise)
    assert abs(noise.mean()) < 4 / np.sqrt(len(noise))
    assert abs(noise.std() - 1.0) < 4 * np.sqrt(0.5 / len(noise))     # sd of the sample sd ≈ 1/√(2N)


def test_batched_transitions_follow_P():
    transitions, mean_rewards = sample_mdps(1, seed=8)
    batch = 50_000
    env = BatchedTabularMDP(np.repeat(transitions, batch, 0), np.repeat(mean_rewards, batch, 0), seed=1)
    env.reset()
    states, rewards, _, _, _ = env.step(np.full(batch, 2))
    frequencies = np.bincount(states, minlength=10) / batch
    p = transitions[0, START_STATE, 2]
    assert np.all(np.abs(frequencies - p) < 4 * np.sqrt(p * (1 - p) / batch) + 1e-12)
    assert rewards.mean() == pytest.approx(mean_rewards[0, START_STATE, 2], abs=4 / np.sqrt(batch))
    assert rewards.std() == pytest.approx(1.0, abs=0.02)


def test_random_play_earns_one_per_step_on_average():
    transitions, mean_rewards = sample_mdps(2000, seed=10)
    env = BatchedTabularMDP(transitions, mean_rewards, seed=11)
    rng = np.random.default_rng(12)
    totals = np.zeros(2000)
    for _ in range(10):  # ten episodes: the Random column of RL² Table 2 (100.1 at n = 10)
        env.reset()
        for _ in range(HORIZON):
            totals += env.step(rng.integers(0, 5, size=2000))[1]
    se = totals.std(ddof=1) / np.sqrt(len(totals))
    assert abs(totals.mean() - 100.0) < 3 * se
