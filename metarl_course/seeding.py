"""One call to make a run repeatable: seeds Python, NumPy, PyTorch and an environment."""

from __future__ import annotations

import random

import numpy as np


def seed_everything(seed: int, env=None) -> np.random.Generator:
    """Seed ``random``, NumPy's global state, torch (CPU and CUDA) and optionally ``env``.

    Returns a fresh ``np.random.Generator`` seeded with ``seed``, which is what new
    code should draw from. A gymnasium ``env`` is reset with the seed and its action
    space seeded, so that ``env.action_space.sample()`` is repeatable too.
    """
    import torch

    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    if torch.cuda.is_available():
        torch.cuda.manual_seed_all(seed)
    if env is not None:
        env.reset(seed=seed)
        env.action_space.seed(seed)
        env.observation_space.seed(seed)
    return np.random.default_rng(seed)
