"""MuJoCo's warnings, sent through Python's ``warnings`` instead of the terminal and a log file.

Left alone, MuJoCo prints each warning to the process's standard output (Jupyter shows it under
the cell as a red stderr box) and appends it to ``MUJOCO_LOG.TXT`` in the working directory, which
is the student's ``notebooks/`` folder. Gymnasium's own HalfCheetah model sets its total mass with
the compiler attribute ``settotalmass``, which MuJoCo 4 deprecates, so every HalfCheetah made
printed the same warning: 100 times as PEARL's HalfCheetah-velocity bench starts.

``route_mujoco_warnings`` installs a handler (``mujoco.set_mju_user_warning``) that

- drops that one known message: the attribute still applies (HalfCheetah weighs 14 kg, as the
  model says; ``tests/test_mujoco_warnings.py`` checks it), and the models are gymnasium's to change;
- turns every other MuJoCo warning into a Python ``RuntimeWarning``, which Jupyter shows once per
  place and tests can catch, and writes no log file.
"""

from __future__ import annotations

import warnings

KNOWN_DEPRECATIONS = ("compiler attribute 'settotalmass' is deprecated",)
"""Starts of MuJoCo messages about gymnasium's models that the kit does not show."""


def mujoco_warning(message: str) -> None:
    """The handler: drop a known deprecation, raise anything else as a ``RuntimeWarning``."""
    if message.startswith(KNOWN_DEPRECATIONS):
        return
    warnings.warn(f"MuJoCo: {message}", RuntimeWarning, stacklevel=2)


def route_mujoco_warnings() -> None:
    """Install ``mujoco_warning`` as MuJoCo's warning handler (idempotent, process-wide)."""
    import mujoco

    if mujoco.get_mju_user_warning() is not mujoco_warning:
        mujoco.set_mju_user_warning(mujoco_warning)
