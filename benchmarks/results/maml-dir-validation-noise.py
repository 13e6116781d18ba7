"""How much of the maml-cheetah bench's validation score is the policy, and how much sampling noise?

    python benchmarks/results/maml-dir-validation-noise.py CHECKPOINT [N_DRAWS]

CHECKPOINT is a MAML checkpoint of ``metarl-course bench maml-cheetah`` that validated (it keeps
``best``, the iterate with the best validation score, and ``policy``, the last one). For both
iterates it prints the validation score (the mean return after one step α = 0.1 on the bench's
validation directions) under N_DRAWS different sampling seeds, and the same on the held-out test
directions, per direction. If the spread of one policy's score over seeds is as wide as the spread
of the scores along training, picking the best validated iterate picks mostly luck.
Run it with the bench's preset sizes (laptop: 10 tasks × 10 trajectories); see benchmarks/README.md.
"""

import sys

import metarl_course  # noqa: F401  (first: it sets OMP_WAIT_POLICY before torch loads, as the notebooks do)
import numpy as np
import torch

from metarl_course.maml import adaptation_curve, checkpoint_policy
from metarl_course.maml_bench import LOCOMOTION_TASKS, VALIDATION_SEED
from metarl_course.maml_locomotion import locomotion_test_tasks

checkpoint, n_draws = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 5
state = torch.load(checkpoint, weights_only=False, map_location="cpu")
history = state["history"]
print(f"{checkpoint}: {state['iteration']} meta-iterations, best validated at {history.best_iteration()}")
print("validation scores along training:", np.round(history.validation_return, 1).tolist())
env_id = LOCOMOTION_TASKS["HalfCheetah direction"]
task_sets = {"validation": locomotion_test_tasks(env_id, 10, 10, seed=VALIDATION_SEED),
             "test": locomotion_test_tasks(env_id, 10, 10)}
for name, which in [("best", "kept"), ("last", "last")]:
    policy = checkpoint_policy(state, which)
    for tasks, (env, directions) in task_sets.items():
        forward = directions[:, 0].numpy() > 0
        after = np.stack([adaptation_curve(policy, env, directions, (0.1,),
                                           generator=torch.Generator().manual_seed(1000 + draw))["returns"][1]
                          for draw in range(n_draws)])             # (draws, tasks)
        means = after.mean(axis=1)
        print(f"{name} iterate, {tasks} tasks, after one step over {n_draws} draws: mean {means.mean():.1f}, "
              f"spread (std over draws) {means.std(ddof=1):.1f}; forward {after[:, forward].mean():.1f}, "
              f"backward {after[:, ~forward].mean():.1f}")
