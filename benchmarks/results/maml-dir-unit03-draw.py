"""Unit 03's section-9 measurement, on any MAML HalfCheetah-direction policy: one step α = 0.1 on 10
trajectories of each of the 10 held-out directions, actions from generator 777 (draw 0 of the bench),
with the reference pieces, as in ``tests/test_assets.py``; prints backward and forward before -> after.

    python benchmarks/results/maml-dir-unit03-draw.py POLICY [POLICY ...]

POLICY is a file ``maml_locomotion.save_policy`` wrote (the ``assets/`` one) or a ``train_maml``
checkpoint of the maml-cheetah bench (its kept iterate is measured).
"""

import sys

import metarl_course  # noqa: F401  (first: it sets OMP_WAIT_POLICY before torch loads, as the notebooks do)
import torch

from metarl_course.maml import adaptation_curve, checkpoint_policy
from metarl_course.maml_bench import LOCOMOTION_TASKS
from metarl_course.maml_locomotion import load_policy, locomotion_test_tasks

for path in sys.argv[1:]:
    state = torch.load(path, weights_only=False, map_location="cpu")
    if "history" in state:                       # a train_maml checkpoint
        policy, env_id = checkpoint_policy(state), LOCOMOTION_TASKS["HalfCheetah direction"]
    else:
        policy, env_id = load_policy(path)
    env, directions = locomotion_test_tasks(env_id, 10, 10)
    before, after = adaptation_curve(policy, env, directions, step_sizes=(0.1,),
                                     generator=torch.Generator().manual_seed(777))["returns"]
    backward = directions[:, 0].numpy() < 0
    print(f"{path}: backward {before[backward].mean():.1f} -> {after[backward].mean():.1f}; "
          f"forward {before[~backward].mean():.1f} -> {after[~backward].mean():.1f}")
