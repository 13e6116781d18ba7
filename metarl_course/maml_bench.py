"""Benchmarks ``maml-nav`` and ``maml-cheetah``: the adaptation curves of MAML's Figures 4 and 5.

For each seed: meta-train MAML-TRPO, a *pretrained* policy (the same TRPO on all tasks
with no inner step), and an *oracle* (the same, with the task as input); take a randomly
initialised policy as the floor. Then on held-out tasks, fine-tune MAML, pretrained and
random with the same policy-gradient steps (α, then α/2: the paper's 0.1 and 0.05) and report the return
after 0, 1, 2 and 3 steps beside the paper's results files; the oracle's return is the
ceiling. ``maml-nav`` also reports seconds per meta-iteration (the speed headline), with
the Fisher-vector products on a subsample as in the preset and with all the data.

How long MAML meta-trains on 2D navigation differs between presets on purpose. ``paper``:
100 meta-iterations, the length of the official script that produced the paper's results
file (cbfinn/maml_rl, ``maml_trpo_point.py``, ``n_itr=100``). ``laptop``: 500, the
configuration of the popular port that the speed headline is measured against. Longer
training sharpens the policy (σ ≈ 0.14 after 500 iterations, 0.39 after 100), and the later
test steps of α/2 then overshoot (see ``benchmarks/README.md``).
"""

from __future__ import annotations

import multiprocessing
import os
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from metarl_course.bench import register
from metarl_course.checkpoint_code import check_checkpoint_code
from metarl_course.device import get_device
from metarl_course.maml import (GaussianMLPPolicy, History, MAMLConfig, TaskFamily, Validation,
                                adaptation_curve_over_draws, checkpoint_policy, navigation_tasks,
                                navigation_test_tasks, oracle_normalised, train_maml)
from metarl_course.paper_tables import MAML_RESULTS
from metarl_course.presets import get_budget, settings_digest

CHECKPOINTS = Path("build/bench")
N_TEST_STEPS = 3  # returns after 0, 1, 2 and 3 gradient steps, as in the paper's figures
# A comparison row: MAML's curve with later steps of α/4 instead of the paper's α/2 (what the
# 500-iteration policies, sharper than the paper's, need after the first step)
SMALL_LATER = "MAML, later steps α/4"
# The official test script for 2D navigation (cbfinn/maml_rl, maml_examples/test_maml_point.py)
# adapted with batch_size=4000 at H = 100: 40 trajectories per step, twice the 20 of training.
WIDE_TEST = "MAML, 40 trajectories per step"
# With validation, the MAML policy of the last meta-iteration (the kept one is the best validated)
LAST_ITERATE = "MAML, last iterate"


