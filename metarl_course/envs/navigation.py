"""2D navigation: a point robot must find an unknown goal.

The simplest continuous meta-RL family (MAML's and PEARL's first experiment). The agent
starts at the origin, moves by its (clipped) action each step, and the task is the goal
position g, which the agent never observes: it must infer it from rewards.

- state / observation: the position x_t in R^2 (the goal is *not* part of it)
- action: a_t in [-0.1, 0.1]^2, clipped; x_{t+1} = x_t + clip(a_t)
- dense reward: r_t = -||x_{t+1} - g||_2
- sparse reward (PEARL): r_t = 1 - ||x_{t+1} - g|| inside the goal radius, 0 outside
- horizon H: the episode is truncated after H steps (never terminated)

Goal distributions: ``"square"``: g ~ U[-0.5, 0.5]^2 (MAML); ``"semicircle"``:
g = (cos θ, sin θ) with θ ~ U[0, π] (PEARL's sparse point robot).
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

from metarl_course.envs.base import Task, as_task

MAX_ACTION = 0.1


def sample_goals(n: int, distribution: str, seed: int | None, goal_range: float = 0.5) -> np.ndarray:
    """Draw ``n`` goals, shape (n, 2), from the named goal distribution."""
    rng = np.random.default_rng(seed)
    if distribution == "square":
        return rng.uniform(-goal_range, goal_range, size=(n, 2))
    if distribution == "semicircle":
        angles = rng.uniform(0.0, np.pi, size=n)
        return np.stack([np.cos(angles), np.sin(angles)], axis=1)
    raise ValueError(f"unknown goal distribution {distribution!r}; use 'square' or 'semicircle'")


def navigation_rewards(positions: np.ndarray, goals: np.ndarray, goal_radius: float) -> tuple[np.ndarray, np.ndarray]:
    """Dense and sparse rewards for positions and goals of shape (..., 2)."""
    distance = np.linalg.norm(positions - goals, axis=-1)
    dense = -distance
    sparse = np.where(distance <= goal_radius, 1.0 - distance, 0.0)
    return dense, sparse


class Navigation2DEnv(gym.Env):
    """One point robot and one goal; ``reset_task`` changes the goal."""

    metadata = {"render_modes": []}

    def __init__(
        self,
        goal_distribution: str = "square",
        horizon: int = 100,
        sparse: bool = False,
        goal_radius: float = 0.2,
        goal_range: float = 0.5,
    ) -> None:
        self.goal_distribution = goal_distribution
        self.horizon = horizon
        self.sparse = sparse
        self.goal_radius = goal_radius
        self.goal_range = goal_range
        self.observation_space = gym.spaces.Box(-np.inf, np.inf, shape=(2,), dtype=np.float32)
        self.action_space = gym.spaces.Box(-MAX_ACTION, MAX_ACTION, shape=(2,), dtype=np.float32)
        self.goal = sample_goals(1, goal_distribution, seed=0, goal_range=goal_range)[0]
        self.position = np.zeros(2)
        self.t = 0

    # -- the task-distribution interface -------------------------------------------
    def sample_tasks(self, n: int, seed: int | None = None) -> list[Task]:
        goals = sample_goals(n, self.goal_distribution, seed, self.goal_range)
        return [{"goal": goal} for goal in goals]

    def reset_task(self, task: Task) -> None:
        self.goal = as_task(task, "goal").copy()

    # -- the gymnasium API ---------------------------------------------------------
    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        if options and "task" in options:
            self.reset_task(options["task"])
        self.position = np.zeros(2)
        self.t = 0
        return self.position.astype(np.float32), {"goal": self.goal.copy()}

    def step(self, action):
        action = np.clip(np.asarray(action, dtype=np.float64), -MAX_ACTION, MAX_ACTION)
        self.position = self.position + action
        self.t += 1
        dense, sparse = navigation_rewards(self.position, self.goal, self.goal_radius)
        reward = float(sparse if self.sparse else dense)
        truncated = self.t >= self.horizon
        info = {
            "dense_reward": float(dense),
            "sparse_reward": float(sparse),
            "success": bool(-dense <= self.goal_radius),
            "goal": self.goal.copy(),
        }
        return self.position.astype(np.float32), reward, False, truncated, info


class BatchedNavigation2D:
    """Many navigation tasks stepped at once as arrays (one row per task or trajectory).

    ``goals`` has shape (B, 2); ``reset()`` returns positions (B, 2) and ``step(actions)``
    takes actions (B, 2) and returns ``(positions, rewards, terminated, truncated, info)``
    with arrays of shape (B, 2), (B,), (B,), (B,). All rows share the time step, so every
    row is truncated at the same step H. The numbers are exactly those of
    ``Navigation2DEnv`` row by row.
    """

    def __init__(self, goals: np.ndarray, horizon: int = 100, sparse: bool = False, goal_radius: float = 0.2) -> None:
        self.goals = np.asarray(goals, dtype=np.float64).reshape(-1, 2)
        self.horizon = horizon
        self.sparse = sparse
        self.goal_radius = goal_radius
        self.positions = np.zeros_like(self.goals)
        self.t = 0

    @property
    def batch_size(self) -> int:
        return len(self.goals)

    def reset(self) -> np.ndarray:
        self.positions = np.zeros_like(self.goals)
        self.t = 0
        return self.positions.copy()

    def step(self, actions: np.ndarray):
        actions = np.clip(np.asarray(actions, dtype=np.float64), -MAX_ACTION, MAX_ACTION)
        if actions.shape != self.positions.shape:
            raise ValueError(f"actions must have shape {self.positions.shape}, got {actions.shape}")
        self.positions = self.positions + actions
        self.t += 1
        dense, sparse = navigation_rewards(self.positions, self.goals, self.goal_radius)
        rewards = sparse if self.sparse else dense
        terminated = np.zeros(self.batch_size, dtype=bool)
        truncated = np.full(self.batch_size, self.t >= self.horizon)
        info = {"dense_reward": dense, "sparse_reward": sparse, "success": -dense <= self.goal_radius}
        return self.positions.copy(), rewards, terminated, truncated, info


class TensorNavigation2D:
    """M goals × N trajectories each, stepped as torch tensors of shape (M, N, ...).

    The sampler of MAML (``metarl_course.maml``) needs hundreds of trajectories per
    meta-iteration; stepping them as one tensor on the policy's device avoids a round trip
    through NumPy at every step. Same dynamics and rewards as ``Navigation2DEnv``, with two
    options that MAML's official code had:

    - ``action_scale``: the policy acts in normalised units and the env moves by
      clip(action_scale · a, -0.1, 0.1) (rllab's ``normalize`` wrapper, scale 0.1, so that
      a unit-variance Gaussian policy is not saturated by the clipping);
    - ``terminate_within``: an episode ends once |x - g| < tol in both coordinates (0.01 there).
    """

    def __init__(self, goals, n_per_task: int, horizon: int = 100, sparse: bool = False, goal_radius: float = 0.2,
                 dtype=None, device=None, action_scale: float = 1.0, terminate_within: float | None = None) -> None:
        import torch

        self.torch = torch
        self.goals = torch.as_tensor(np.asarray(goals), dtype=dtype or torch.float32, device=device).reshape(-1, 1, 2)
        self.n_per_task = n_per_task
        self.horizon = horizon
        self.sparse = sparse
        self.goal_radius = goal_radius
        self.action_scale = action_scale
        self.terminate_within = terminate_within
        self.positions = self.goals.new_zeros(self.goals.shape[0], n_per_task, 2)

    def reset(self):
        self.positions = self.goals.new_zeros(self.goals.shape[0], self.n_per_task, 2)
        return self.positions.clone()

    def reseed(self, draw: int = 0) -> None:
        """Nothing to restart: every trajectory starts at the origin (``TaskBatchEnv.reseed``)."""

    def rewards(self, positions):
        """(dense, sparse) rewards at positions (M, N, 2): -||x - g||, and 1 - ||x - g|| within the goal radius."""
        distance = (positions - self.goals).norm(dim=-1)
        sparse = self.torch.where(distance <= self.goal_radius, 1.0 - distance, self.torch.zeros_like(distance))
        return -distance, sparse

    def step(self, actions):
        self.positions = self.positions + (self.action_scale * actions).clamp(-MAX_ACTION, MAX_ACTION)
        dense, sparse = self.rewards(self.positions)
        rewards = sparse if self.sparse else dense
        if self.terminate_within is None:
            terminated = self.torch.zeros_like(dense, dtype=self.torch.bool)
        else:
            terminated = ((self.positions - self.goals).abs() < self.terminate_within).all(dim=-1)
        return self.positions.clone(), rewards, terminated
