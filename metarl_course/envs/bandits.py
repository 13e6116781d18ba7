"""Bernoulli multi-armed bandits: the simplest meta-RL problem.

A task is a vector of k arm means p_1..p_k, each drawn from U[0, 1]. Pulling arm a pays
1 with probability p_a and 0 otherwise. In RL² terms a *trial* is n pulls on one task,
each pull a one-step episode: the agent must learn, within the trial, which arm is best.

- observation: a constant (a bandit has a single state); shape (1,), always 0
- action: the arm index, ``Discrete(k)``
- reward: r ~ Bernoulli(p_a); every episode terminates after one step
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

from metarl_course.envs.base import Task, as_task


def sample_arm_means(n: int, k: int, seed: int | None) -> np.ndarray:
    """Draw ``n`` tasks of ``k`` arm means each, p ~ U[0, 1]; shape (n, k)."""
    return np.random.default_rng(seed).uniform(0.0, 1.0, size=(n, k))


class BernoulliBanditEnv(gym.Env):
    """One bandit task; each episode is one pull."""

    metadata = {"render_modes": []}

    def __init__(self, k: int = 5) -> None:
        self.k = k
        self.observation_space = gym.spaces.Box(0.0, 0.0, shape=(1,), dtype=np.float32)
        self.action_space = gym.spaces.Discrete(k)
        self.means = sample_arm_means(1, k, seed=0)[0]

    def sample_tasks(self, n: int, seed: int | None = None) -> list[Task]:
        return [{"means": means} for means in sample_arm_means(n, self.k, seed)]

    def reset_task(self, task: Task) -> None:
        means = as_task(task, "means")
        if means.shape != (self.k,):
            raise ValueError(f"this bandit has k={self.k} arms; the task has means of shape {means.shape}")
        self.means = means.copy()

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        if options and "task" in options:
            self.reset_task(options["task"])
        return np.zeros(1, dtype=np.float32), {}

    def step(self, action):
        action = int(action)
        if not 0 <= action < self.k:
            raise ValueError(f"arm {action} does not exist; this bandit has arms 0..{self.k - 1}")
        reward = float(self.np_random.random() < self.means[action])
        info = {"best_mean": float(self.means.max()), "regret": float(self.means.max() - self.means[action])}
        return np.zeros(1, dtype=np.float32), reward, True, False, info


class BatchedBernoulliBandit:
    """B bandit tasks pulled at once: ``pull(arms)`` with arms (B,) returns rewards (B,)."""

    def __init__(self, means: np.ndarray, seed: int | None = None) -> None:
        self.means = np.asarray(means, dtype=np.float64)
        if self.means.ndim != 2:
            raise ValueError(f"means must have shape (B, k), got {self.means.shape}")
        self.rng = np.random.default_rng(seed)

    @property
    def batch_size(self) -> int:
        return self.means.shape[0]

    @property
    def k(self) -> int:
        return self.means.shape[1]

    def pull(self, arms: np.ndarray) -> np.ndarray:
        arms = np.asarray(arms, dtype=np.int64)
        if arms.shape != (self.batch_size,):
            raise ValueError(f"arms must have shape ({self.batch_size},), got {arms.shape}")
        p = self.means[np.arange(self.batch_size), arms]
        return (self.rng.random(self.batch_size) < p).astype(np.float64)

    def expected_reward(self, arms: np.ndarray) -> np.ndarray:
        """The mean of the pulled arms: the reward without the Bernoulli noise."""
        return self.means[np.arange(self.batch_size), np.asarray(arms, dtype=np.int64)]
