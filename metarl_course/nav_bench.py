"""Benchmark ``nav-protocol``: the unit-00 yardsticks on held-out navigation tasks.

Adaptation curves (return in episodes 1..K on new tasks) of the hand-written agents of
``nav_agents`` on dense 2D navigation (MAML's setting) and on PEARL's sparse point robot.
They are the floor (random, the best task-agnostic policy) and the ceiling (the exact
oracle) that the learned methods of later units are placed between.
"""

from __future__ import annotations

import numpy as np

from metarl_course import nav_agents
from metarl_course.bench import register
from metarl_course.envs import Navigation2DEnv
from metarl_course.evaluation import evaluate_adaptation, mean_and_stderr
from metarl_course.presets import get_budget


def _oracle_returns(env, tasks, n_episodes: int) -> np.ndarray:
    return np.concatenate([
        evaluate_adaptation(lambda t=task: nav_agents.OracleAgent(t["goal"]), env, [task], n_episodes) for task in tasks
    ])


def _agents(kind: str, seed: int) -> dict:
    agent_seeds = np.random.default_rng(seed)  # a different random agent on every task

    def make_random() -> nav_agents.RandomAgent:
        return nav_agents.RandomAgent(int(agent_seeds.integers(2**31)))

    if kind == "dense":
        return {"random": make_random, "stay": nav_agents.StayAgent, "probe-then-go": nav_agents.ProbeThenGoAgent}
    return {"random": make_random, "search-then-go": nav_agents.SearchThenGoAgent}


ENVS = {
    "dense": dict(goal_distribution="square", horizon=100),
    "sparse": dict(goal_distribution="semicircle", horizon=20, sparse=True, goal_radius=0.2),
}


@register("nav-protocol", "hand-written agents across adaptation episodes on held-out 2D navigation goals")
def nav_protocol(preset: str, seeds: list[int]):
    import matplotlib.pyplot as plt

    budget = get_budget("bench_nav_protocol", preset)
    K = budget.n_adaptation_episodes
    rows: list[dict] = []
    figure, axes = plt.subplots(1, 2, figsize=(11, 4))
    for ax, (kind, kwargs) in zip(axes, ENVS.items()):
        env = Navigation2DEnv(**kwargs)
        returns: dict[str, list[np.ndarray]] = {}
        for seed in seeds:
            tasks = env.sample_tasks(budget.n_test_tasks, seed=10_000 + seed)
            for method, make_agent in _agents(kind, seed).items():
                returns.setdefault(method, []).append(evaluate_adaptation(make_agent, env, tasks, K))
            returns.setdefault("oracle", []).append(_oracle_returns(env, tasks, K))
        for method, per_seed in returns.items():
            mean, stderr = mean_and_stderr(np.concatenate(per_seed))
            n = sum(len(r) for r in per_seed)
            for k in range(K):
                rows.append({"method": method, "task": f"navigation-{kind}", "episode": k + 1,
                             "mean": float(mean[k]), "stderr": float(stderr[k]), "n": n})
            ax.errorbar(np.arange(1, K + 1), mean, yerr=stderr, marker="o", capsize=3, label=method)
        ax.set(title=f"{kind} 2D navigation (H={kwargs['horizon']})", xlabel="adaptation episode", ylabel="return")
        ax.legend(fontsize=8)
    return rows, figure
