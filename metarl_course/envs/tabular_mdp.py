"""Random tabular MDPs: the second small-scale experiment of RL² (§4.1, Table 2).

A task is one finite MDP with |S| = 10 states and |A| = 5 actions, drawn as

- transitions  P(· | s, a) ~ Dirichlet(1, ..., 1)  (uniform over the simplex),
- mean rewards μ(s, a) ~ N(1, 1),

and a step from s with action a pays r ~ N(μ(s, a), 1) and moves to s' ~ P(· | s, a).
An episode is T = 10 steps; a *trial* is n episodes on the same MDP, and the score is the
total reward of the trial.

Initial state: every episode starts in state 0, as in the RL² authors' environment code
(states are exchangeable under the task distribution, so which fixed state is used does
not matter). Any policy that ignores μ, random play included, earns E[μ] = 1 per step on
average over tasks: ≈ 100 per 10 episodes, the "Random" column of Table 2.

- observation: the current state, ``Discrete(n_states)`` (one-hot it for a network)
- action: ``Discrete(n_actions)``
- the episode is truncated (never terminated) after T steps
"""

from __future__ import annotations

import time
from typing import Any

import gymnasium as gym
import numpy as np

from metarl_course.envs.base import Task, as_task

N_STATES = 10
N_ACTIONS = 5
HORIZON = 10
START_STATE = 0


def sample_mdps(n: int, seed: int | None, n_states: int = N_STATES, n_actions: int = N_ACTIONS):
    """Draw ``n`` MDPs: transitions (n, S, A, S) ~ Dirichlet(1), mean rewards (n, S, A) ~ N(1, 1)."""
    rng = np.random.default_rng(seed)
    mean_rewards = rng.normal(1.0, 1.0, size=(n, n_states, n_actions))
    transitions = rng.dirichlet(np.ones(n_states), size=(n, n_states, n_actions))
    return transitions, mean_rewards


