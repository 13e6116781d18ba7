"""Does a notebook's training run faster on one torch thread or on two? (``session.ONE_CPU_THREAD``)

    python benchmarks/results/notebook-threads.py UNIT THREADS STEPS

times STEPS steps of the training that unit's notebook runs at the ``laptop`` preset, with THREADS
torch threads, and prints the seconds per step:

- ``01``: RL² updates on bandits (GRU of 256, 256 trials of k = 5, n = 10);
- ``03``: MAML-TRPO meta-iterations on 2D navigation (20 tasks × 20 trajectories);
- ``05``: Adam steps of the CNN state estimator (batches of 64 stacks of three 64×64 frames, random pixels).

Unit 04's PEARL is timed the same way by ``pearl-point-threads.py THREADS ITERATIONS``. Run either on
an otherwise idle machine, alternating the thread counts (README, "Presets").
"""

import sys
import time

import metarl_course  # noqa: F401  (first: it sets OMP_WAIT_POLICY before torch loads, as the notebooks do)
import torch

from metarl_course.presets import get_budget


def rl2_bandits(steps: int) -> None:
    from metarl_course.rl2 import RL2Config, train_rl2_bandits
    budget = get_budget("01_rl2_bandits", "laptop")
    config = RL2Config(hidden_size=budget.hidden_size, trials_per_update=budget.trials_per_update, updates=steps)
    train_rl2_bandits(budget.k, budget.n, config, seed=0)


def maml_nav(steps: int) -> None:
    from metarl_course.maml import MAMLConfig, navigation_tasks, train_maml
    budget = get_budget("03_maml_pg", "laptop")
    config = MAMLConfig(meta_batch=budget.meta_batch, n_per_task=budget.n_per_task,
                        fisher_subsample=budget.fisher_subsample)
    train_maml(navigation_tasks(budget.n_per_task), 2, 2, steps, config, seed=0)


def state_estimator(steps: int) -> None:
    from metarl_course.state_estimator import StateEstimator
    budget = get_budget("05_pixel_pearl", "laptop")
    torch.manual_seed(0)
    model = StateEstimator(budget.k)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    frames = torch.randint(0, 255, (budget.batch_size, 3 * budget.k, 64, 64), dtype=torch.uint8)
    states = torch.randn(budget.batch_size, 17)
    for _ in range(steps):
        loss = ((model(frames) - states) ** 2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


UNITS = {"01": ("RL² update", rl2_bandits), "03": ("MAML meta-iteration", maml_nav),
         "05": ("CNN step", state_estimator)}

unit, threads, steps = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
if unit not in UNITS:
    sys.exit(f"UNIT is one of {', '.join(UNITS)} (unit 04: pearl-point-threads.py)")
name, train = UNITS[unit]
torch.set_num_threads(threads)
start = time.perf_counter()
train(steps)
seconds = (time.perf_counter() - start) / steps
print(f"unit {unit}, {threads} thread(s): {seconds:.3f} s per {name} ({steps} timed)")
