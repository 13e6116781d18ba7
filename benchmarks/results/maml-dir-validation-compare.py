"""Two validated runs of one training: do their validation scores agree on which iterate is best?

    python benchmarks/results/maml-dir-validation-compare.py CHECKPOINT_A CHECKPOINT_B

Both are MAML checkpoints of ``metarl-course bench maml-cheetah`` with the same seed and training
settings, validated differently (another draw of the validation start states, or more draws per
score). Training draws no random numbers for validation, so both runs trained the same iterates
(the script checks that their last iterates are equal). For the iterations both scored it prints
the two score curves, their correlation and the spread of their difference: if the same iterate's
two scores differ about as much as the scores of different iterates do, one score is mostly noise.
"""

import sys

import numpy as np
import torch


def history_of(path: str):
    state = torch.load(path, weights_only=False, map_location="cpu")
    return state, state["history"]


(a, ha), (b, hb) = history_of(sys.argv[1]), history_of(sys.argv[2])
same = all(torch.equal(a["policy"][key], b["policy"][key]) for key in a["policy"])
print(f"last iterates equal: {same}; best validated: A {ha.best_iteration()}, B {hb.best_iteration()}")
scores_a, scores_b = dict(zip(ha.validation_iteration, ha.validation_return)), dict(zip(hb.validation_iteration, hb.validation_return))
common = sorted(set(scores_a) & set(scores_b))
x, y = np.array([scores_a[i] for i in common]), np.array([scores_b[i] for i in common])
print(f"{len(common)} iterations scored by both")
print("A:", np.round(x, 1).tolist())
print("B:", np.round(y, 1).tolist())
print(f"correlation {np.corrcoef(x, y)[0, 1]:.2f}; B - A: mean {np.mean(y - x):.1f}, sd {np.std(y - x):.1f}; "
      f"sd of the scores along training: A {np.std(x):.1f}, B {np.std(y):.1f}")
print(f"B's scores of the two best iterates: A's pick ({ha.best_iteration()}) {scores_b.get(ha.best_iteration(), float('nan')):.1f}, "
      f"B's pick ({hb.best_iteration()}) {scores_b.get(hb.best_iteration(), float('nan')):.1f}")
