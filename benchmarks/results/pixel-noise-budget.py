"""Does PEARL learn HalfCheetah velocity from states with white noise of the CNN's size, given more data?

The laptop `pixel-pearl` study (benchmarks/README.md) found that its noise control `2n` (true states
plus white noise of the CNN's held-out RMSE) stands still after 100k environment steps, while the same
budget without noise reaches -101. This script asks whether that is a matter of data: it trains PEARL
with the `pearl-cheetah-vel` laptop settings (the same 50k gradient steps, 700k environment steps
instead of 100k), once on clean states and once on noisy ones, and meta-tests both on the 30 held-out
velocities with the official protocol (2 exploration trajectories, then one from the posterior).

The CNN's checkpoint is not kept, so σ is rebuilt from the saved study: each dimension's relative
RMSE in `pixel-pearl-laptop.json` (the CNN's error over that dimension's standard deviation) times
the standard deviation of that dimension along the clean agent's own meta-test trajectories on the
training velocities. That spread is of the finished agent's states only (the CNN's was over a
learner's states as well), so σ here is an estimate of the study's, not a copy.

    python benchmarks/results/pixel-noise-budget.py [--study-budget] [--scale S] [--dims D] [--seed 0]

--study-budget  the noisy run uses the study's collection budget (2 tasks x (1 prior + 1 posterior)
                trajectories per iteration, 1 initial trajectory per task: 100k steps), to check that
                this σ reproduces the study's standing still.
--scale S       σ times S (default 1).
--dims D        which state dimensions get noise: all (default), positions (the 8 joint and root
                angles and the height), velocities (the 9 velocities) or vx (the forward velocity,
                the one the reward is about).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch

from metarl_course.pearl import meta_test, train_pearl
from metarl_course.pearl_bench import save_agent
from metarl_course.pearl_cheetah import cheetah_vel_tasks
from metarl_course.pearl_cheetah_bench import cheetah_config, evaluate, load_agent
from metarl_course.pixel_pearl import NoisyCheetahTasks
from metarl_course.pixel_pearl_bench import study_config
from metarl_course.presets import get_budget
from metarl_course.state_estimator import STATE_NAMES

STUDY = Path(__file__).with_name("pixel-pearl-laptop.json")
CHECKPOINTS = Path("build/bench/pixel-noise-budget")


def relative_rmse() -> np.ndarray:
    rows = json.loads(STUDY.read_text())["rows"]
    by_name = {r["dimension"]: r["on_recorded_data"] for r in rows if r["method"] == "CNN relative RMSE"}
    return np.array([by_name[name] for name in STATE_NAMES])


def report(label: str, result: dict, targets: np.ndarray) -> None:
    means = [f"{r.mean():.1f}" for r in result["returns"]]
    gap = np.abs(result["velocity"][-1] - targets).mean()
    print(f"{label}: held-out return per trajectory {means}; |v - v*| on the last {gap:.2f} m/s", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--study-budget", action="store_true")
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--dims", choices=("all", "positions", "velocities", "vx"), default="all")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    print(vars(args), flush=True)
    torch.set_num_threads(1)
    budget = get_budget("bench_pearl_cheetah_vel", "laptop")
    config = cheetah_config(budget)
    tasks, train_ids, test_ids = cheetah_vel_tasks(budget.n_train, budget.n_test, budget.horizon)
    velocities, targets = tasks.goals[:, 0], tasks.goals[test_ids, 0]

    clean_path = CHECKPOINTS / f"clean_seed{args.seed}.pt"
    if clean_path.exists():
        agent = load_agent(clean_path)[0]
    else:
        start = time.perf_counter()
        agent, _ = train_pearl(tasks, train_ids, budget.iterations, config, seed=args.seed, progress=True)
        print(f"clean training: {time.perf_counter() - start:.0f} s", flush=True)
        save_agent(agent, config, clean_path)
    report("clean", evaluate(agent, tasks, test_ids, 3, 2, 1000 + args.seed), targets)

    _, context = meta_test(agent, tasks.env(train_ids[:30], 7), 3, 2, generator=torch.Generator().manual_seed(7))
    spread = context["next_observations"].reshape(-1, tasks.obs_dim).std(0).numpy()
    sigma = args.scale * relative_rmse() * spread
    first_velocity = STATE_NAMES.index("vx")
    if args.dims == "positions":
        sigma[first_velocity:] = 0.0
    elif args.dims == "velocities":
        sigma[:first_velocity] = 0.0
    elif args.dims == "vx":
        sigma[np.arange(len(sigma)) != first_velocity] = 0.0
    print("state std along the clean agent's trajectories:", np.round(spread, 2).tolist())
    print("noise sigma:", np.round(sigma, 3).tolist(), flush=True)

    if args.study_budget:
        config, _ = study_config("laptop")     # the study's collection budget, its iterations the same 100
    noisy = NoisyCheetahTasks(velocities, sigma, horizon=config.horizon, seed=args.seed)

    def on_iteration(iteration: int, learner) -> None:
        if (iteration + 1) % 20 == 0:
            report(f"noisy, iteration {iteration + 1}", evaluate(learner, noisy, test_ids, 3, 2, args.seed), targets)

    start = time.perf_counter()
    learner, _ = train_pearl(noisy, train_ids, budget.iterations, config, seed=args.seed, progress=True,
                             callback=on_iteration)
    print(f"noisy training ({'study' if args.study_budget else 'cheetah-vel'} budget): "
          f"{time.perf_counter() - start:.0f} s", flush=True)
    report("noisy", evaluate(learner, noisy, test_ids, 3, 2, 1000 + args.seed), targets)
    noisy.close()
    tasks.close()


if __name__ == "__main__":
    main()
