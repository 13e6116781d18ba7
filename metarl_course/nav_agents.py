"""Hand-written agents for 2D navigation: the yardsticks of unit 00.

None of them learns from data across tasks; they show what the meta-RL problem asks:

- ``RandomAgent``: uniform random actions (the floor).
- ``StayAgent``: the best *task-agnostic* policy for goals spread around the origin: stay
  at the start, which is the mean goal (what a single multi-task policy that cannot
  tell tasks apart can do at best on the dense task).
- ``OracleAgent``: is told the goal and moves straight at it, a = clip(g - x, -0.1, 0.1)
  (optimal: it reaches the projection of g onto the reachable box every step).
- ``ProbeThenGoAgent``: infers the goal from three probing steps of dense reward, then
  behaves like the oracle; it remembers the goal in later episodes (task inference).
- ``SearchThenGoAgent``: for the sparse semicircle task, walks out to the circle and
  sweeps along it until a reward appears, then remembers where (learning to explore).
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from metarl_course.envs.navigation import MAX_ACTION

ActionFn = Callable[[np.ndarray, np.ndarray], np.ndarray]
GoalFn = Callable[[np.ndarray, np.ndarray], np.ndarray]


def oracle_action(position: np.ndarray, goal: np.ndarray) -> np.ndarray:
    """The optimal action toward ``goal``: a = clip(g - x, -0.1, 0.1), for shapes (2,) or (B, 2)."""
    return np.clip(np.asarray(goal) - np.asarray(position), -MAX_ACTION, MAX_ACTION)


def infer_goal(positions: np.ndarray, rewards: np.ndarray) -> np.ndarray:
    """Least-squares goal from dense rewards r_i = -||x_i - g|| at >= 3 non-collinear x_i.

    Squaring d_i = -r_i gives ||x_i||^2 - 2 x_i.g + ||g||^2 = d_i^2; subtracting the
    first equation removes ||g||^2 and leaves the linear system
        2 (x_i - x_0) . g = (||x_i||^2 - d_i^2) - (||x_0||^2 - d_0^2),   i = 1..N-1.
    """
    x = np.asarray(positions, dtype=np.float64)
    d2 = np.asarray(rewards, dtype=np.float64) ** 2
    c = (x**2).sum(axis=1) - d2
    A = 2.0 * (x[1:] - x[0])
    b = c[1:] - c[0]
    return np.linalg.lstsq(A, b, rcond=None)[0]


class RandomAgent:
    def __init__(self, seed: int = 0) -> None:
        self.rng = np.random.default_rng(seed)

    def act(self, observation: np.ndarray) -> np.ndarray:
        return self.rng.uniform(-MAX_ACTION, MAX_ACTION, size=2).astype(np.float32)

    def observe(self, *transition) -> None:
        pass


class StayAgent:
    def act(self, observation: np.ndarray) -> np.ndarray:
        return np.zeros(2, dtype=np.float32)

    def observe(self, *transition) -> None:
        pass


class OracleAgent:
    """Cheats on purpose: it is handed the goal (the upper bound of every method)."""

    def __init__(self, goal: np.ndarray, action_fn: ActionFn = oracle_action) -> None:
        self.goal = np.asarray(goal, dtype=np.float64)
        self.action_fn = action_fn

    def act(self, observation: np.ndarray) -> np.ndarray:
        return np.asarray(self.action_fn(observation, self.goal), dtype=np.float32)

    def observe(self, *transition) -> None:
        pass


class ProbeThenGoAgent:
    """Dense task: probe three points, infer the goal, then go; remember it afterwards."""

    PROBES = np.array([[MAX_ACTION, 0.0], [0.0, MAX_ACTION], [-MAX_ACTION, 0.0]], dtype=np.float32)

    def __init__(self, goal_fn: GoalFn = infer_goal, action_fn: ActionFn = oracle_action) -> None:
        self.goal_fn, self.action_fn = goal_fn, action_fn
        self.goal: np.ndarray | None = None
        self.positions: list[np.ndarray] = []
        self.rewards: list[float] = []

    def act(self, observation: np.ndarray) -> np.ndarray:
        if self.goal is None:
            return self.PROBES[len(self.rewards) % len(self.PROBES)].copy()
        return np.asarray(self.action_fn(observation, self.goal), dtype=np.float32)

    def observe(self, observation, action, reward, next_observation, done) -> None:
        if self.goal is not None:
            return
        self.positions.append(np.asarray(next_observation, dtype=np.float64))
        self.rewards.append(float(reward))
        if len(self.rewards) >= len(self.PROBES):
            self.goal = np.asarray(self.goal_fn(np.array(self.positions), np.array(self.rewards)), dtype=np.float64)


class SearchThenGoAgent:
    """Sparse semicircle task: walk out to radius 1, sweep the arc, remember the reward spot."""

    def __init__(self, sweep_step: float = 0.1, action_fn: ActionFn = oracle_action) -> None:
        self.sweep_step = sweep_step
        self.action_fn = action_fn
        self.goal: np.ndarray | None = None
        self.angle = 0.0

    def _waypoint(self) -> np.ndarray:
        return np.array([np.cos(self.angle), np.sin(self.angle)])

    def act(self, observation: np.ndarray) -> np.ndarray:
        if self.goal is not None:
            return np.asarray(self.action_fn(observation, self.goal), dtype=np.float32)
        if np.linalg.norm(self._waypoint() - observation) < 1e-3:
            self.angle = min(self.angle + self.sweep_step, np.pi)
        return np.asarray(self.action_fn(observation, self._waypoint()), dtype=np.float32)

    def observe(self, observation, action, reward, next_observation, done) -> None:
        # Until rewarded, the memory is the sweep angle: the next episode resumes the sweep there.
        if self.goal is None and reward > 0:
            self.goal = np.asarray(next_observation, dtype=np.float64)
