"""Where tensors live: a CUDA GPU when there is one, else the CPU.

``METARL_DEVICE`` (``cpu``, ``cuda``, ``cuda:1``...) overrides the choice.
"""

from __future__ import annotations

import os


def get_device(verbose: bool = False):
    """Return the ``torch.device`` to train on, and say why when ``verbose``."""
    import torch

    requested = os.environ.get("METARL_DEVICE", "").strip()
    if requested:
        device = torch.device(requested)
        if device.type == "cuda" and not torch.cuda.is_available():
            raise RuntimeError(f"METARL_DEVICE={requested} but torch sees no CUDA GPU (torch {torch.__version__})")
        reason = f"METARL_DEVICE={requested}"
    elif torch.cuda.is_available():
        device = torch.device("cuda")
        reason = f"CUDA GPU found: {torch.cuda.get_device_name(0)}"
    else:
        device = torch.device("cpu")
        reason = f"no CUDA GPU; using {os.cpu_count()} CPU cores"
    if verbose:
        print(f"device: {device} ({reason})")
    return device


def describe_device() -> str:
    """One line about the compute this process can use (for logs and benchmark files)."""
    import torch

    if torch.cuda.is_available():
        return f"cuda: {torch.cuda.get_device_name(0)}"
    return f"cpu: {os.cpu_count()} cores"
