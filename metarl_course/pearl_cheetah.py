"""HalfCheetah velocity as a PEARL task set (Rakelly et al. 2019, section 6.1).

Each task is a target forward velocity v* ~ U[0, 3] (the official PEARL code's range; MAML
used U[0, 2]); the reward of a step is -|v_x - v*| - 0.05 ||a||² (gymnasium v5's
HalfCheetah with the task's forward reward: ``metarl_course.envs.locomotion``), the
horizon 200 steps. The official split is 100 training and 30 held-out tasks.

``train_pearl`` and ``meta_test`` (``metarl_course.pearl``) step M tasks at once as
tensors of shape (M, 1, ...); ``CheetahVelBatch`` gives MuJoCo the same interface: M
simulators, one per task, stepped in a Python loop (MuJoCo simulates one model per call)
with one batched policy forward per step.
"""

from __future__ import annotations

import numpy as np
import torch

from metarl_course.envs.locomotion import HalfCheetahVelEnv

VELOCITY_RANGE = (0.0, 3.0)


class CheetahVelBatch:
    """M HalfCheetah-velocity simulators stepped together: observations (M, 1, 17),
    actions (M, 1, 6), rewards and ``terminated`` (M, 1). The cheetah never terminates;
    the episode is ``horizon`` steps."""

    sparse = False

    def __init__(self, envs: list[HalfCheetahVelEnv], velocities: np.ndarray, horizon: int) -> None:
        self.envs = envs
        self.goals = torch.as_tensor(np.asarray(velocities, dtype=np.float32)).reshape(-1, 1, 1)
        self.horizon = horizon
        for env, v in zip(envs, np.asarray(velocities).reshape(-1)):
            env.reset_task({"velocity": float(v)})

    def reset(self) -> torch.Tensor:
        return torch.as_tensor(np.stack([env.reset()[0] for env in self.envs]), dtype=torch.float32)[:, None]

    def step(self, actions: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        obs, rewards = [], []
        for env, action in zip(self.envs, actions[:, 0].cpu().numpy()):
            o, r, _, _, _ = env.step(action)
            obs.append(o)
            rewards.append(r)
        obs_t = torch.as_tensor(np.stack(obs), dtype=torch.float32)[:, None]
        rewards_t = torch.as_tensor(rewards, dtype=torch.float32)[:, None]
        return obs_t, rewards_t, torch.zeros_like(rewards_t, dtype=torch.bool)


class CheetahVelTasks:
    """A PEARL task set of target velocities (``goals``, shape (n, 1)).

    ``env(task_ids)`` returns a ``CheetahVelBatch`` on those tasks. The simulators are
    made once and reused (loading the MuJoCo model costs more than a trajectory's worth
    of steps): a later ``env(...)`` call re-targets the same simulators, so use one batch
    at a time, as ``train_pearl`` and ``meta_test`` do. Simulator k's reset noise comes
    from its own generator, seeded ``seed + k``.
    """

    obs_dim = 17
    act_dim = 6

    def __init__(self, velocities: np.ndarray, horizon: int = 200, seed: int = 0) -> None:
        self.goals = np.asarray(velocities, dtype=np.float64).reshape(-1, 1)
        self.horizon = horizon
        self.seed = seed
        self._pool: list[HalfCheetahVelEnv] = []

    def _simulators(self, n: int) -> list[HalfCheetahVelEnv]:
        while len(self._pool) < n:
            env = HalfCheetahVelEnv(velocity_range=VELOCITY_RANGE)
            env.reset(seed=self.seed + len(self._pool))
            self._pool.append(env)
        return self._pool[:n]

    def _reseeded(self, n: int, seed: int | None) -> list[HalfCheetahVelEnv]:
        """The first n simulators; with ``seed``, simulator j's reset noise restarts from ``seed + j``
        (an evaluation then does not depend on what the simulators ran before)."""
        simulators = self._simulators(n)
        if seed is not None:
            for j, env in enumerate(simulators):
                env.reset(seed=seed + j)
        return simulators

    def env(self, task_ids: np.ndarray, seed: int | None = None) -> CheetahVelBatch:
        task_ids = np.asarray(task_ids)
        return CheetahVelBatch(self._reseeded(len(task_ids), seed), self.goals[task_ids, 0], self.horizon)

    def close(self) -> None:
        for env in self._pool:
            env.close()
        self._pool.clear()


def cheetah_vel_tasks(n_train: int = 100, n_test: int = 30, horizon: int = 200,
                      seed: int = 1337) -> tuple[CheetahVelTasks, np.ndarray, np.ndarray]:
    """The official split's sizes: ``n_train + n_test`` velocities drawn uniformly from
    [0, 3] by a generator seeded ``seed``; the first ``n_train`` for meta-training, the rest
    held out. Returns (tasks, train ids, test ids).

    Not the official velocities: the PEARL code draws them with the legacy generator,
    ``np.random.seed(1337); np.random.uniform(0, 3, 130)``. Its 30 held-out velocities have a mean
    of 1.42 and a third below 0.8 m/s, these 1.49 and a fifth; the kit's results (and its shipped
    agent) are on these, so an agent that stands still below 0.8 m/s scores better here than it
    would on the official ones."""
    velocities = np.random.default_rng(seed).uniform(*VELOCITY_RANGE, size=n_train + n_test)
    tasks = CheetahVelTasks(velocities, horizon)
    return tasks, np.arange(n_train), np.arange(n_train, n_train + n_test)