def _train_all(name: str, preset: str, seed: int, make_family: Callable[[], TaskFamily], obs_dim: int,
               act_dim: int, task_dim: int, config: MAMLConfig, iterations: int, baseline_iterations: int,
               device: torch.device, workers: int = 1, validation_tasks: Callable | None = None,
               validate_every: int = 0, n_validation_tasks: int = 0, n_validation_draws: int = 1) -> dict:
    """MAML, pretrained and oracle policies for one seed (checkpointed), and a random one.

    Each method trains on its own task family from ``make_family()`` (a fresh environment, so
    its reset noise does not depend on which method trained before it). ``workers > 1`` trains
    the three methods in that many processes at once, each with its share of the CPU threads,
    into their checkpoint files; the loop below then loads the finished checkpoints.

    ``validation_tasks()`` (env, ``n_validation_tasks`` task features) and ``validate_every > 0``: every method keeps
    its best iterate on those tasks, scored as it is tested (MAML and pretrained after one
    step α, the oracle as it is; the mean of ``n_validation_draws`` adaptations per task),
    and MAML's last iterate is compared as ``LAST_ITERATE``.
    """
    # one folder per training configuration: a changed preset or --set never resumes another's run
    validating = validation_tasks is not None and validate_every > 0
    digest = settings_digest(config, iterations, baseline_iterations,
                             *([validate_every, n_validation_tasks, n_validation_draws] if validating else []))
    folder = CHECKPOINTS / name / preset / digest
    check_checkpoint_code(folder)            # warns if older code made the checkpoints it would resume
    runs = {"MAML": (config, iterations),
            "pretrained": (replace(config, n_inner=0), baseline_iterations),
            "oracle": (replace(config, n_inner=0, task_input=True), baseline_iterations)}
    jobs = {method: dict(make_family=make_family, obs_dim=obs_dim, act_dim=act_dim, iterations=its, config=cfg,
                         seed=seed, task_dim=task_dim, desc=f"{name} {method} seed {seed}",
                         checkpoint=folder / f"{method}_seed{seed}.pt", device=str(device),
                         validation=Validation(validation_tasks, validate_every,
                                               () if cfg.task_input else (config.inner_step,), cfg.task_input,
                                               seed=555 + seed, draws=n_validation_draws) if validating else None)
            for method, (cfg, its) in runs.items()}
    if workers > 1:
        _train_in_processes(list(jobs.values()), workers)
    torch.manual_seed(10_000 + seed)
    policies = {"random": (GaussianMLPPolicy(obs_dim, act_dim, config.hidden).to(device), None, False)}
    for method, job in jobs.items():
        policy, history = _train_one(**job)
        policies[method] = (policy, history, job["config"].task_input)
    if validating:
        state = torch.load(jobs["MAML"]["checkpoint"], weights_only=False, map_location=device)
        policies[LAST_ITERATE] = (checkpoint_policy(state, "last").to(device), policies["MAML"][1], False)
    return policies


def _train_one(make_family: Callable[[], TaskFamily], obs_dim: int, act_dim: int, iterations: int,
               config: MAMLConfig, seed: int, task_dim: int, desc: str, checkpoint: Path, device: str,
               validation: Validation | None = None):
    """One method's ``train_maml`` call (in this process or a worker's): resumes its checkpoint."""
    return train_maml(_built_on_first_use(make_family), obs_dim, act_dim, iterations, config, seed=seed,
                      task_dim=task_dim, progress=True, desc=desc, checkpoint=checkpoint, device=device,
                      validation=validation)


def _built_on_first_use(make_family: Callable[[], TaskFamily]) -> TaskFamily:
    """The family ``make_family()`` builds, built at the first meta-iteration: loading a finished
    checkpoint never builds one (at the paper's sizes, 800 MuJoCo environments take 5 s)."""
    family: TaskFamily | None = None

    def make_tasks(n_tasks: int, rng: np.random.Generator):
        nonlocal family
        if family is None:
            family = make_family()
        return family(n_tasks, rng)

    return make_tasks


def _train_in_worker(job: dict, threads: int) -> None:
    torch.set_num_threads(threads)
    _train_one(**job)


def _finished(job: dict) -> bool:
    """Has this job's checkpoint all its iterations already (a resumed run: nothing left to train)?"""
    path = Path(job["checkpoint"])
    return path.exists() and torch.load(path, weights_only=False, map_location="cpu")["iteration"] >= job["iterations"]


