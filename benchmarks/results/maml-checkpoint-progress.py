"""How far a MAML training run has got, read from its checkpoint: for runs that take days of CPU.

    python benchmarks/results/maml-checkpoint-progress.py CHECKPOINT [CHECKPOINT ...] [--every 25]

A checkpoint of ``train_maml`` (``build/bench/maml-cheetah/<task>/<preset>/<settings>/<method>_seed<s>.pt``,
written every 10 meta-iterations) holds the run's whole history. For each file this prints the
meta-iterations done, the wall time of the sittings so far (pauses within a sitting included), the
median seconds per iteration, the mean training return before and after the inner step in blocks of
``--every`` iterations, and the validation scores with the iterate kept so far. Nothing is trained
or sampled.
"""

import argparse

import numpy as np
import torch

from metarl_course.maml_bench import seconds_per_iteration

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("checkpoints", nargs="+")
parser.add_argument("--every", type=int, default=25, help="iterations per block of mean training returns")
args = parser.parse_args()

for path in args.checkpoints:
    state = torch.load(path, weights_only=False, map_location="cpu")
    history, config = state["history"], state["config"]
    seconds = np.asarray(history.seconds)  # cumulative wall time of the sittings (a paused process counts)
    median = seconds_per_iteration(history)
    print(f"{path}\n  {state['iteration']} meta-iterations, {seconds[-1] / 3600:.2f} h of wall time in the sittings "
          f"(median {median:.1f} s per iteration); meta-batch {config['meta_batch']} × "
          f"{config['n_per_task']} trajectories, {config['n_inner']} inner step(s), task input {config['task_input']}")
    pre, post = np.asarray(history.pre_return), np.asarray(history.post_return)
    print(f"  {'iterations':>12} {'pre-update':>11} {'post-update':>12}")
    for start in range(0, len(pre), args.every):
        block = slice(start, start + args.every)
        print(f"  {start:>5}-{min(start + args.every, len(pre)) - 1:<6} {pre[block].mean():>11.1f} {post[block].mean():>12.1f}")
    if history.validation_return:
        scores = ", ".join(f"{i}: {s:.1f}" for i, s in zip(history.validation_iteration, history.validation_return))
        print(f"  validation (iteration: score): {scores}\n  kept so far: iteration {history.best_iteration()}")
