"""The meta-test protocol: how well does an agent adapt to tasks it has never seen?

Meta-RL is evaluated on *held-out* tasks. For each meta-test task the agent starts
with no knowledge of the task (a fresh memory) and plays K episodes in a row on it,
keeping whatever it learned from one episode to the next. The score is the return in
each adaptation episode k = 1..K, averaged over tasks:

    R_k = (1 / |T_test|) sum_{T in T_test} sum_t r_t^{(T, k)}

A learner that adapts well has a rising curve R_1 <= R_2 <= ...; a perfect one starts
at the oracle's level (which knows the task) from the first episode.

An *agent* here is anything with two methods:

- ``act(observation) -> action``
- ``observe(observation, action, reward, next_observation, done) -> None``

and ``make_agent()`` builds one with an empty memory. RL² keeps its memory in a
recurrent state, MAML in adapted weights, PEARL in a posterior over tasks: they all
fit this interface.
"""

from __future__ import annotations

from typing import Any, Callable, Protocol, Sequence

import numpy as np

from metarl_course.envs.base import Task


class Agent(Protocol):
    """An adaptive agent: it acts, and it learns from what it observes."""

    def act(self, observation: np.ndarray) -> Any: ...

    def observe(self, observation, action, reward: float, next_observation, done: bool) -> None: ...


def split_tasks(tasks: Sequence[Task], n_test: int, seed: int) -> tuple[list[Task], list[Task]]:
    """Split ``tasks`` into disjoint meta-train and meta-test sets, reproducibly.

    The order is ``perm = np.random.default_rng(seed).permutation(len(tasks))``; the
    meta-test set is ``tasks[perm[:n_test]]`` and the meta-train set the rest, both in
    the order of ``perm``.
    """
    if not 0 <= n_test <= len(tasks):
        raise ValueError(f"n_test={n_test} must lie between 0 and the number of tasks ({len(tasks)})")
    perm = np.random.default_rng(seed).permutation(len(tasks))
    meta_test = [tasks[i] for i in perm[:n_test]]
    meta_train = [tasks[i] for i in perm[n_test:]]
    return meta_train, meta_test


def run_episode(env, agent: Agent, seed: int | None = None) -> float:
    """Play one episode of ``env`` with ``agent`` (which observes every step); return its return."""
    observation, _ = env.reset(seed=seed)
    total, done = 0.0, False
    while not done:
        action = agent.act(observation)
        next_observation, reward, terminated, truncated, _ = env.step(action)
        done = bool(terminated or truncated)
        agent.observe(observation, action, float(reward), next_observation, done)
        total += float(reward)
        observation = next_observation
    return total


def evaluate_adaptation(
    make_agent: Callable[[], Agent], env, tasks: Sequence[Task], n_episodes: int
) -> np.ndarray:
    """Returns of shape (len(tasks), n_episodes): a fresh agent per task, kept across its episodes."""
    returns = np.zeros((len(tasks), n_episodes))
    for i, task in enumerate(tasks):
        env.reset_task(task)
        agent = make_agent()
        for k in range(n_episodes):
            returns[i, k] = run_episode(env, agent)
    return returns


def mean_and_stderr(values: np.ndarray, axis: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Mean and standard error of the mean along ``axis`` (stderr = std / sqrt(n), ddof=1)."""
    values = np.asarray(values, dtype=np.float64)
    n = values.shape[axis]
    mean = values.mean(axis=axis)
    stderr = values.std(axis=axis, ddof=1) / np.sqrt(n) if n > 1 else np.zeros_like(mean)
    return mean, stderr
