"""Benchmark ``rl2-throughput``: seconds per RL² update (collect a batch of trials + PPO).

This is what decides where each cell of RL² Table 1 can be trained: the reference
re-implementation needed about 240k observations per update and 12k updates.
Run it once on the CPU and once on a GPU (``METARL_DEVICE=cuda``) to compare.
"""

from __future__ import annotations

import time

import numpy as np
import torch

from metarl_course.bench import register
from metarl_course.device import get_device
from metarl_course.envs.bandits import sample_arm_means
from metarl_course.presets import get_budget
from metarl_course.rl2 import RL2Config, RL2Policy, collect_bandit_trials, ppo_update

CELLS = [(5, 10, 256), (5, 100, 256), (5, 100, 2048), (5, 500, 256)]  # (k, n, trials per update)


def _time_updates(k: int, n: int, trials: int, n_timed: int, device) -> tuple[np.ndarray, np.ndarray]:
    config = RL2Config(trials_per_update=trials)
    policy = RL2Policy(1 + k + 2, k, config.hidden_size).to(device)
    optimizer = torch.optim.Adam(policy.parameters(), lr=config.lr)
    collect, update = [], []
    for i in range(n_timed + 1):  # the first update warms up (allocations, kernels)
        start = time.perf_counter()
        batch = collect_bandit_trials(policy, sample_arm_means(trials, k, i), n, seed=i, device=device)
        middle = time.perf_counter()
        ppo_update(policy, optimizer, batch, config)
        if device.type == "cuda":
            torch.cuda.synchronize()
        if i:
            collect.append(middle - start)
            update.append(time.perf_counter() - middle)
    return np.array(collect), np.array(update)


@register("rl2-throughput", "seconds per RL² update (trials collected + PPO epochs), GRU 256, on this machine's device",
          default_seeds=(0,))
def rl2_throughput(preset: str, seeds: list[int]):
    budget = get_budget("bench_rl2_throughput", preset)
    device = get_device()
    torch.manual_seed(seeds[0])
    rows = []
    for k, n, trials in CELLS[: budget.n_cells]:
        collect, update = _time_updates(k, n, trials, budget.n_timed_updates, device)
        for method, seconds in (("collect", collect), ("ppo-update", update), ("total", collect + update)):
            stderr = float(seconds.std(ddof=1) / np.sqrt(len(seconds))) if len(seconds) > 1 else 0.0
            rows.append({"method": method, "device": str(device), "k": k, "episodes": n, "trials": trials,
                         "mean": float(seconds.mean()), "stderr": stderr, "n": len(seconds), "unit": "seconds per update"})
    return rows, None
