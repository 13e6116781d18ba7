"""Unit 04's training cell (PEARL on the sparse point robot, laptop preset) for a few iterations at a
given number of torch threads: does it, like unit 02, train faster on one thread than on two?

    python benchmarks/results/pearl-point-threads.py THREADS ITERATIONS

prints the seconds per iteration and what the notebook's iterations would take at that rate.
Run it on an otherwise idle machine (see benchmarks/README.md, `pearl-point`).
"""

import sys
import time

import metarl_course  # noqa: F401  (first: it sets OMP_WAIT_POLICY before torch loads, as the notebooks do)
import torch

from metarl_course.pearl import config_from_budget, sparse_point_tasks, train_pearl
from metarl_course.presets import get_budget

threads, iterations = int(sys.argv[1]), int(sys.argv[2])
torch.set_num_threads(threads)
budget = get_budget("04_pearl", "laptop")
config = config_from_budget(budget, horizon=20)
tasks, train_ids, _ = sparse_point_tasks(horizon=20)
start = time.perf_counter()
train_pearl(tasks, train_ids, iterations, config, seed=0, device="cpu")
seconds = time.perf_counter() - start
print(f"threads {threads}: {iterations} iterations in {seconds:.1f} s, {seconds / iterations:.2f} s per iteration "
      f"(the notebook's {budget.iterations}: {seconds / iterations * budget.iterations / 60:.1f} min)")
