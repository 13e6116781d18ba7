"""HalfCheetah velocity as a PEARL task set, and the pearl-cheetah-vel bench at the ci preset."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from metarl_course import bench
from metarl_course.pearl import PEARLAgent, meta_test
from metarl_course.pearl_cheetah import VELOCITY_RANGE, CheetahVelTasks, cheetah_vel_tasks
from metarl_course.pearl_cheetah_bench import X_VELOCITY, trajectory_velocities


def test_the_official_split_sizes_and_velocity_range():
    tasks, train_ids, test_ids = cheetah_vel_tasks()
    assert len(train_ids) == 100 and len(test_ids) == 30 and not set(train_ids) & set(test_ids)
    assert tasks.goals.shape == (130, 1)
    assert VELOCITY_RANGE[0] <= tasks.goals.min() and tasks.goals.max() <= VELOCITY_RANGE[1]
    again, _, _ = cheetah_vel_tasks()
    np.testing.assert_array_equal(tasks.goals, again.goals)


def test_a_batch_steps_each_task_with_its_own_target():
    # Two simulators with the same seed and the same actions under targets 0.5 and 2.5: the
    # dynamics and the control cost do not depend on the task, so the rewards differ by exactly
    # |v - 2.5| - |v - 0.5|, v being the step's forward velocity (x after - x before) / dt.
    batch = CheetahVelTasks(np.array([0.5, 2.5]), horizon=5, seed=0).env(np.array([0, 1]))
    batch.envs[1].reset(seed=0)           # the second simulator from the same start as the first
    batch.envs[0].reset(seed=0)
    for env in batch.envs:
        env.reset_task({"velocity": env.goal_velocity})
    action = torch.full((2, 1, 6), 0.3)
    for _ in range(5):
        x_before = batch.envs[0].data.qpos[0]
        _, rewards, done = batch.step(action)
        v = (batch.envs[0].data.qpos[0] - x_before) / batch.envs[0].dt
        assert not done.any()
        assert batch.envs[1].data.qpos[0] == pytest.approx(batch.envs[0].data.qpos[0])
        want = abs(v - 2.5) - abs(v - 0.5)
        assert float(rewards[0, 0] - rewards[1, 0]) == pytest.approx(want, abs=1e-4)
        ctrl = 0.05 * 6 * 0.3 ** 2
        assert float(rewards[0, 0]) == pytest.approx(-abs(v - 0.5) - ctrl, abs=1e-4)


def test_simulators_are_reused_and_retargeted():
    tasks = CheetahVelTasks(np.array([0.1, 1.0, 2.9]), horizon=3)
    first = tasks.env(np.array([0, 1]))
    second = tasks.env(np.array([2, 0]))
    assert first.envs[0] is second.envs[0]
    assert second.envs[0].goal_velocity == pytest.approx(2.9) and second.envs[1].goal_velocity == pytest.approx(0.1)
    np.testing.assert_allclose(second.goals[:, 0, 0], [2.9, 0.1], rtol=1e-6)
    obs = second.reset()
    assert obs.shape == (2, 1, 17) and obs.dtype == torch.float32


def test_the_velocity_column_is_the_root_forward_velocity():
    tasks = CheetahVelTasks(np.array([1.0]), horizon=4)
    env = tasks.env(np.array([0]))
    env.reset()
    for _ in range(4):
        obs, _, _ = env.step(torch.rand(1, 1, 6) * 2 - 1)
        assert float(obs[0, 0, X_VELOCITY]) == pytest.approx(env.envs[0].data.qvel[0], rel=1e-5)


def test_meta_test_runs_on_cheetah_tasks():
    torch.manual_seed(0)
    tasks = CheetahVelTasks(np.array([0.5, 2.0]), horizon=10)
    agent = PEARLAgent(17, 6, latent_dim=3, net_hidden=(16,), encoder_hidden=(16,))
    returns, context = meta_test(agent, tasks.env(np.arange(2)), n_trajectories=3, n_exploration=2)
    assert returns.shape == (3, 2) and context["observations"].shape == (2, 30, 17)
    assert torch.all(returns < 0)  # -|v - v*| - control cost is never positive for v* > 0 at rest


def test_pearl_cheetah_vel_bench_at_ci(tmp_path, monkeypatch):
    from metarl_course import pearl_cheetah_bench

    monkeypatch.setattr(pearl_cheetah_bench, "CHECKPOINTS", tmp_path / "checkpoints")
    rows = bench.run_benchmark("pearl-cheetah-vel", "ci", tmp_path / "c.json", seeds=[0])["rows"]
    returns = sorted((r["trajectory"], r["phase"]) for r in rows if r["method"] == "PEARL return")
    assert returns == [(1, "exploration (z ~ prior)"), (2, "exploration (z ~ prior)"), (3, "posterior")]
    training = next(r for r in rows if r["method"] == "PEARL training")
    assert training["env_steps"] == 20 * (4 * 1 + 2 * 2 * 2) and len(training["curve"]) == 2   # ci: H = 20
    random = next(r for r in rows if r["method"] == "random policy return")
    assert -60 < random["mean"] < 0
    assert (tmp_path / "c.png").exists()
    agent, config = pearl_cheetah_bench.load_agent(tmp_path / "checkpoints" / "pearl-cheetah-vel" / "ci" / "PEARL_seed0.pt")
    assert config.horizon == 20 and config.gamma == 0.99 and agent.encoder.latent_dim == 5


def test_trajectory_velocities_average_each_trajectory_of_each_task():
    """Context of M = 2 tasks, K = 3 trajectories of H = 4 steps: trajectory k of task m ran at 10 m + k."""
    M, K, H = 2, 3, 4
    speed = 10.0 * torch.arange(M)[:, None] + torch.arange(K)[None, :]                  # (M, K)
    noise = torch.tensor([-0.5, 0.5, -1.0, 1.0])                                        # averages out within a trajectory
    observations = torch.zeros(M, K * H, 17)
    observations[..., X_VELOCITY] = (speed[..., None] + noise).reshape(M, K * H)
    velocity = trajectory_velocities({"next_observations": observations}, K)
    assert velocity.shape == (K, M)
    assert np.allclose(velocity, speed.T.numpy())
