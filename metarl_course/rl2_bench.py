"""Benchmark ``rl2-throughput``: seconds per RL² update (collect a batch of trials + PPO).

This is what decides where each cell of RL² Table 1 can be trained: the reference
re-implementation needed about 240k observations per update and 12k updates.
Run it once on the CPU and once on a GPU (``METARL_DEVICE=cuda``) to compare.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import torch

from metarl_course.bench import register
from metarl_course.checkpoint_code import check_checkpoint_code
from metarl_course.device import get_device
from metarl_course.envs.bandits import sample_arm_means
from metarl_course.presets import get_budget, settings_digest
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


def _steps_per_second(step, n_steps: int, rows_per_step: int) -> float:
    start = time.perf_counter()
    for _ in range(n_steps):
        step()
    return rows_per_step * n_steps / (time.perf_counter() - start)


def _env_throughput_rows(batch: int = 1024, n_steps: int = 200) -> list[dict]:
    """Environment steps per second: one gymnasium env stepped in a Python loop against the
    batched array versions that RL² trains on (B rows stepped by one call)."""
    from metarl_course.envs.bandits import BatchedBernoulliBandit, BernoulliBanditEnv
    from metarl_course.envs.tabular_mdp import BatchedTabularMDP, TabularMDPEnv, sample_mdps

    rng = np.random.default_rng(0)
    bandit, mdp = BernoulliBanditEnv(k=5), TabularMDPEnv()
    bandit.reset(seed=0)
    mdp.reset(seed=0)
    batched_bandit = BatchedBernoulliBandit(sample_arm_means(batch, 5, 0), seed=0)
    batched_mdp = BatchedTabularMDP(*sample_mdps(batch, 0), horizon=n_steps + 1, seed=0)
    arms, actions = rng.integers(0, 5, size=batch), rng.integers(0, 5, size=batch)
    rates = {
        ("bandit", 1): _steps_per_second(lambda: bandit.step(2), 20 * n_steps, 1),
        ("bandit", batch): _steps_per_second(lambda: batched_bandit.pull(arms), n_steps, batch),
        ("tabular-mdp", 1): _steps_per_second(lambda: mdp.step(2) if mdp.t < 9 else mdp.reset(), 20 * n_steps, 1),
        ("tabular-mdp", batch): _steps_per_second(lambda: batched_mdp.step(actions), n_steps, batch),
    }
    return [{"method": "env-steps", "env": env, "batch": b, "mean": rate, "stderr": 0.0, "n": 1,
             "unit": "environment steps per second"} for (env, b), rate in rates.items()]


@register("rl2-throughput", "environment steps per second (single vs batched) and seconds per RL² update "
          "(trials collected + PPO epochs), GRU 256, on this machine's device",
          default_seeds=(0,))
def rl2_throughput(preset: str, seeds: list[int]):
    budget = get_budget("bench_rl2_throughput", preset)
    device = get_device()
    torch.manual_seed(seeds[0])
    rows = []
    rows += _env_throughput_rows()
    for k, n, trials in CELLS[: budget.n_cells]:
        collect, update = _time_updates(k, n, trials, budget.n_timed_updates, device)
        for method, seconds in (("collect", collect), ("ppo-update", update), ("total", collect + update)):
            stderr = float(seconds.std(ddof=1) / np.sqrt(len(seconds))) if len(seconds) > 1 else 0.0
            rows.append({"method": method, "device": str(device), "k": k, "episodes": n, "trials": trials,
                         "mean": float(seconds.mean()), "stderr": stderr, "n": len(seconds), "unit": "seconds per update"})
    return rows, None


# -- rl2-bandits and rl2-mdp: the RL² column of Tables 1 and 2 ---------------------------------
# Cells in the order a budget takes them: the laptop preset's first (n = 10 and 100 at
# k = 5 and 10), then k = 50, then n = 500 (GPU territory).
BANDIT_CELLS = [(5, 10), (10, 10), (5, 100), (10, 100), (50, 10), (50, 100), (5, 500), (10, 500), (50, 500)]
MDP_CELLS = [10, 25, 50, 75, 100]
# Training runs save a checkpoint every 10 updates here and resume from it when rerun
# (a long CPU run cut by a closed laptop, or GPU sessions of limited length).
CHECKPOINTS = Path(__file__).resolve().parent.parent / "build" / "bench"


def _per_trial_length(budget, key: str, n: int) -> int:
    """A budget the preset sets per trial length: ``updates_n10``, ``updates_n100``... and, for
    bandits, ``trials_n10``... (short trials are cheap, so the laptop preset affords the paper's
    1024 trials per update at n = 10 and fewer at n = 100 and 500)."""
    return int(getattr(budget, f"{key}_n{n}"))


def _bandit_reward_scale(n: int) -> float:
    """Scale rewards by 10 / n for trials longer than 10 pulls, so the value head's targets
    stay near the n = 10 scale. Unscaled, the value loss of n = 100 returns (tens) dominates
    the GRU's gradient under the clipped gradient norm, and RL² stalls at about 58 (k = 5,
    GRU 64, 100 updates) instead of 74 (benchmarks/README.md)."""
    return min(1.0, 10.0 / n)


def _rl2_row(method: str, cell: dict, totals: np.ndarray, **extra) -> dict:
    return {"method": method, **cell, "mean": float(totals.mean()),
            "stderr": float(totals.std(ddof=1) / np.sqrt(len(totals))), "n": len(totals), **extra}


def _curve_figure(curves: list[tuple[str, list[float], dict[str, float]]], title: str):
    """One panel per cell: RL²'s training curve with the reference levels as lines."""
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, len(curves), figsize=(3.6 * len(curves), 3.4), squeeze=False)
    for ax, (label, curve, levels) in zip(axes[0], curves):
        curve = np.asarray(curve)
        window = max(1, len(curve) // 20)
        ax.plot(np.convolve(curve, np.ones(window) / window, mode="valid"), label="RL² (training)")
        for (name, value), style in zip(levels.items(), (":", "--", "-.", "-")):
            ax.axhline(value, linestyle=style, color="gray" if name != "bayes_optimal" else "tab:red", label=f"{name} {value:.1f}")
        ax.set(title=label, xlabel="update")
        ax.legend(fontsize=6)
    axes[0][0].set_ylabel("mean total reward per trial")
    figure.suptitle(title)
    figure.tight_layout()
    return figure


def _train(train_fn, cell_args: tuple, config: RL2Config, seed: int, name: str, preset: str, device):
    # one folder per training configuration: a changed preset or --set never resumes another's run
    checkpoint = CHECKPOINTS / name / preset / settings_digest(config) / f"{'-'.join(map(str, cell_args))}-seed{seed}.pt"
    check_checkpoint_code(checkpoint.parent)  # warns if older code made the checkpoints it would resume
    start = time.perf_counter()
    policy, history = train_fn(*cell_args, config, seed=seed, device=device, progress=True, checkpoint=checkpoint)
    return policy, history, time.perf_counter() - start


def _rl2_cell(name: str, label: str, preset: str, seeds: list[int], cell: dict, cell_args: tuple, config: RL2Config,
              train_fn, evaluate_fn, baseline_fn, paper: dict[str, float], level_names: tuple[str, ...],
              n_eval_trials: int) -> tuple[list[dict], tuple]:
    """One cell of a table: train and evaluate RL² for every seed, then the baselines.

    Returns the rows (RL² and baselines, each with the paper's value) and the last seed's
    training curve with the baseline levels named in ``level_names``, for the figure.
    """
    device = get_device()
    rows = []
    for seed in seeds:
        policy, history, seconds = _train(train_fn, cell_args, config, seed, name, preset, device)
        totals = evaluate_fn(policy, *cell_args, n_eval_trials, seed=seed, device=device)
        rows.append(_rl2_row("rl2", cell, totals, seed=seed, updates=config.updates, hidden_size=config.hidden_size,
                             trials_per_update=config.trials_per_update, train_seconds=round(seconds, 1),
                             paper=paper["rl2"]))
    baselines = baseline_fn()
    for row in baselines:
        row["paper"] = paper.get(row["method"])
    levels = {r["method"]: r["mean"] for r in baselines if r["method"] in level_names}
    return rows + baselines, (label, history.mean_total_reward, levels)


@register("rl2-bandits", "RL² Table 1: RL² trained per (k, n) against the classical strategies and the Bayes optimum",
          default_seeds=(0,))
def rl2_bandits(preset: str, seeds: list[int]):
    from metarl_course.baselines import bandit_table
    from metarl_course.paper_tables import RL2_TABLE1
    from metarl_course.rl2 import evaluate_rl2_bandits, train_rl2_bandits

    budget = get_budget("bench_rl2_bandits", preset)
    rows, curves = [], []
    for k, n in BANDIT_CELLS[: budget.n_cells]:
        config = RL2Config(hidden_size=budget.hidden_size, trials_per_update=_per_trial_length(budget, "trials", n),
                           updates=_per_trial_length(budget, "updates", n), reward_scale=_bandit_reward_scale(n))
        cell_rows, curve = _rl2_cell(
            "rl2-bandits", f"k={k}, n={n}", preset, seeds, {"k": k, "episodes": n}, (k, n), config, train_rl2_bandits,
            evaluate_rl2_bandits, lambda: bandit_table(k, n, budget.n_baseline_trials, seed=seeds[0]),
            RL2_TABLE1[(k, n)], ("random", "ucb1", "gittins", "bayes_optimal"), budget.n_eval_trials)
        rows += cell_rows
        curves.append(curve)
    return rows, _curve_figure(curves, "RL² on Bernoulli bandits (one training run per cell)")


@register("rl2-mdp", "RL² Table 2: RL² trained per n on random tabular MDPs against PSRL, OPSRL, UCRL2, BEB, greedy",
          default_seeds=(0,))
def rl2_mdp(preset: str, seeds: list[int]):
    from metarl_course.baselines import mdp_table
    from metarl_course.paper_tables import RL2_TABLE2
    from metarl_course.rl2 import evaluate_rl2_mdps, train_rl2_mdps

    budget = get_budget("bench_rl2_mdp", preset)
    rows, curves = [], []
    for n in MDP_CELLS[: budget.n_cells]:
        config = RL2Config(hidden_size=budget.hidden_size, trials_per_update=budget.trials_per_update,
                           updates=_per_trial_length(budget, "updates", n), reward_scale=0.1)
        cell_rows, curve = _rl2_cell(
            "rl2-mdp", f"n={n} episodes", preset, seeds, {"episodes": n}, (n,), config, train_rl2_mdps, evaluate_rl2_mdps,
            lambda: mdp_table(n, budget.n_baseline_trials, seed=seeds[0]),
            RL2_TABLE2[n], ("random", "greedy", "psrl", "oracle"), budget.n_eval_trials)
        rows += cell_rows
        curves.append(curve)
    return rows, _curve_figure(curves, "RL² on random tabular MDPs (one training run per cell)")
