"""Unit 03's training (MAML-TRPO on 2D navigation, laptop preset) for a few meta-iterations at a given
number of torch threads: the counterpart of ``pearl-point-threads.py`` for the unit that keeps two.

    python benchmarks/results/maml-nav-threads.py THREADS ITERATIONS

prints the seconds per meta-iteration. Run it on an otherwise idle machine (README, "Presets").
"""

import sys
import time

import metarl_course  # noqa: F401  (first: it sets OMP_WAIT_POLICY before torch loads, as the notebooks do)
import torch

from metarl_course.maml import MAMLConfig, navigation_tasks, train_maml
from metarl_course.presets import get_budget

threads, iterations = int(sys.argv[1]), int(sys.argv[2])
torch.set_num_threads(threads)
budget = get_budget("03_maml_pg", "laptop")
config = MAMLConfig(meta_batch=budget.meta_batch, n_per_task=budget.n_per_task, fisher_subsample=budget.fisher_subsample)
start = time.perf_counter()
train_maml(navigation_tasks(budget.n_per_task), 2, 2, iterations, config, seed=0)
seconds = time.perf_counter() - start
print(f"threads {threads}: {iterations} meta-iterations in {seconds:.1f} s, {seconds / iterations:.2f} s per meta-iteration")
