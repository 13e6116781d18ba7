"""Benchmark ``pixel-throughput``: what pixels cost, on this machine's device.

Three numbers decide how PEARL-from-pixels can be trained where: how fast MuJoCo renders the
64x64 frames (EGL: Mesa on a CPU, the GPU's driver on a GPU machine), how many gradient
steps per second the CNN state estimator takes on batches of frame stacks, and how many PEARL
gradient steps per second the agent takes at the pixel study's sizes. Run it once on the CPU
(``METARL_DEVICE=cpu``) and once on a GPU machine (``METARL_DEVICE=cuda``) to compare.
"""

from __future__ import annotations

import time

import numpy as np
import torch

from metarl_course.bench import register
from metarl_course.device import get_device
from metarl_course.pearl import PEARLAgent, PEARLConfig, make_optimizers, pearl_update
from metarl_course.pearl_cheetah import CheetahVelTasks
from metarl_course.pixel_pearl_bench import study_config
from metarl_course.pixels import DatasetSpec, collect_dataset
from metarl_course.presets import get_budget
from metarl_course.replay import FIELDS, MultiTaskReplay
from metarl_course.state_estimator import StateEstimator, state_estimation_loss


def render_rate(n_frames: int, seed: int, shadows: bool = False) -> float:
    """Frames per second of one HalfCheetah env stepped and rendered at 64x64 (random actions)."""
    dataset = collect_dataset(DatasetSpec(n_tasks=1, episodes_per_task=1, horizon=n_frames, seed=seed,
                                          shadows=shadows))
    return dataset.frames_per_second


def estimator_step_times(n_steps: int, batch_size: int, k: int, device: torch.device, seed: int) -> np.ndarray:
    """Seconds per Adam step of the state estimator on (batch, 3k, 64, 64) uint8 stacks already on the device."""
    generator = torch.Generator().manual_seed(seed)
    frames = torch.randint(0, 256, (batch_size, 3 * k, 64, 64), generator=generator, dtype=torch.uint8).to(device)
    states = torch.randn(batch_size, 17, generator=generator).to(device)
    model = StateEstimator(k).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    times = []
    for step in range(n_steps + 1):  # the first step warms up (allocations, kernels)
        start = time.perf_counter()
        loss = state_estimation_loss(model(frames), states, model.state_std)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if device.type == "cuda":
            torch.cuda.synchronize()
        if step:
            times.append(time.perf_counter() - start)
    return np.array(times)


def pearl_step_times(config: PEARLConfig, n_steps: int, device: torch.device | str, seed: int) -> np.ndarray:
    """Seconds per PEARL gradient step as ``train_pearl`` takes it, at ``config``'s sizes (meta-batch T,
    RL batch B, context batch C, networks) on HalfCheetah's 17 + 6 numbers: a meta-batch drawn from
    replay buffers on ``device`` by a CPU generator, its context encoded, then ``pearl_update``."""
    device = torch.device(device)
    torch.manual_seed(seed)
    obs_dim, act_dim, T = CheetahVelTasks.obs_dim, CheetahVelTasks.act_dim, config.meta_batch
    agent = PEARLAgent(obs_dim, act_dim, config.latent_dim, net_hidden=config.net_hidden,
                       encoder_hidden=config.encoder_hidden).to(device)
    optimizers = make_optimizers(agent, config.lr)
    generator = torch.Generator().manual_seed(seed)
    rng = np.random.default_rng(seed)
    capacity = max(config.rl_batch, config.context_batch)
    buffers = [MultiTaskReplay(T, capacity, obs_dim, act_dim, device) for _ in range(2)]   # RL and encoder
    dims = dict(zip(FIELDS, (obs_dim, act_dim, 1, obs_dim, 1)))
    for buffer in buffers:
        for task in range(T):
            buffer.add(task, **{name: torch.randn(capacity, dim, generator=generator) for name, dim in dims.items()})
    times = []
    for step in range(n_steps + 1):  # the first step warms up (allocations, kernels)
        start = time.perf_counter()
        ids = torch.as_tensor(rng.permutation(T))
        pearl_update(agent, optimizers, buffers[0].sample(ids, config.rl_batch, generator),
                     agent.context(buffers[1].sample(ids, config.context_batch, generator)), config.kl_weight,
                     config.gamma, config.reward_scale, config.tau, generator, None, config.policy_reg_weight)
        if device.type == "cuda":
            torch.cuda.synchronize()
        if step:
            times.append(time.perf_counter() - start)
    return np.array(times)


