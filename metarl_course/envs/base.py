"""The task-distribution interface shared by every environment family.

A meta-RL problem is a distribution over tasks p(T). In this kit a *task* is a small
dictionary of numbers that fully specifies one MDP of a family (a goal position, the
arm means of a bandit, the target velocity of a cheetah). Every environment family
offers the same two methods:

- ``sample_tasks(n, seed)``: draw ``n`` tasks i.i.d. from p(T), reproducibly from ``seed``;
- ``reset_task(task)``: make the environment *be* that task until the next call.

Everything else is the ordinary gymnasium API (``reset``, ``step``), so a task-aware
environment is a plain ``gymnasium.Env`` whose MDP can be switched.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

import numpy as np

Task = dict[str, Any]
"""One task of a family, e.g. ``{"goal": array([0.3, -0.1])}``."""


@runtime_checkable
class TaskDistribution(Protocol):
    """What every environment family of the kit implements."""

    def sample_tasks(self, n: int, seed: int | None = None) -> list[Task]:
        """Draw ``n`` tasks from p(T); the same ``seed`` gives the same tasks."""
        ...

    def reset_task(self, task: Task) -> None:
        """Switch the environment to ``task`` (takes effect from the next ``reset``)."""
        ...


def as_task(task: Task | None, key: str) -> np.ndarray | None:
    """Return ``task[key]`` as a float array, or None when no task is given."""
    if task is None:
        return None
    if key not in task:
        raise KeyError(f"a task of this family needs the key {key!r}; got keys {sorted(task)}")
    return np.asarray(task[key], dtype=np.float64)
