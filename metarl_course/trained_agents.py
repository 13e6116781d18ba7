"""Trained agents a notebook may load instead of training them itself.

Some agents take longer to train than a notebook cell should: PEARL on HalfCheetah velocity needs
20 minutes on one core at the ``laptop`` preset, MAML on HalfCheetah direction 50. Units 04 and 05
use the agent of the ``pearl-cheetah-vel`` bench (its checkpoint when this machine ran the bench,
else the copy the kit ships in ``assets/``), unit 03 the MAML policy of the ``maml-cheetah`` bench
(from ``assets/``); ``assets/README.md`` says which command made each. Grading never loads one: at
the ``ci`` preset, and where the package is not installed from a clone (the grader's sandbox), a
tiny agent trained in seconds or an untrained policy stands in.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import torch

import metarl_course


def repo_root() -> Path | None:
    """The repository the package was installed from (editable install), or None (e.g. in the grader's sandbox)."""
    root = Path(metarl_course.__file__).resolve().parent.parent
    return root if (root / "pyproject.toml").is_file() else None


def pearl_cheetah_agent(preset: str, horizon: int | None = None, seed: int = 0):
    """A PEARL agent meta-trained on HalfCheetah velocity, and the tasks it was trained on.

    At ``laptop`` and ``paper``: the ``pearl-cheetah-vel`` bench's checkpoint of that preset when it
    exists (``metarl-course bench pearl-cheetah-vel --preset P`` writes it), else the one the kit
    ships in ``assets/`` (the laptop agent). Otherwise, and always at ``ci``: an agent with the
    bench's ``ci`` budget, trained here in seconds (it has learned almost nothing: it only shows the
    plumbing). ``horizon`` defaults to the bench's at ``preset`` (200 steps; 20 at ``ci``).
    Returns (agent, config, tasks, train_ids, test_ids, origin), origin saying which agent it is.
    """
    from metarl_course.pearl import train_pearl
    from metarl_course.pearl_cheetah import cheetah_vel_tasks
    from metarl_course.pearl_cheetah_bench import cheetah_config, load_agent
    from metarl_course.presets import get_budget

    horizon = get_budget("bench_pearl_cheetah_vel", preset).horizon if horizon is None else horizon
    root = repo_root()
    candidates = [] if root is None or preset == "ci" else [
        (root / "build" / "bench" / "pearl-cheetah-vel" / preset / f"PEARL_seed{seed}.pt",
         f"the pearl-cheetah-vel bench's {preset} agent"),
        (root / "assets" / f"pearl-cheetah-vel-{preset}-seed{seed}.pt",
         f"the kit's copy of the pearl-cheetah-vel bench's {preset} agent")]
    for path, name in candidates:
        if path.is_file():
            bench = get_budget("bench_pearl_cheetah_vel", preset)
            agent, config = load_agent(path)
            tasks, train_ids, test_ids = cheetah_vel_tasks(bench.n_train, bench.n_test, horizon=horizon)
            return agent, config, tasks, train_ids, test_ids, f"{name} ({path.relative_to(root)})"
    bench = get_budget("bench_pearl_cheetah_vel", "ci")
    config = dataclasses.replace(cheetah_config(bench), horizon=horizon)
    tasks, train_ids, test_ids = cheetah_vel_tasks(bench.n_train, bench.n_test, horizon=horizon)
    agent, _ = train_pearl(tasks, train_ids, bench.iterations, config, seed=seed, device="cpu")   # as a loaded one
    origin = "a tiny agent trained here with the pearl-cheetah-vel bench's ci budget (it has learned almost nothing)"
    if preset != "ci":
        origin += (f"; no {preset} agent was found: `metarl-course bench pearl-cheetah-vel --preset {preset}` "
                   "trains and saves it")
    return agent, config, tasks, train_ids, test_ids, origin


def maml_cheetah_policy(preset: str, seed: int = 0):
    """MAML's initial policy for HalfCheetah forward/backward, meta-trained by the ``maml-cheetah`` bench.

    At ``laptop``: the copy the kit ships in ``assets/`` (600 meta-iterations at the laptop preset's
    sizes; ``assets/README.md`` has the command). Otherwise, and always at ``ci``: a randomly
    initialised policy of the same shape (it shows the plumbing, nothing more).
    Returns (policy, env id, origin), origin saying which policy it is.
    """
    from metarl_course.maml import GaussianMLPPolicy
    from metarl_course.maml_bench import LOCOMOTION_TASKS
    from metarl_course.maml_locomotion import load_policy

    root = repo_root()
    path = None if root is None or preset == "ci" else root / "assets" / f"maml-cheetah-dir-{preset}-seed{seed}.pt"
    if path is not None and path.is_file():
        policy, env_id = load_policy(path)
        return policy, env_id, f"the kit's copy of the maml-cheetah bench's MAML policy ({path.relative_to(root)})"
    torch.manual_seed(seed)
    policy = GaussianMLPPolicy(17, 6)                             # HalfCheetah: 17 observations, 6 torques
    origin = "a randomly initialised policy (no meta-training: it only shows the plumbing)"
    if preset != "ci":
        origin += f"; the kit ships no {preset} policy"
    return policy, LOCOMOTION_TASKS["HalfCheetah direction"], origin