def _train_in_processes(jobs: list[dict], workers: int) -> None:
    """Run the unfinished ``jobs`` in up to ``workers`` fresh (spawned) processes; each writes its
    checkpoint file. The CPU threads are shared among the processes that run: a run resumed when
    only MAML is left gives MAML every core."""
    jobs = [job for job in jobs if not _finished(job)]
    if not jobs:
        return
    workers = min(workers, len(jobs))
    threads = max(1, (os.cpu_count() or 1) // workers)
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        for future in [pool.submit(_train_in_worker, job, threads) for job in jobs]:
            future.result()  # re-raises a worker's error here


def meta_test_step_sizes(alpha: float, later: float = 0.5) -> tuple[float, ...]:
    """The meta-test protocol for a policy meta-trained with inner step α: α, then ``later``·α.

    The paper's is α, then α/2 (α = 0.1 gives 0.1, 0.05, 0.05; the official 2D-navigation
    scripts of cbfinn/maml_rl meta-train with α = 0.5 and test with 0.5, then 0.25)."""
    return (alpha,) + (later * alpha,) * (N_TEST_STEPS - 1)


def _curves(policies: dict, test_env, test_feats, seed: int, wide_test: tuple | None = None,
            alpha: float = 0.1, draws: int = 1) -> dict[str, np.ndarray]:
    """Per-task returns (steps + 1, M) for every method on the held-out tasks, with the
    step sizes of ``meta_test_step_sizes(alpha)`` (and MAML's also with quarter-size later steps).

    ``draws``: each task's returns are averaged over that many independent adaptations (fresh
    trajectories, fresh start states). One step on 10 MuJoCo trajectories is a noisy thing: the same
    policy's mean over 10 held-out directions moves by 20-50 from one draw to the next. Draw d uses
    the generator seed 777 + seed + 1000·d and, on MuJoCo, start-state seeds that differ per draw;
    every method gets the same draws. Draw 0 is what unit 03 shows.

    ``wide_test`` (env, task features): the same goals with more trajectories per step, for
    MAML's curve under the official test script's batch (``WIDE_TEST``)."""
    def curve(policy, env, feats, steps, task_input=False):
        return adaptation_curve_over_draws(policy, env, feats, steps, 777 + seed, draws, task_input)

    steps = meta_test_step_sizes(alpha)
    out = {method: curve(policy, test_env, test_feats, () if method == "oracle" else steps, task_input)
           for method, (policy, _, task_input) in policies.items()}
    out[SMALL_LATER] = curve(policies["MAML"][0], test_env, test_feats, meta_test_step_sizes(alpha, later=0.25))
    if wide_test is not None:
        out[WIDE_TEST] = curve(policies["MAML"][0], *wide_test, steps)
    return out


def _rows(task: str, curves: dict[str, list[np.ndarray]], draws: int = 1) -> list[dict]:
    """Mean and standard error over held-out tasks (and seeds) of each method after k steps; ``draws``:
    how many adaptations each task's return averages (``_curves``)."""
    rows = []
    for method, per_seed in curves.items():
        returns = np.concatenate(per_seed, axis=1)  # (steps + 1, seeds × tasks)
        for k in range(returns.shape[0]):
            r = returns[k]
            rows.append({"method": method, "task": task, "steps": k, "mean": float(r.mean()),
                         "stderr": float(r.std(ddof=1) / np.sqrt(len(r))) if len(r) > 1 else 0.0, "n": int(len(r)),
                         "draws": draws})
    paper = MAML_RESULTS[task]
    for k, value in paper["MAML"].items():
        rows.append({"method": "paper MAML", "task": task, "steps": k, "mean": value, "stderr": 0.0, "n": 40})
    rows.append({"method": "paper oracle", "task": task, "steps": 0, "mean": paper["oracle"], "stderr": 0.0, "n": 40})
    floor = next(r["mean"] for r in rows if r["method"] == "random" and r["steps"] == 0)
    ceiling = next(r["mean"] for r in rows if r["method"] == "oracle" and r["steps"] == 0)
    if ceiling <= floor:  # an undertrained oracle: the normalised score would mean nothing
        return rows
    for method in ("MAML", "pretrained", "random"):
        for k in (1, 3):
            value = next(r["mean"] for r in rows if r["method"] == method and r["steps"] == k)
            rows.append({"method": f"{method} (oracle-normalised)", "task": task, "steps": k,
                         "mean": oracle_normalised(value, floor, ceiling), "stderr": 0.0, "n": 1})
    return rows


def _figure(panels: list[tuple[str, list[dict], list]]):
    """One row per task: the adaptation curves on held-out tasks, and MAML's meta-training curve."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(len(panels), 2, figsize=(11, 4 * len(panels)), squeeze=False)
    for (task, rows, histories), (ax, ax2) in zip(panels, axes):
        _adaptation_panel(ax, task, rows)
        for seed_i, h in enumerate(histories):
            ax2.plot(h.iteration, h.pre_return, "C1", alpha=0.7, label="pre-update" if seed_i == 0 else None)
            ax2.plot(h.iteration, h.post_return, "C0", alpha=0.7, label="post-update" if seed_i == 0 else None)
            if h.validation_return:
                ax2.plot(h.validation_iteration, h.validation_return, "kD-", markersize=3, linewidth=1,
                         label="validation tasks, one step (best kept)" if seed_i == 0 else None)
                ax2.axvline(h.best_iteration(), color="k", linestyle=":", linewidth=1)
        ax2.set(xlabel="meta-iteration", ylabel="average return (training tasks)", title=f"{task}: MAML meta-training")
        ax2.legend()
    fig.tight_layout()
    return fig


def _adaptation_panel(ax, task: str, rows: list[dict]) -> None:
    styles = {"MAML": ("C0", "-"), SMALL_LATER: ("C0", ":"), WIDE_TEST: ("C2", "--"), LAST_ITERATE: ("C4", "-."),
              "pretrained": ("C1", "-"), "random": ("C7", "-")}
    for method, (color, line) in styles.items():
        pts = sorted((r["steps"], r["mean"], r["stderr"]) for r in rows if r["method"] == method)
        if not pts:  # the 40-trajectory protocol is 2D navigation's only
            continue
        k, m, s = map(np.array, zip(*pts))
        ax.errorbar(k, m, yerr=s, marker="o", color=color, linestyle=line, label=method, capsize=3)
    paper = sorted((r["steps"], r["mean"]) for r in rows if r["method"] == "paper MAML")
    ax.plot(*zip(*paper), "C0x", linestyle="none", markersize=10, label="paper MAML")
    oracle = next(r["mean"] for r in rows if r["method"] == "oracle")
    ax.axhline(oracle, color="k", linestyle="--", label="oracle (ours)")
    ax.axhline(next(r["mean"] for r in rows if r["method"] == "paper oracle"), color="k", linestyle=":",
               label="oracle (paper)")
    ax.set(xlabel="number of gradient steps", ylabel="average return", title=f"{task}: adaptation on held-out tasks",
           xticks=range(N_TEST_STEPS + 1))
    _keep_random_in_view(ax, rows, styles)
    ax.legend(fontsize=8)


def _keep_random_in_view(ax, rows: list[dict], methods) -> None:
    """A diverging curve (pretrained fine-tuning can fall to -600) would squash the others into a
    line: cut the axis at 1.5 times the random policy's lowest return and say what fell below."""
    random_low = min(r["mean"] for r in rows if r["method"] == "random")
    bottom = 1.5 * random_low if random_low < 0 else random_low - 1.0
    below: dict[str, float] = {}  # the lowest return of each curve that leaves the axis
    for r in rows:
        if r["method"] in methods and r["mean"] < bottom:
            below[r["method"]] = min(r["mean"], below.get(r["method"], r["mean"]))
    if below:
        ax.set_ylim(bottom=bottom)
        ax.text(0.02, 0.02, "below the axis: " + ", ".join(f"{m} (lowest {v:.0f})" for m, v in below.items()),
                transform=ax.transAxes, fontsize=7, color="C3")


def iteration_seconds(history) -> np.ndarray:
    """The duration of each meta-iteration (``history.seconds`` is cumulative)."""
    return np.diff([0.0, *history.seconds])


def seconds_per_iteration(history) -> float:
    """The median duration of a meta-iteration: the long ones across a pause or a resume barely move it."""
    return float(np.median(iteration_seconds(history)))


@register("maml-nav", "MAML-TRPO on 2D navigation (goals U[-0.5,0.5]², H=100, meta-batch 20, 20 trajectories): "
          "returns after 0-3 gradient steps vs pretrained, random and oracle (the paper's Figure 4), and "
          "seconds per meta-iteration", default_seeds=(0,))
def maml_nav(preset: str, seeds: list[int]):
    budget = get_budget("bench_maml_nav", preset)
    config = MAMLConfig(meta_batch=budget.meta_batch, n_per_task=budget.n_per_task,
                        fisher_subsample=budget.fisher_subsample, inner_step=budget.inner_step)
    device = get_device()
    family = navigation_tasks(budget.n_per_task, device=device)
    test_env, test_feats = navigation_test_tasks(budget.n_test_tasks, budget.n_per_task, device=device)
    wide_test = navigation_test_tasks(budget.n_test_tasks, 2 * budget.n_per_task, device=device)  # the same goals
    curves: dict[str, list] = {}
    histories, rows = [], []
    for seed in seeds:
        policies = _train_all("maml-nav", preset, seed, lambda: family, 2, 2, 2, config, budget.iterations,
                              budget.baseline_iterations, device)
        histories.append(policies["MAML"][1])
        for method, returns in _curves(policies, test_env, test_feats, seed, wide_test, config.inner_step).items():
            curves.setdefault(method, []).append(returns)
        history = policies["MAML"][1]
        rows.append({"method": "MAML training", "fisher_subsample": config.fisher_subsample, "seed": seed,
                     "mean": seconds_per_iteration(history), "stderr": 0.0, "n": len(history.seconds),
                     "unit": "median seconds per meta-iteration over the whole training run"})
    rows = _rows("2D navigation", curves) + rows
    for fisher in sorted({config.fisher_subsample, 1.0}):
        rows.append(_time_iterations(replace(config, fisher_subsample=fisher), family, budget.n_timed_iterations, device))
    return rows, _figure([("2D navigation", rows, histories)])


def _time_iterations(config: MAMLConfig, family, n: int, device: torch.device) -> dict:
    """Seconds per meta-iteration of a fresh run of ``n`` iterations (sampling, inner step, TRPO), timed alone.

    ``fisher_subsample=1.0`` is TRPO with the exact second-order KL Hessian on all trajectories.
    """
    start = time.perf_counter()
    _, history = train_maml(family, 2, 2, n, config, seed=99, device=device)
    return {"method": "seconds per meta-iteration", "fisher_subsample": config.fisher_subsample,
            "mean": float(np.mean(iteration_seconds(history))), "stderr": 0.0, "n": n,
            "wall": time.perf_counter() - start, "threads": torch.get_num_threads(),
            "projected_500_iterations_minutes": 500 * history.seconds[-1] / n / 60}


# Validation tasks are drawn with this seed, the held-out test tasks with 12345 (``locomotion_test_tasks``):
# model selection never sees a test task. (Both seeds give 5 forward and 5 backward among 10 directions.)
VALIDATION_SEED = 1

# the bench runs ``n_tasks_kinds`` of these from ``first_task`` on (laptop: the two cheetah tasks; paper: all
# four; ``--set bench_maml_cheetah.first_task=1 --set bench_maml_cheetah.n_tasks_kinds=1``: direction alone)
# (-v1: the paper's step length, 0.01 s for the cheetah and 0.02 s for the ant; see envs/locomotion.py)
LOCOMOTION_TASKS = {"HalfCheetah velocity": "metarl_course/HalfCheetahVel-v1",
                    "HalfCheetah direction": "metarl_course/HalfCheetahDir-v1",
                    "Ant velocity": "metarl_course/AntVel-v1",
                    "Ant direction": "metarl_course/AntDir-v1"}


def _locomotion_family(env_id: str, meta_batch: int, n_per_task: int, seed: int, device: str) -> TaskFamily:
    """A fresh locomotion task family (its own vector env); picklable as a ``partial`` for workers."""
    from metarl_course.maml_locomotion import locomotion_tasks

    return locomotion_tasks(env_id, meta_batch, n_per_task, seed, device=device)[0]


@register("maml-cheetah", "MAML-TRPO on HalfCheetah goal velocity and forward/backward, and at the paper preset "
          "Ant's too (H=200, gymnasium v5 MuJoCo): returns after 0-3 gradient steps vs pretrained, random and "
          "oracle (the paper's Figure 5)",
          default_seeds=(0,))
def maml_cheetah(preset: str, seeds: list[int]):
    from metarl_course.maml_locomotion import locomotion_test_tasks

    budget = get_budget("bench_maml_cheetah", preset)
    config = MAMLConfig(meta_batch=budget.meta_batch, n_per_task=budget.n_per_task,
                        fisher_subsample=budget.fisher_subsample)
    rows, panels = [], []
    device = get_device()
    for task, env_id in list(LOCOMOTION_TASKS.items())[budget.first_task:budget.first_task + budget.n_tasks_kinds]:
        curves: dict[str, list] = {}
        histories = []
        for seed in seeds:
            test_env, test_feats = locomotion_test_tasks(env_id, budget.n_test_tasks, budget.n_per_task, device=device)
            make_family = partial(_locomotion_family, env_id, budget.meta_batch, budget.n_per_task, seed, str(device))
            start = time.perf_counter()
            validation_tasks = partial(locomotion_test_tasks, env_id, budget.n_validation_tasks, budget.n_per_task,
                                       seed=VALIDATION_SEED, device=str(device))
            policies = _train_all(f"maml-cheetah/{env_id.split('/')[1]}", preset, seed, make_family, test_env.obs_dim,
                                  test_env.act_dim, 1, config, budget.iterations, budget.baseline_iterations, device,
                                  workers=budget.workers, validation_tasks=validation_tasks,
                                  validate_every=budget.validate_every, n_validation_tasks=budget.n_validation_tasks,
                                  n_validation_draws=budget.n_validation_draws)
            histories.append(policies["MAML"][1])
            for method, returns in _curves(policies, test_env, test_feats, seed, draws=budget.n_test_draws).items():
                curves.setdefault(method, []).append(returns)
            rows.append({"method": "seconds per meta-iteration", "task": task, "seed": seed,
                         "mean": seconds_per_iteration(policies["MAML"][1]), "stderr": 0.0,
                         "n": len(policies["MAML"][1].seconds), "wall": time.perf_counter() - start})
            rows += _validation_rows(task, seed, policies["MAML"][1], budget.n_validation_draws)
        task_rows = _rows(task, curves, budget.n_test_draws)
        rows = task_rows + rows
        panels.append((task, task_rows, histories))
    rows += _mujoco_throughput_rows(budget.meta_batch * budget.n_per_task)
    return rows, _figure(panels)


def _validation_rows(task: str, seed: int, history: History, draws: int) -> list[dict]:
    """MAML's validation scores along training (``mean``: the kept iterate's), so a result file
    shows which iterate was kept and how noisy the scores were; none if it did not validate."""
    if not history.validation_iteration:
        return []
    return [{"method": "MAML validation score", "task": task, "seed": seed, "mean": max(history.validation_return),
             "stderr": 0.0, "n": len(history.validation_return), "draws": draws, "kept": history.best_iteration(),
             "iteration": list(history.validation_iteration), "score": [float(v) for v in history.validation_return]}]


def _mujoco_throughput_rows(n_envs: int, n_steps: int = 200) -> list[dict]:
    """HalfCheetah steps per second: one env vs the synchronous vector env MAML samples with."""
    from metarl_course.envs.locomotion import measure_step_throughput

    rows = []
    for n in sorted({1, n_envs}):
        rate = measure_step_throughput("metarl_course/HalfCheetahVel-v1", n, n_steps)
        rows.append({"method": "env-steps", "env": "HalfCheetahVel-v1", "n_envs": n, "vector": "sync", "mean": rate,
                     "stderr": 0.0, "n": 1, "unit": "environment steps per second"})
    return rows
