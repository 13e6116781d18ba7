"""MAML's MuJoCo locomotion families: task sampling, hand-checked rewards, horizon, vector envs."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import metarl_course.envs  # noqa: F401  (registers the ids)
from metarl_course.envs.locomotion import (AntDirEnv, AntVelEnv, HalfCheetahDirEnv, HalfCheetahVelEnv,
                                           first_episode_mask, make_task_vector_env)

LOCOMOTION_IDS = [f"metarl_course/{name}-v{version}" for version in (1, 0)
                  for name in ("HalfCheetahVel", "HalfCheetahDir", "AntVel", "AntDir")]


@pytest.mark.parametrize("name, v1_step", [("HalfCheetahVel", 0.01), ("HalfCheetahDir", 0.01),
                                           ("AntVel", 0.02), ("AntDir", 0.02)])
def test_v1_steps_as_long_as_mamls_rllab_and_v0_as_gymnasium(name, v1_step):
    """rllab (MAML's code) simulates one MuJoCo step per env step: 0.01 s (half_cheetah.xml), 0.02 s (ant.xml).
    An episode of H = 200 steps is then 2 s / 4 s, and a torso that moves 0.1 m in one step runs at 10 / 5 m/s."""
    v1, v0 = (gym.make(f"metarl_course/{name}-v{version}") for version in (1, 0))
    assert v1.unwrapped.dt == pytest.approx(v1_step) and v0.unwrapped.dt == pytest.approx(0.05)
    assert v1.spec.max_episode_steps == v0.spec.max_episode_steps == 200
    v1.reset(seed=0)

    def x():   # what gymnasium differentiates: the cheetah's root slider, the ant's torso body
        env = v1.unwrapped
        return float(env.get_body_com("torso")[0] if name.startswith("Ant") else env.data.qpos[0])

    x_before = x()
    _, _, _, _, info = v1.step(np.zeros(v1.action_space.shape))
    assert info["x_velocity"] == pytest.approx((x() - x_before) / v1_step)


@pytest.fixture(scope="module")
def cheetah_vel():
    return HalfCheetahVelEnv()


def test_task_sampling_is_reproducible_and_in_range(cheetah_vel):
    for env, key, low, high in ((cheetah_vel, "velocity", 0.0, 2.0), (AntVelEnv(), "velocity", 0.0, 3.0),
                                (HalfCheetahVelEnv(velocity_range=(0.0, 3.0)), "velocity", 0.0, 3.0)):
        values = np.array([t[key] for t in env.sample_tasks(1000, seed=3)])
        assert low <= values.min() and values.max() <= high
        assert abs(values.mean() - (low + high) / 2) < 0.1 and values.max() - values.min() > 0.9 * (high - low)
        assert [t[key] for t in env.sample_tasks(1000, seed=3)] == list(values)
        assert not np.array_equal(values, [t[key] for t in env.sample_tasks(1000, seed=4)])
    for env in (HalfCheetahDirEnv(), AntDirEnv()):
        directions = np.array([t["direction"] for t in env.sample_tasks(1000, seed=3)])
        assert set(directions) == {-1.0, 1.0} and abs(directions.mean()) < 0.1
        assert [t["direction"] for t in env.sample_tasks(1000, seed=3)] == list(directions)
        with pytest.raises(ValueError, match="direction -1 or \\+1"):
            env.reset_task({"direction": 0.5})


def test_reset_option_switches_the_task_and_info_carries_it():
    env = gym.make("metarl_course/HalfCheetahVel-v0")
    _, info = env.reset(seed=0, options={"task": {"velocity": 1.25}})
    assert info["velocity"] == 1.25 and env.unwrapped.task == {"velocity": 1.25}
    _, _, _, _, info = env.step(env.action_space.sample())
    assert info["velocity"] == 1.25
    env.reset()  # no option: the task stays
    assert env.unwrapped.goal_velocity == 1.25
    env.unwrapped.reset_task({"velocity": 0.5})
    assert env.reset()[1]["velocity"] == 0.5


def test_cheetah_velocity_reward_equals_the_hand_formula(cheetah_vel):
    env = cheetah_vel
    env.reset_task({"velocity": 1.3})
    env.reset(seed=1)
    rng = np.random.default_rng(0)
    for t in range(6):
        x_before = env.data.qpos[0]
        action = np.zeros(6) if t < 3 else rng.uniform(-1.5, 1.5, size=6)  # out-of-range parts are clipped
        _, reward, terminated, truncated, info = env.step(action)
        x_velocity = (env.data.qpos[0] - x_before) / env.dt
        assert info["x_velocity"] == pytest.approx(x_velocity)
        ctrl_cost = 0.5 * 0.1 * np.sum(np.clip(action, -1, 1) ** 2)
        assert reward == pytest.approx(-abs(x_velocity - 1.3) - ctrl_cost, abs=1e-9)
        if t < 3:
            assert reward == pytest.approx(-abs(x_velocity - 1.3), abs=1e-12) and info["ctrl_cost"] == 0
        assert info["forward_reward"] - info["ctrl_cost"] == pytest.approx(reward)
        assert not terminated and not truncated


@pytest.mark.parametrize("cls", [HalfCheetahDirEnv, AntDirEnv])
def test_direction_flips_the_forward_reward_for_the_same_state_and_action(cls):
    forward, backward = cls(), cls()
    forward.reset_task({"direction": 1.0})
    backward.reset_task({"direction": -1.0})
    obs_f, _ = forward.reset(seed=2)
    obs_b, _ = backward.reset(seed=2)
    np.testing.assert_array_equal(obs_f, obs_b)
    actions = np.random.default_rng(1).uniform(-1, 1, size=(5, forward.action_space.shape[0]))
    for action in actions:
        obs_f, r_f, _, _, info_f = forward.step(action)
        obs_b, r_b, _, _, info_b = backward.step(action)
        np.testing.assert_array_equal(obs_f, obs_b)
        assert info_f["forward_reward"] == pytest.approx(info_f["x_velocity"])
        assert info_b["forward_reward"] == pytest.approx(-info_f["x_velocity"])
        # the costs (and the ant's survive reward) do not depend on the direction
        assert r_f + r_b == pytest.approx(2 * (r_f - info_f["forward_reward"]))


def test_ant_reward_pieces_add_up_and_unhealthy_terminates():
    env = AntVelEnv()
    env.reset_task({"velocity": 2.0})
    env.reset(seed=3)
    actions = np.random.default_rng(2).uniform(-1, 1, size=(25, 8))
    contact_seen = False
    for action in actions:
        x_before = env.data.body("torso").xpos[0]
        _, reward, terminated, _, info = env.step(action)
        x_velocity = (env.data.body("torso").xpos[0] - x_before) / env.dt
        contact = 0.5 * 1e-3 * np.sum(np.clip(env.data.cfrc_ext, -1, 1) ** 2)
        contact_seen |= contact > 0
        assert info["forward_reward"] == pytest.approx(-abs(x_velocity - 2.0) + 1.0)  # maml_rl's +1.0
        assert info["ctrl_cost"] == pytest.approx(0.5 * 1e-2 * np.sum(action**2))
        assert info["contact_cost"] == pytest.approx(contact)
        assert info["survive_reward"] == 0.05 and not terminated
        assert reward == pytest.approx(
            info["forward_reward"] + info["survive_reward"] - info["ctrl_cost"] - info["contact_cost"])
    assert contact_seen  # cfrc_ext is really computed (mj_rnePostConstraint), not always 0
    qpos = env.data.qpos.copy()
    qpos[2] = 1.5  # torso above the healthy range [0.2, 1.0]
    env.set_state(qpos, env.data.qvel.copy())
    _, reward, terminated, _, info = env.step(np.zeros(8))
    assert terminated and info["survive_reward"] == 0.0


@pytest.mark.parametrize("env_id", LOCOMOTION_IDS)
def test_episodes_are_truncated_at_200_steps(env_id):
    env = gym.make(env_id)
    assert env.spec.max_episode_steps == 200
    env.reset(seed=0)
    zero = np.zeros(env.action_space.shape, dtype=np.float32)
    for t in range(1, 201):
        _, _, terminated, truncated, _ = env.step(zero)
        assert not terminated and truncated == (t == 200)


def test_vector_env_runs_each_task_in_its_copies_for_one_fixed_length_episode():
    tasks = [{"velocity": 0.25}, {"velocity": 1.0}, {"velocity": 1.75}]
    envs = make_task_vector_env("metarl_course/HalfCheetahVel-v0", tasks, n_per_task=2, seed=5)
    expected = np.repeat([0.25, 1.0, 1.75], 2)
    assert envs.num_envs == 6 and [t["velocity"] for t in envs.get_attr("task")] == list(expected)
    obs, info = envs.reset()
    np.testing.assert_array_equal(info["velocity"], expected)
    assert len({o.tobytes() for o in obs}) == 6  # copies are seeded differently
    terminated, truncated = [], []
    for t in range(200):
        action = envs.action_space.sample()
        obs, reward, term, trunc, info = envs.step(action)
        np.testing.assert_array_equal(info["velocity"], expected)
        ctrl = 0.5 * 0.1 * np.sum(action**2, axis=1)
        np.testing.assert_allclose(reward, -np.abs(info["x_velocity"] - expected) - ctrl, atol=1e-6)
        terminated.append(term)
        truncated.append(trunc)
    terminated, truncated = np.array(terminated), np.array(truncated)
    assert not terminated.any() and truncated[-1].all() and not truncated[:-1].any()
    assert first_episode_mask(terminated, truncated).all()
    envs.close()


def test_vector_env_seed_makes_unseeded_resets_reproducible():
    tasks = [{"velocity": 0.5}, {"velocity": 1.5}]
    first, second, other = (make_task_vector_env("metarl_course/HalfCheetahVel-v0", tasks, 1, seed=s)
                            for s in (7, 7, 8))
    np.testing.assert_array_equal(first.reset()[0], second.reset()[0])
    assert not np.array_equal(first.reset()[0], other.reset()[0])


def test_vector_env_early_termination_is_masked_after_the_first_episode():
    envs = make_task_vector_env("metarl_course/AntDir-v0", [{"direction": 1.0}, {"direction": -1.0}], 1, seed=0)
    envs.reset()
    terminated, truncated, rewards = [], [], []
    for t in range(4):
        if t == 1:  # throw copy 1's torso out of the healthy range
            ant = envs.envs[1].unwrapped
            qpos = ant.data.qpos.copy()
            qpos[2] = 1.5
            ant.set_state(qpos, ant.data.qvel.copy())
        _, reward, term, trunc, _ = envs.step(np.zeros((2, 8), dtype=np.float32))
        terminated.append(term)
        truncated.append(trunc)
        rewards.append(reward)
    terminated = np.array(terminated)
    assert terminated[:, 1].tolist() == [False, True, False, False] and not terminated[:, 0].any()
    assert rewards[2][1] == 0.0  # NEXT_STEP: the step after the termination is copy 1's reset
    mask = first_episode_mask(terminated, np.array(truncated))
    assert mask[:, 0].all() and mask[:, 1].tolist() == [True, True, False, False]
    envs.close()


def test_first_episode_mask_by_hand():
    terminated = np.array([[0, 0, 0], [1, 0, 0], [0, 0, 0], [0, 1, 0]], dtype=bool)
    truncated = np.array([[0, 0, 0], [0, 0, 0], [1, 0, 0], [0, 0, 1]], dtype=bool)
    mask = first_episode_mask(terminated, truncated)
    np.testing.assert_array_equal(mask, [[1, 1, 1], [1, 1, 1], [0, 1, 1], [0, 1, 1]])


def test_async_vector_env_places_the_tasks_too():
    tasks = [{"direction": -1.0}, {"direction": 1.0}]
    envs = make_task_vector_env("metarl_course/HalfCheetahDir-v0", tasks, n_per_task=1, seed=0, asynchronous=True)
    try:
        _, info = envs.reset()
        np.testing.assert_array_equal(info["direction"], [-1.0, 1.0])
        _, reward, _, _, info = envs.step(np.zeros((2, 6), dtype=np.float32))
        np.testing.assert_allclose(reward, [-info["x_velocity"][0], info["x_velocity"][1]])
    finally:
        envs.close()


def test_a_saved_locomotion_policy_loads_with_its_sizes_and_weights(tmp_path):
    import torch

    from metarl_course.maml import GaussianMLPPolicy
    from metarl_course.maml_locomotion import load_policy, save_policy

    torch.manual_seed(3)
    policy = GaussianMLPPolicy(17, 6, (32, 16))
    save_policy(tmp_path / "p.pt", policy, "metarl_course/HalfCheetahDir-v0")
    loaded, env_id = load_policy(tmp_path / "p.pt")
    assert env_id == "metarl_course/HalfCheetahDir-v0"
    obs = torch.randn(4, 17)
    assert all(torch.equal(a, b) for a, b in zip(policy(obs), loaded(obs)))
    assert [p.shape for p in loaded.parameters()] == [p.shape for p in policy.parameters()]


def test_a_reseeded_test_batch_starts_like_a_fresh_one_whatever_ran_before():
    """The maml-cheetah bench evaluates every method on one batch of held-out tasks: without
    ``reseed`` each method would get the reset noise left over by the methods before it."""
    import torch

    from metarl_course.maml import GaussianMLPPolicy, adaptation_curve
    from metarl_course.maml_locomotion import locomotion_test_tasks

    torch.manual_seed(0)
    policy = GaussianMLPPolicy(17, 6, (8,))

    def returns(env, feats):
        return adaptation_curve(policy, env, feats, (), generator=torch.Generator().manual_seed(5))["returns"]

    fresh = returns(*locomotion_test_tasks("metarl_course/HalfCheetahDir-v0", 2, 2))
    env, feats = locomotion_test_tasks("metarl_course/HalfCheetahDir-v0", 2, 2)
    returns(env, feats)                                         # an earlier method's evaluation
    assert not np.array_equal(returns(env, feats), fresh)       # the noise has moved on
    env.reseed()
    np.testing.assert_array_equal(returns(env, feats), fresh)
    env.reseed(1)                                               # another draw: other start states
    other = returns(env, feats)
    assert not np.array_equal(other, fresh)
    returns(env, feats)
    env.reseed(1)
    np.testing.assert_array_equal(returns(env, feats), other)


def test_making_a_v0_task_does_not_warn_that_v1_exists():
    """Unit 03 runs its shipped policy on -v0 on purpose: gymnasium's "out of date" warning must not show
    under the student's cell (checked in a fresh interpreter, outside pytest's own warning filters)."""
    import subprocess
    import sys

    code = ("import warnings, gymnasium as gym, metarl_course.envs\n"
            "gym.make('metarl_course/HalfCheetahDir-v0'); gym.make('metarl_course/AntVel-v0')\n")
    result = subprocess.run([sys.executable, "-W", "default", "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "out of date" not in result.stderr, result.stderr
