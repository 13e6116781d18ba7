"""Which code made a benchmark's checkpoints.

Benchmarks resume from ``build/bench/<name>/<preset>/<settings>/``: the folder's name changes with
the settings (``presets.settings_digest``), so another preset or a ``--set`` trains afresh. A change
to the *code* does not change it, and without a check a run after such a change would quietly
load policies that the old code trained. So the first run in a folder writes a fingerprint of
the package's sources into ``CODE`` beside its checkpoints, and every later run compares it with
the code it is running and warns when they differ (delete the folder to train afresh).
"""

from __future__ import annotations

import hashlib
import os
import warnings
from pathlib import Path
from typing import Any

import torch

PACKAGE = Path(__file__).resolve().parent
STAMP = "CODE"
_warned: set[Path] = set()


class StaleCheckpointWarning(UserWarning):
    """Checkpoints in a benchmark folder were made by other code than the code running now."""


def code_fingerprint(package: Path = PACKAGE) -> str:
    """Twelve hex digits of a SHA-1 over every ``.py`` file of the package (path and bytes)."""
    digest = hashlib.sha1()
    for path in sorted(package.rglob("*.py")):
        digest.update(str(path.relative_to(package)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:12]


def check_checkpoint_code(folder: Path, fingerprint: str | None = None) -> bool:
    """Stamp ``folder`` with the running code's fingerprint, or warn if its checkpoints are another's.

    A new folder (or one without checkpoints) gets ``CODE``; a folder whose ``CODE`` differs, or
    that holds checkpoints but no ``CODE`` (made before stamps existed), raises one
    ``StaleCheckpointWarning`` per folder and process. Returns True when the code matches.
    """
    folder, fingerprint = Path(folder), fingerprint or code_fingerprint()
    stamp = folder / STAMP
    if stamp.exists():
        made_by = stamp.read_text().strip()
    elif any(folder.glob("*.pt")):
        made_by = "unknown (made before checkpoints recorded their code)"
    else:
        folder.mkdir(parents=True, exist_ok=True)
        stamp.write_text(fingerprint + "\n")
        return True
    if made_by == fingerprint:
        return True
    if folder not in _warned:
        _warned.add(folder)
        warnings.warn(f"{folder} holds checkpoints made by other code (code {made_by}; running {fingerprint}). "
                      f"They are resumed as they are; delete the folder to train afresh with this code.",
                      StaleCheckpointWarning, stacklevel=2)
    return False


def save_checkpoint(state: Any, path: Path | str) -> None:
    """``torch.save(state, path)`` that never leaves a half-written file behind.

    A long run that is stopped while it saves (a session that ends, Ctrl-C in a notebook, a
    machine handed back) keeps its previous checkpoint: the new one is written beside it as
    ``<name>.partial`` and renamed over it only once complete (``os.replace`` is atomic).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    torch.save(state, partial)
    os.replace(partial, path)


def checkpoint_due(done: int, total: int, seconds_since_save: float, every: int = 10,
                   after_s: float = 60.0) -> bool:
    """Save after step ``done`` of ``total`` (1-based)? Every ``every`` steps, at the last one, and
    whenever ``after_s`` seconds of training have passed since the last save: a run stopped at any
    moment (a session that ends, Ctrl-C) loses at most ``every`` fast steps or about a minute."""
    return done % every == 0 or done == total or seconds_since_save >= after_s
