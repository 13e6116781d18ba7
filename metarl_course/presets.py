"""Training budgets: ``ci`` (seconds), ``laptop`` (minutes on two CPU cores), ``paper``.

Every budget in the kit (number of tasks, iterations, episodes...) is read from here,
so one switch scales a notebook from an autograding smoke run to the published setting.

The preset is chosen by the environment variable ``METARL_PRESET`` (default ``laptop``).
While nbgrader grades a notebook it sets ``NBGRADER_EXECUTION``; then the preset is
``ci`` whatever else is set, so that grading a class stays fast and deterministic.

Each unit owns one section of budgets, and every preset defines the same keys::

    budget = get_budget("00_meta_rl_problem")
    budget.n_test_tasks
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from contextlib import contextmanager
from types import MappingProxyType, SimpleNamespace
from typing import Any, Iterator, Mapping

PRESET_NAMES = ("ci", "laptop", "paper")
DEFAULT_PRESET = "laptop"

# PRESETS[preset][unit][budget name] = value
PRESETS: Mapping[str, Mapping[str, Mapping[str, int | float]]] = MappingProxyType(
    {
        "ci": {
            "00_meta_rl_problem": {"n_train_tasks": 20, "n_test_tasks": 8, "n_adaptation_episodes": 3},
            "01_rl2_bandits": {"k": 5, "n": 10, "hidden_size": 16, "trials_per_update": 32, "updates": 3, "n_eval_trials": 300},
            "02_rl2_tabular_mdp": {"n_episodes": 10, "hidden_size": 16, "trials_per_update": 32, "updates": 3, "n_eval_trials": 50},
            "03_maml_pg": {"iterations": 2, "fo_iterations": 2, "pretrain_iterations": 2, "meta_batch": 4, "n_per_task": 4, "n_test_tasks": 4, "fisher_subsample": 0.1},
            "04_pearl": {"latent_dim": 2, "reward_scale": 5.0, "lr": 3e-4, "kl_weight": 0.01, "exploration_trajectories": 5, "iterations": 2, "gradient_steps": 25, "hidden_width": 32, "hidden_layers": 2, "encoder_width": 32, "encoder_layers": 2, "meta_batch": 4, "rl_batch": 32, "context_batch": 64, "tasks_per_iteration": 4, "initial_trajectories": 2, "prior_trajectories": 1, "posterior_trajectories": 2, "n_test_trajectories": 6},
            "05_pixel_pearl": {"n_tasks": 2, "episodes_per_task": 1, "horizon": 150, "k": 3, "epochs": 2, "batch_size": 32, "n_eval_tasks": 2, "eval_horizon": 40, "n_trajectories": 3, "exploration_trajectories": 2},
            "bench_maml_nav": {"iterations": 2, "baseline_iterations": 2, "inner_step": 0.1, "meta_batch": 4, "n_per_task": 4, "n_test_tasks": 4, "fisher_subsample": 0.1, "n_timed_iterations": 2},
            "bench_pearl_point": {"iterations": 2, "eval_every": 1, "n_trajectories": 3, "n_test_repeats": 1, "exploration_sweep": [1], "n_timed_steps": 2, "latent_dim": 2, "hidden_width": 16, "hidden_layers": 1, "encoder_width": 16, "encoder_layers": 1, "meta_batch": 2, "rl_batch": 8, "context_batch": 8, "reward_scale": 5.0, "lr": 3e-4, "kl_weight": 0.01, "tasks_per_iteration": 2, "initial_trajectories": 2, "prior_trajectories": 1, "posterior_trajectories": 1, "gradient_steps": 3, "exploration_trajectories": 1},
            "bench_maml_cheetah": {"iterations": 1, "baseline_iterations": 1, "meta_batch": 2, "n_per_task": 2, "n_test_tasks": 2, "fisher_subsample": 0.5, "n_tasks_kinds": 1, "first_task": 0, "workers": 1, "validate_every": 1, "n_validation_tasks": 2, "n_validation_draws": 2, "n_test_draws": 2},
            "bench_nav_protocol": {"n_test_tasks": 20, "n_adaptation_episodes": 3, "n_seeds": 2},
            "bench_rl2_bandits": {"n_cells": 1, "hidden_size": 16, "trials_n10": 32, "trials_n100": 32, "trials_n500": 32, "updates_n10": 2, "updates_n100": 2, "updates_n500": 2, "n_eval_trials": 100, "n_baseline_trials": 100},
            "bench_rl2_mdp": {"n_cells": 1, "hidden_size": 16, "trials_per_update": 16, "updates_n10": 2, "updates_n25": 2, "updates_n50": 2, "updates_n75": 2, "updates_n100": 2, "n_eval_trials": 50, "n_baseline_trials": 50},
            "bench_bandit_baselines": {"n_cells": 1, "n_trials": 200},
            "bench_mdp_baselines": {"n_cells": 1, "n_trials": 50},
            "bench_rl2_throughput": {"n_cells": 1, "n_timed_updates": 1},
            "bench_pixel_throughput": {"n_frames": 10, "n_steps": 2},
            "bench_pixel_estimator": {"n_tasks": 2, "episodes_per_task": 1, "horizon": 10, "epochs": 1},
            "bench_pearl_cheetah_vel": {"n_train": 4, "n_test": 2, "horizon": 20, "iterations": 2, "eval_every": 1, "n_trajectories": 3, "exploration_trajectories": 2, "latent_dim": 5, "lr": 3e-4, "reward_scale": 5.0, "kl_weight": 0.1, "posterior_trajectories": 0, "hidden_width": 16, "hidden_layers": 1, "encoder_width": 16, "encoder_layers": 1, "meta_batch": 2, "rl_batch": 8, "context_batch": 8, "tasks_per_iteration": 2, "initial_trajectories": 1, "prior_trajectories": 1, "extra_posterior_trajectories": 1, "gradient_steps": 3},
            "bench_pixel_pearl": {"n_record_tasks": 2, "k": 3, "epochs": 1, "iterations": 2, "tasks_per_iteration": 2, "prior_trajectories": 1, "extra_posterior_trajectories": 1, "initial_trajectories": 1, "perception_steps": 2, "perception_batch": 4, "weight": 0.01, "cnn_lr": 1e-4, "record_every": 1, "stage5_max_hours": 1, "noise_scale_learner": 2.5, "min_stage4_gain": -1000.0},
        },
        "laptop": {
            "00_meta_rl_problem": {"n_train_tasks": 100, "n_test_tasks": 40, "n_adaptation_episodes": 5},
            "01_rl2_bandits": {"k": 5, "n": 10, "hidden_size": 256, "trials_per_update": 256, "updates": 200, "n_eval_trials": 2000},
            "02_rl2_tabular_mdp": {"n_episodes": 10, "hidden_size": 64, "trials_per_update": 128, "updates": 250, "n_eval_trials": 500},
            "03_maml_pg": {"iterations": 150, "fo_iterations": 150, "pretrain_iterations": 100, "meta_batch": 20, "n_per_task": 20, "n_test_tasks": 40, "fisher_subsample": 0.1},
            "04_pearl": {"latent_dim": 2, "reward_scale": 5.0, "lr": 1e-3, "kl_weight": 0.01, "exploration_trajectories": 5, "iterations": 180, "gradient_steps": 250, "hidden_width": 64, "hidden_layers": 2, "encoder_width": 64, "encoder_layers": 2, "meta_batch": 8, "rl_batch": 128, "context_batch": 256, "tasks_per_iteration": 10, "initial_trajectories": 10, "prior_trajectories": 5, "posterior_trajectories": 45, "n_test_trajectories": 10},
            "05_pixel_pearl": {"n_tasks": 8, "episodes_per_task": 2, "horizon": 200, "k": 3, "epochs": 15, "batch_size": 64, "n_eval_tasks": 10, "eval_horizon": 200, "n_trajectories": 3, "exploration_trajectories": 2},
            "bench_maml_nav": {"iterations": 500, "baseline_iterations": 200, "inner_step": 0.1, "meta_batch": 20, "n_per_task": 20, "n_test_tasks": 40, "fisher_subsample": 0.1, "n_timed_iterations": 10},
            "bench_pearl_point": {"iterations": 180, "eval_every": 10, "n_trajectories": 10, "n_test_repeats": 20, "exploration_sweep": [1, 2, 3, 5, 10], "n_timed_steps": 20, "latent_dim": 2, "hidden_width": 64, "hidden_layers": 2, "encoder_width": 64, "encoder_layers": 2, "meta_batch": 8, "rl_batch": 128, "context_batch": 256, "reward_scale": 5.0, "lr": 1e-3, "kl_weight": 0.01, "tasks_per_iteration": 10, "initial_trajectories": 10, "prior_trajectories": 5, "posterior_trajectories": 45, "gradient_steps": 250, "exploration_trajectories": 5},
            "bench_maml_cheetah": {"iterations": 20, "baseline_iterations": 10, "meta_batch": 10, "n_per_task": 10, "n_test_tasks": 10, "fisher_subsample": 0.5, "n_tasks_kinds": 2, "first_task": 0, "workers": 2, "validate_every": 20, "n_validation_tasks": 10, "n_validation_draws": 8, "n_test_draws": 8},
            "bench_nav_protocol": {"n_test_tasks": 200, "n_adaptation_episodes": 5, "n_seeds": 5},
            "bench_rl2_bandits": {"n_cells": 4, "hidden_size": 64, "trials_n10": 1024, "trials_n100": 512, "trials_n500": 256, "updates_n10": 300, "updates_n100": 250, "updates_n500": 100, "n_eval_trials": 4000, "n_baseline_trials": 2000},
            "bench_rl2_mdp": {"n_cells": 1, "hidden_size": 64, "trials_per_update": 128, "updates_n10": 250, "updates_n25": 100, "updates_n50": 100, "updates_n75": 100, "updates_n100": 100, "n_eval_trials": 1000, "n_baseline_trials": 1000},
            "bench_bandit_baselines": {"n_cells": 9, "n_trials": 2000},
            "bench_mdp_baselines": {"n_cells": 5, "n_trials": 1000},
            "bench_rl2_throughput": {"n_cells": 2, "n_timed_updates": 2},
            "bench_pixel_throughput": {"n_frames": 400, "n_steps": 30},
            "bench_pixel_estimator": {"n_tasks": 8, "episodes_per_task": 2, "horizon": 200, "epochs": 30},
            "bench_pearl_cheetah_vel": {"n_train": 100, "n_test": 30, "horizon": 200, "iterations": 100, "eval_every": 10, "n_trajectories": 3, "exploration_trajectories": 2, "latent_dim": 5, "lr": 1e-3, "reward_scale": 5.0, "kl_weight": 0.1, "posterior_trajectories": 0, "hidden_width": 64, "hidden_layers": 2, "encoder_width": 64, "encoder_layers": 2, "meta_batch": 8, "rl_batch": 256, "context_batch": 100, "tasks_per_iteration": 5, "initial_trajectories": 10, "prior_trajectories": 2, "extra_posterior_trajectories": 3, "gradient_steps": 500},
            "bench_pixel_pearl": {"n_record_tasks": 20, "k": 3, "epochs": 15, "iterations": 100, "tasks_per_iteration": 2, "prior_trajectories": 1, "extra_posterior_trajectories": 1, "initial_trajectories": 1, "perception_steps": 20, "perception_batch": 32, "weight": 0.01, "cnn_lr": 1e-4, "record_every": 10, "stage5_max_hours": 2, "noise_scale_learner": 2.5, "min_stage4_gain": 40.0},
        },
        "paper": {
            "00_meta_rl_problem": {"n_train_tasks": 100, "n_test_tasks": 40, "n_adaptation_episodes": 5},
            "01_rl2_bandits": {"k": 5, "n": 10, "hidden_size": 256, "trials_per_update": 1024, "updates": 1000, "n_eval_trials": 10000},
            "02_rl2_tabular_mdp": {"n_episodes": 10, "hidden_size": 256, "trials_per_update": 1024, "updates": 2000, "n_eval_trials": 5000},
            "03_maml_pg": {"iterations": 100, "fo_iterations": 100, "pretrain_iterations": 500, "meta_batch": 20, "n_per_task": 20, "n_test_tasks": 40, "fisher_subsample": 1.0},
            "04_pearl": {"latent_dim": 5, "reward_scale": 100.0, "lr": 3e-4, "kl_weight": 1.0, "exploration_trajectories": 5, "iterations": 500, "gradient_steps": 1000, "hidden_width": 300, "hidden_layers": 3, "encoder_width": 200, "encoder_layers": 3, "meta_batch": 16, "rl_batch": 256, "context_batch": 1024, "tasks_per_iteration": 10, "initial_trajectories": 10, "prior_trajectories": 5, "posterior_trajectories": 45, "n_test_trajectories": 20},
            "05_pixel_pearl": {"n_tasks": 16, "episodes_per_task": 2, "horizon": 200, "k": 3, "epochs": 30, "batch_size": 64, "n_eval_tasks": 30, "eval_horizon": 200, "n_trajectories": 3, "exploration_trajectories": 2},
            "bench_maml_nav": {"iterations": 100, "baseline_iterations": 500, "inner_step": 0.1, "meta_batch": 20, "n_per_task": 20, "n_test_tasks": 40, "fisher_subsample": 1.0, "n_timed_iterations": 10},
            "bench_pearl_point": {"iterations": 500, "eval_every": 25, "n_trajectories": 10, "n_test_repeats": 20, "exploration_sweep": [1, 2, 3, 5, 10], "n_timed_steps": 20, "latent_dim": 5, "hidden_width": 300, "hidden_layers": 3, "encoder_width": 200, "encoder_layers": 3, "meta_batch": 16, "rl_batch": 256, "context_batch": 1024, "reward_scale": 100.0, "lr": 3e-4, "kl_weight": 1.0, "tasks_per_iteration": 10, "initial_trajectories": 10, "prior_trajectories": 5, "posterior_trajectories": 45, "gradient_steps": 1000, "exploration_trajectories": 5},
            "bench_maml_cheetah": {"iterations": 500, "baseline_iterations": 500, "meta_batch": 40, "n_per_task": 20, "n_test_tasks": 40, "fisher_subsample": 1.0, "n_tasks_kinds": 4, "first_task": 0, "workers": 3, "validate_every": 25, "n_validation_tasks": 40, "n_validation_draws": 2, "n_test_draws": 8},
            "bench_nav_protocol": {"n_test_tasks": 1000, "n_adaptation_episodes": 5, "n_seeds": 10},
            "bench_rl2_bandits": {"n_cells": 9, "hidden_size": 256, "trials_n10": 1024, "trials_n100": 1024, "trials_n500": 1024, "updates_n10": 2000, "updates_n100": 2000, "updates_n500": 2000, "n_eval_trials": 10000, "n_baseline_trials": 10000},
            "bench_rl2_mdp": {"n_cells": 5, "hidden_size": 256, "trials_per_update": 1024, "updates_n10": 2000, "updates_n25": 2000, "updates_n50": 2000, "updates_n75": 2000, "updates_n100": 2000, "n_eval_trials": 5000, "n_baseline_trials": 5000},
            "bench_bandit_baselines": {"n_cells": 9, "n_trials": 10000},
            "bench_mdp_baselines": {"n_cells": 5, "n_trials": 5000},
            "bench_rl2_throughput": {"n_cells": 4, "n_timed_updates": 3},
            "bench_pixel_throughput": {"n_frames": 1000, "n_steps": 200},
            "bench_pixel_estimator": {"n_tasks": 50, "episodes_per_task": 4, "horizon": 200, "epochs": 50},
            "bench_pearl_cheetah_vel": {"n_train": 100, "n_test": 30, "horizon": 200, "iterations": 500, "eval_every": 25, "n_trajectories": 3, "exploration_trajectories": 2, "latent_dim": 5, "lr": 3e-4, "reward_scale": 5.0, "kl_weight": 0.1, "posterior_trajectories": 0, "hidden_width": 300, "hidden_layers": 3, "encoder_width": 200, "encoder_layers": 3, "meta_batch": 16, "rl_batch": 256, "context_batch": 100, "tasks_per_iteration": 5, "initial_trajectories": 10, "prior_trajectories": 2, "extra_posterior_trajectories": 3, "gradient_steps": 2000},
            "bench_pixel_pearl": {"n_record_tasks": 100, "k": 3, "epochs": 30, "iterations": 500, "tasks_per_iteration": 5, "prior_trajectories": 2, "extra_posterior_trajectories": 3, "initial_trajectories": 10, "perception_steps": 500, "perception_batch": 64, "weight": 0.01, "cnn_lr": 1e-4, "record_every": 10, "stage5_max_hours": 24, "noise_scale_learner": 2.5, "min_stage4_gain": 40.0},
        },
    }
)


def preset_name(environ: Mapping[str, str] | None = None) -> str:
    """The active preset: ``ci`` under nbgrader, else ``$METARL_PRESET``, else ``laptop``."""
    environ = os.environ if environ is None else environ
    if environ.get("NBGRADER_EXECUTION"):
        return "ci"
    name = environ.get("METARL_PRESET", DEFAULT_PRESET).strip().lower() or DEFAULT_PRESET
    if name not in PRESET_NAMES:
        raise ValueError(f"METARL_PRESET={name!r} is not a preset; choose one of {', '.join(PRESET_NAMES)}")
    return name


def get_budget(unit: str, preset: str | None = None) -> SimpleNamespace:
    """The budgets of ``unit`` at ``preset`` (default: the active preset) as attributes."""
    preset = preset_name() if preset is None else preset
    if preset not in PRESETS:
        raise ValueError(f"unknown preset {preset!r}; choose one of {', '.join(PRESET_NAMES)}")
    if unit not in PRESETS[preset]:
        known = ", ".join(sorted(PRESETS[preset]))
        raise KeyError(f"no budgets for {unit!r} in preset {preset!r}; known sections: {known}")
    return SimpleNamespace(preset=preset, **{**PRESETS[preset][unit], **_OVERRIDES.get(unit, {})})


# Budgets changed for one run (``metarl-course bench NAME --set SECTION.KEY=VALUE``): {section: {key: value}}
_OVERRIDES: dict[str, dict[str, Any]] = {}


def parse_override(text: str, preset: str) -> tuple[str, str, Any]:
    """``"bench_pearl_point.reward_scale=2.5"`` -> (section, key, value), checked against ``preset``:
    the section and key must exist and the value must have the type of the preset's value
    (an int where an int is expected; a float accepts an int)."""
    name, sep, raw = text.partition("=")
    section, dot, key = name.strip().rpartition(".")
    if not sep or not dot:
        raise ValueError(f"--set takes SECTION.KEY=VALUE, e.g. bench_pearl_point.reward_scale=2.5; got {text!r}")
    if section not in PRESETS[preset]:
        raise ValueError(f"--set {text!r}: no section {section!r} in preset {preset!r}; "
                         f"known: {', '.join(sorted(PRESETS[preset]))}")
    if key not in PRESETS[preset][section]:
        raise ValueError(f"--set {text!r}: section {section!r} has no key {key!r}; "
                         f"known: {', '.join(sorted(PRESETS[preset][section]))}")
    try:
        value = json.loads(raw)
    except json.JSONDecodeError:
        value = raw.strip()
    old = PRESETS[preset][section][key]
    if isinstance(old, float) and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if type(value) is not type(old):
        raise ValueError(f"--set {text!r}: {section}.{key} is {type(old).__name__} ({old!r}), "
                         f"got {type(value).__name__}")
    return section, key, value


@contextmanager
def overridden(overrides: Mapping[str, Mapping[str, Any]]) -> Iterator[None]:
    """Within the block, ``get_budget`` returns these values in place of the preset's."""
    saved = {k: dict(v) for k, v in _OVERRIDES.items()}
    for section, values in overrides.items():
        _OVERRIDES.setdefault(section, {}).update(values)
    try:
        yield
    finally:
        _OVERRIDES.clear()
        _OVERRIDES.update(saved)


def settings_digest(*settings: Any) -> str:
    """Eight hex digits that change whenever one of ``settings`` does (budgets as dicts or
    namespaces, configs as dataclasses). Benchmarks keep their checkpoints in a folder of
    this name, so a changed preset or a ``--set`` trains afresh instead of loading a run
    made with other settings."""
    def plain(value: Any) -> Any:
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            return dataclasses.asdict(value)
        if isinstance(value, SimpleNamespace):
            return vars(value)
        return value
    text = json.dumps([plain(v) for v in settings], sort_keys=True, default=str)
    return hashlib.sha1(text.encode()).hexdigest()[:8]