def sample_steps(
    transitions: np.ndarray,
    mean_rewards: np.ndarray,
    states: np.ndarray,
    actions: np.ndarray,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """One step of B MDPs at once: (next states (B,), rewards (B,)).

    Row b steps MDP b from ``states[b]`` with ``actions[b]``. The randomness is one
    uniform per row for the next state (inverse CDF of P(· | s, a)) followed by one
    standard normal per row for the reward noise; single and batched environments both
    call this function, so they consume random numbers identically.
    """
    rows = np.arange(len(states))
    u = rng.random(len(states))
    noise = rng.standard_normal(len(states))
    cdf = np.cumsum(transitions[rows, states, actions], axis=-1)
    next_states = np.minimum((u[:, None] >= cdf).sum(axis=-1), cdf.shape[-1] - 1)
    rewards = mean_rewards[rows, states, actions] + noise
    return next_states, rewards


class TabularMDPEnv(gym.Env):
    """One random tabular MDP; ``reset_task`` switches to another one."""

    metadata = {"render_modes": []}

    def __init__(self, n_states: int = N_STATES, n_actions: int = N_ACTIONS, horizon: int = HORIZON) -> None:
        self.n_states = n_states
        self.n_actions = n_actions
        self.horizon = horizon
        self.observation_space = gym.spaces.Discrete(n_states)
        self.action_space = gym.spaces.Discrete(n_actions)
        self.reset_task(self.sample_tasks(1, seed=0)[0])
        self.state = START_STATE
        self.t = 0

    # -- the task-distribution interface -------------------------------------------
    def sample_tasks(self, n: int, seed: int | None = None) -> list[Task]:
        transitions, mean_rewards = sample_mdps(n, seed, self.n_states, self.n_actions)
        return [{"transitions": p, "mean_rewards": mu} for p, mu in zip(transitions, mean_rewards)]

    def reset_task(self, task: Task) -> None:
        transitions, mean_rewards = as_task(task, "transitions"), as_task(task, "mean_rewards")
        shape = (self.n_states, self.n_actions)
        if transitions.shape != shape + (self.n_states,) or mean_rewards.shape != shape:
            raise ValueError(
                f"this MDP has {self.n_states} states and {self.n_actions} actions: transitions must have shape "
                f"{shape + (self.n_states,)} and mean_rewards {shape}; got {transitions.shape} and {mean_rewards.shape}"
            )
        if not np.allclose(transitions.sum(axis=-1), 1.0):
            raise ValueError("every row P(. | s, a) of the transitions must sum to 1")
        self.transitions = transitions.copy()
        self.mean_rewards = mean_rewards.copy()

    # -- the gymnasium API ---------------------------------------------------------
    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        if options and "task" in options:
            self.reset_task(options["task"])
        self.state = START_STATE
        self.t = 0
        return self.state, {}

    def step(self, action):
        action = int(action)
        if not 0 <= action < self.n_actions:
            raise ValueError(f"action {action} does not exist; this MDP has actions 0..{self.n_actions - 1}")
        mean_reward = float(self.mean_rewards[self.state, action])
        next_states, rewards = sample_steps(
            self.transitions[None], self.mean_rewards[None], np.array([self.state]), np.array([action]), self.np_random
        )
        self.state = int(next_states[0])
        self.t += 1
        truncated = self.t >= self.horizon
        return self.state, float(rewards[0]), False, truncated, {"mean_reward": mean_reward}


class BatchedTabularMDP:
    """B tabular MDPs stepped at once as arrays (one row per task or trial).

    ``transitions`` (B, S, A, S), ``mean_rewards`` (B, S, A). ``reset()`` returns states
    (B,) (all ``START_STATE``); ``step(actions)`` takes actions (B,) and returns
    ``(states, rewards, terminated, truncated, info)``; all rows share the step count,
    so they are truncated together after ``horizon`` steps. With one row and the same
    seed it produces exactly the numbers of ``TabularMDPEnv``.
    """

    def __init__(
        self, transitions: np.ndarray, mean_rewards: np.ndarray, horizon: int = HORIZON, seed: int | None = None
    ) -> None:
        self.transitions = np.asarray(transitions, dtype=np.float64)
        self.mean_rewards = np.asarray(mean_rewards, dtype=np.float64)
        if self.transitions.ndim != 4 or self.transitions.shape[:3] != self.mean_rewards.shape:
            raise ValueError(
                f"transitions must have shape (B, S, A, S) and mean_rewards (B, S, A); "
                f"got {self.transitions.shape} and {self.mean_rewards.shape}"
            )
        self.horizon = horizon
        self.rng = np.random.default_rng(seed)
        self.states = np.full(self.batch_size, START_STATE)
        self.t = 0

    @classmethod
    def from_tasks(cls, tasks: list[Task], horizon: int = HORIZON, seed: int | None = None) -> "BatchedTabularMDP":
        transitions = np.stack([as_task(task, "transitions") for task in tasks])
        mean_rewards = np.stack([as_task(task, "mean_rewards") for task in tasks])
        return cls(transitions, mean_rewards, horizon, seed)

    @property
    def batch_size(self) -> int:
        return self.transitions.shape[0]

    @property
    def n_states(self) -> int:
        return self.transitions.shape[1]

    @property
    def n_actions(self) -> int:
        return self.transitions.shape[2]

    def reset(self) -> np.ndarray:
        self.states = np.full(self.batch_size, START_STATE)
        self.t = 0
        return self.states.copy()

    def step(self, actions: np.ndarray):
        actions = np.asarray(actions, dtype=np.int64)
        if actions.shape != (self.batch_size,):
            raise ValueError(f"actions must have shape ({self.batch_size},), got {actions.shape}")
        mean_reward = self.mean_rewards[np.arange(self.batch_size), self.states, actions]
        self.states, rewards = sample_steps(self.transitions, self.mean_rewards, self.states, actions, self.rng)
        self.t += 1
        terminated = np.zeros(self.batch_size, dtype=bool)
        truncated = np.full(self.batch_size, self.t >= self.horizon)
        return self.states.copy(), rewards, terminated, truncated, {"mean_reward": mean_reward}


def step_throughput(batch_size: int = 1024, n_steps: int = 1000, seed: int = 0) -> float:
    """Environment steps per second of ``BatchedTabularMDP`` (rows × steps / wall time)."""
    transitions, mean_rewards = sample_mdps(batch_size, seed)
    env = BatchedTabularMDP(transitions, mean_rewards, horizon=n_steps + 1, seed=seed)
    rng = np.random.default_rng(seed)
    actions = rng.integers(0, env.n_actions, size=(n_steps, batch_size))
    env.reset()
    start = time.perf_counter()
    for t in range(n_steps):
        env.step(actions[t])
    return batch_size * n_steps / (time.perf_counter() - start)