def _rate_row(method: str, device: torch.device, times: np.ndarray, **setting) -> dict:
    """A row of gradient steps per second (mean ± standard error over the timed steps) from seconds per step."""
    rate = 1.0 / times
    return {"method": method, "device": str(device), **setting, "mean": float(rate.mean()),
            "stderr": float(rate.std(ddof=1) / np.sqrt(len(rate))) if len(rate) > 1 else 0.0,
            "n": len(rate), "unit": "gradient steps per second"}


@register("pixel-throughput", "HalfCheetah 64x64 frames rendered per second, CNN state-estimator "
          "gradient steps per second (batch 64, 3 stacked frames) and PEARL gradient steps per second at the "
          "pixel-pearl study's sizes, on this machine's device", default_seeds=(0,))
def pixel_throughput(preset: str, seeds: list[int]):
    budget = get_budget("bench_pixel_throughput", preset)
    device = get_device()
    rows = [{"method": "render", "device": "MuJoCo EGL", "mean": render_rate(budget.n_frames, seeds[0]),
             "stderr": 0.0, "n": budget.n_frames, "unit": "frames per second"},
            {"method": "render with shadows and reflections", "device": "MuJoCo EGL",
             "mean": render_rate(budget.n_frames // 4 or 1, seeds[0], shadows=True), "stderr": 0.0,
             "n": budget.n_frames // 4 or 1, "unit": "frames per second"}]
    rows.append(_rate_row("estimator-step", device, estimator_step_times(budget.n_steps, 64, 3, device, seeds[0]),
                          batch=64))
    config, _ = study_config(preset)
    rows.append(_rate_row("pearl-step", device, pearl_step_times(config, budget.n_steps, device, seeds[0]),
                          meta_batch=config.meta_batch, rl_batch=config.rl_batch, context_batch=config.context_batch,
                          hidden=list(config.net_hidden), encoder_hidden=list(config.encoder_hidden),
                          threads=torch.get_num_threads()))
    return rows, None


@register("pixel-estimator", "the CNN state estimator's held-out error per state dimension, from one frame "
          "(k = 1) and from a stack of three (k = 3), on cached HalfCheetah-velocity frames of a random policy",
          default_seeds=(0,))
def pixel_estimator(preset: str, seeds: list[int]):
    """Relative RMSE (RMSE / σ_d) per dimension on held-out episodes: near 1 means not estimated at all.

    One frame shows the pose; the velocities (the task!) need the stack."""
    from metarl_course.pixels import load_or_collect
    from metarl_course.state_estimator import fit_state_estimator, per_dimension_error

    budget = get_budget("bench_pixel_estimator", preset)
    device = get_device()
    rows = []
    for seed in seeds:
        spec = DatasetSpec(n_tasks=budget.n_tasks, episodes_per_task=budget.episodes_per_task,
                           horizon=budget.horizon, seed=seed)
        dataset = load_or_collect(spec, progress=True)
        for k in (1, 3):
            frames, states = dataset.stacked(k)
            start = time.perf_counter()
            model, history, test = fit_state_estimator(frames, states, k, epochs=budget.epochs, seed=seed,
                                                       device=device, progress=True)
            seconds = time.perf_counter() - start
            for name, error in per_dimension_error(model, frames[test], states[test]).items():
                rows.append({"method": f"CNN, k = {k}", "dimension": name, "k": k, "seed": seed,
                             "mean": error["relative"], "stderr": 0.0, "n": len(test), "rmse": error["rmse"],
                             "unit": "held-out RMSE / std of the dimension", "train_seconds": round(seconds, 1),
                             "test_loss": history.test_loss[-1], "frames": len(frames)})
    return rows, _estimator_figure(rows)


def _estimator_figure(rows: list[dict]):
    import matplotlib.pyplot as plt

    names = list(dict.fromkeys(r["dimension"] for r in rows))
    fig, ax = plt.subplots(figsize=(10, 3.5))
    for offset, k in ((-0.2, 1), (0.2, 3)):
        values = [np.mean([r["mean"] for r in rows if r["k"] == k and r["dimension"] == n]) for n in names]
        ax.bar(np.arange(len(names)) + offset, values, width=0.4, label=f"{k} frame{'s' if k > 1 else ''}")
    ax.axhline(1.0, color="gray", linestyle=":", label="no information (predicting the mean)")
    ax.set_xticks(range(len(names)), names, rotation=60, ha="right")
    ax.set(ylabel="held-out RMSE / std", title="CNN state estimator: error per state dimension")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig
