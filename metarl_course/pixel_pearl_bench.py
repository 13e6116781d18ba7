"""Benchmark ``pixel-pearl``: PEARL from 64x64 frames on HalfCheetah velocity, the study's stages.

Built so far: stage 4 (PEARL on true states, the upper bound) and stage 1 (the same agent
run on a CNN's state estimates). The state-based agent is the ``pearl-cheetah-vel`` bench's
checkpoint at the same preset (trained here with that bench's budget when it is missing).
The CNN (``state_estimator.StateEstimator``, k stacked frames) is trained on frames rendered
along that agent's own meta-test trajectories on training tasks, so stage 1 measures what
acting on estimates does, not a mismatch of behaviour policies. Its error is reported per
state dimension twice: on held-out recorded episodes (the distribution it was trained on)
and along stage 1's own trajectories (where the agent, acting on estimates, goes).
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import torch

from metarl_course.bench import register
from metarl_course.device import get_device
from metarl_course.pearl import train_pearl
from metarl_course.pearl_bench import save_agent
from metarl_course.pearl_cheetah import cheetah_vel_tasks
from metarl_course.pearl_cheetah_bench import CHECKPOINTS, cheetah_config, evaluate, load_agent
from metarl_course.pixel_pearl import PixelCheetahTasks, evaluate_on_estimates, record_agent_frames
from metarl_course.presets import get_budget
from metarl_course.state_estimator import STATE_NAMES, fit_state_estimator, per_dimension_error


def state_agent(preset: str, seed: int):
    """The ``pearl-cheetah-vel`` agent of this preset and seed: loaded, or trained and saved."""
    path = CHECKPOINTS / "pearl-cheetah-vel" / preset / f"PEARL_seed{seed}.pt"
    if path.exists():
        return load_agent(path)[0], "loaded " + str(path)
    budget = get_budget("bench_pearl_cheetah_vel", preset)
    config = cheetah_config(budget)
    tasks, train_ids, _ = cheetah_vel_tasks(budget.n_train, budget.n_test)
    agent, _ = train_pearl(tasks, train_ids, budget.iterations, config, seed=seed, progress=True)
    save_agent(agent, config, path)
    tasks.close()
    return agent, "trained with the pearl-cheetah-vel budget"


def _row(method: str, values: np.ndarray, **extra) -> dict:
    values = np.asarray(values, dtype=float).reshape(-1)
    return {"method": method, "mean": float(values.mean()),
            "stderr": float(values.std(ddof=1) / np.sqrt(len(values))) if len(values) > 1 else 0.0,
            "n": int(len(values)), **extra}


@register("pixel-pearl", "PEARL from 64x64 HalfCheetah-velocity frames through a CNN state estimator: the "
          "state-based upper bound (stage 4) and the same agent run on estimated states (stage 1), with the "
          "CNN's error per dimension on its training distribution and along the agent's own trajectories",
          default_seeds=(0,))
def pixel_pearl(preset: str, seeds: list[int]):
    budget = get_budget("bench_pixel_pearl", preset)
    cheetah = get_budget("bench_pearl_cheetah_vel", preset)
    device = get_device()
    tasks, train_ids, test_ids = cheetah_vel_tasks(cheetah.n_train, cheetah.n_test)
    K, n_exp = cheetah.n_trajectories, cheetah.exploration_trajectories
    rows, errors = [], []
    for seed in seeds:
        agent, origin = state_agent(preset, seed)
        rng = np.random.default_rng(seed)
        record_ids = rng.choice(train_ids, size=min(budget.n_record_tasks, len(train_ids)), replace=False)
        recorder = PixelCheetahTasks(tasks.goals[:, 0], k=budget.k, seed=seed)
        start = time.perf_counter()
        dataset = record_agent_frames(agent, recorder, record_ids, K, n_exp, seed)
        render_seconds = time.perf_counter() - start
        recorder.close()
        frames, states = dataset.stacked(budget.k)
        start = time.perf_counter()
        model, history, test = fit_state_estimator(frames, states, budget.k, epochs=budget.epochs, seed=seed,
                                                   device=device, progress=True)
        fit_seconds = time.perf_counter() - start
        model = model.cpu().eval()
        on_data = per_dimension_error(model, frames[test], states[test])
        del frames

        truth = evaluate(agent, tasks, test_ids, K, n_exp, 1000 + seed)
        perceiving = PixelCheetahTasks(tasks.goals[:, 0], k=budget.k, perceive=model, seed=seed)
        start = time.perf_counter()
        stage1 = evaluate_on_estimates(agent, perceiving, test_ids, K, n_exp, 1000 + seed)
        eval_seconds = time.perf_counter() - start
        perceiving.close()
        std = model.state_std.numpy()
        along = np.sqrt((stage1["error"] ** 2).mean(axis=(0, 1, 2))) / std      # (17,) relative RMSE
        errors.append((on_data, along, stage1["error"], std))
        for k in range(K):
            phase = "exploration (z ~ prior)" if k < n_exp else "posterior"
            rows.append(_row("stage 4: PEARL on true states", truth["returns"][k], seed=seed, trajectory=k + 1,
                             phase=phase, agent=origin))
            rows.append(_row("stage 1: trained on true states, run on CNN estimates", stage1["returns"][k],
                             seed=seed, trajectory=k + 1, phase=phase))
        for d, name in enumerate(STATE_NAMES):
            rows.append({"method": "CNN relative RMSE", "dimension": name, "seed": seed, "k": budget.k,
                         "on_recorded_data": on_data[name]["relative"], "along_stage_1": float(along[d]),
                         "mean": on_data[name]["relative"], "stderr": 0.0, "n": len(test),
                         "unit": "RMSE / std of the dimension (held-out recorded episodes; 'along_stage_1': "
                                 "the states visited while acting on the estimates)"})
        rows.append({"method": "timing", "seed": seed, "mean": render_seconds, "stderr": 0.0, "n": len(states),
                     "unit": "seconds rendering the recorded frames", "frames_per_second": len(states) / render_seconds,
                     "fit_seconds": fit_seconds, "fit_epochs": budget.epochs, "stage1_seconds": eval_seconds,
                     "test_loss": history.test_loss[-1], "device": str(device)})
    rows.append(_row("one velocity for every task (1.5 m/s): -200 |v* - 1.5|",
                     -200 * np.abs(tasks.goals[test_ids, 0] - 1.5)))
    tasks.close()
    return rows, _figure(rows, errors)


def _figure(rows: list[dict], errors: list):
    import matplotlib.pyplot as plt

    fig, (ax, ax2, ax3) = plt.subplots(1, 3, figsize=(15, 4))
    methods = ["stage 4: PEARL on true states", "stage 1: trained on true states, run on CNN estimates"]
    last = max(r["trajectory"] for r in rows if r.get("trajectory"))
    for i, method in enumerate(methods):
        r = [r for r in rows if r["method"] == method and r["trajectory"] == last]
        ax.bar(i, np.mean([x["mean"] for x in r]), yerr=np.mean([x["stderr"] for x in r]), color=f"C{i}",
               capsize=4)
    ax.axhline(next(r["mean"] for r in rows if r["method"].startswith("one velocity")), color="k", linestyle=":",
               label="one velocity for every task")
    ax.set_xticks(range(len(methods)), ["4: true states", "1: CNN estimates"])
    ax.set(ylabel="held-out return after adaptation", title="What perception costs the state-trained agent")
    ax.legend(fontsize=8)
    on_data, along, error, std = errors[0]
    x = np.arange(len(STATE_NAMES))
    ax2.bar(x - 0.2, [on_data[n]["relative"] for n in STATE_NAMES], width=0.4, label="recorded episodes")
    ax2.bar(x + 0.2, along, width=0.4, label="while acting on estimates")
    ax2.axhline(1.0, color="gray", linestyle=":")
    ax2.set_xticks(x, STATE_NAMES, rotation=60, ha="right", fontsize=7)
    ax2.set(ylabel="RMSE / std", title="CNN error per state dimension")
    ax2.legend(fontsize=8)
    vx = STATE_NAMES.index("vx")
    per_step = np.abs(error[..., vx]).mean(axis=1)                  # (K, T+1)
    for k, curve in enumerate(per_step):
        ax3.plot(curve, label=f"trajectory {k + 1}")
    ax3.set(xlabel="step", ylabel="|v̂x - vx| (m/s), mean over tasks", title="Velocity estimation error over time")
    ax3.legend(fontsize=8)
    fig.tight_layout()
    return fig
