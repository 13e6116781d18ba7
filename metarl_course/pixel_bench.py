"""Benchmark ``pixel-throughput``: what pixels cost, on this machine's device.

Two numbers decide how PEARL-from-pixels can be trained where: how fast MuJoCo renders the
64x64 frames (EGL: Mesa on a CPU, the GPU's driver on a GPU machine), and how many gradient
steps per second the CNN state estimator takes on batches of frame stacks. Run it once on
the CPU and once on a GPU machine (``METARL_DEVICE=cuda``) to compare.
"""

from __future__ import annotations

import time

import numpy as np
import torch

from metarl_course.bench import register
from metarl_course.device import get_device
from metarl_course.pixels import DatasetSpec, collect_dataset
from metarl_course.presets import get_budget
from metarl_course.state_estimator import StateEstimator, state_estimation_loss


def render_rate(n_frames: int, seed: int) -> float:
    """Frames per second of one HalfCheetah env stepped and rendered at 64x64 (random actions)."""
    dataset = collect_dataset(DatasetSpec(n_tasks=1, episodes_per_task=1, horizon=n_frames, seed=seed))
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


@register("pixel-throughput", "HalfCheetah 64x64 frames rendered per second and CNN state-estimator "
          "gradient steps per second (batch 64, 3 stacked frames) on this machine's device", default_seeds=(0,))
def pixel_throughput(preset: str, seeds: list[int]):
    budget = get_budget("bench_pixel_throughput", preset)
    device = get_device()
    rows = [{"method": "render", "device": "MuJoCo EGL", "mean": render_rate(budget.n_frames, seeds[0]),
             "stderr": 0.0, "n": budget.n_frames, "unit": "frames per second"}]
    times = estimator_step_times(budget.n_steps, 64, 3, device, seeds[0])
    rate = 1.0 / times
    rows.append({"method": "estimator-step", "device": str(device), "batch": 64, "mean": float(rate.mean()),
                 "stderr": float(rate.std(ddof=1) / np.sqrt(len(rate))) if len(rate) > 1 else 0.0,
                 "n": len(rate), "unit": "gradient steps per second"})
    return rows, None
