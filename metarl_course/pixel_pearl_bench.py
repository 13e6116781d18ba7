"""Benchmark ``pixel-pearl``: PEARL from 64x64 frames on HalfCheetah velocity, the study's stages.

All stages share one PEARL budget (the ``pearl-cheetah-vel`` settings of the preset, with the
study's own number of iterations and data per iteration from ``bench_pixel_pearl``), so
they are compared at the same number of environment steps:

- stage 4, the upper bound: PEARL trained and run on true states;
- stage 1: the stage-4 agent run on the estimates of a CNN (``state_estimator``) trained,
  supervised, on frames rendered along that agent's own meta-test trajectories on training
  tasks (so stage 1 measures acting on estimates, not a mismatch of behaviour policies),
  and along every ``record_every``-th episode stage 4 played while it learned
  (``pixel_pearl.train_recording_learner``: the states a learner passes through, which
  stages 2 and 3 pass through too);
- stage 2: PEARL trained from scratch and run on that CNN's estimates (CNN fixed);
- stage 2's noise controls (``2n``, ``2nx``): PEARL trained and run on true states plus white
  noise of the CNN's RMSE per dimension on held-out frames, and of the larger error it makes
  on a learner's states (``noise_scale``; no camera): does the error's size alone stop stage 2?
- stage 3: as stage 2, but the CNN, starting from the same weights, keeps learning during
  meta-training from L_state + β L_Q (``pixel_pearl.train_jointly``); and its control,
  the same with β = 0 (the CNN keeps learning from the agent's data, without the RL signal).

- stage 5, a baseline: PEARL whose networks read CNN features of the frames, the CNN trained
  by the critic alone, from scratch (``pixel_end_to_end``). Its gradient steps put the frames
  of every replayed transition through the CNN, so the bench first times one step and trains
  stage 5 only if all of them would take at most ``stage5_max_hours``; otherwise the stage is
  reported as not run, with the time it would take.

Every trained agent and CNN is saved under ``build/bench/pixel-pearl/<preset>/<settings>/``
(``checkpoint_folder``: one folder per setting of the budgets that shape training) and reused
by a rerun with the same settings, so an interrupted run resumes at the stage it had reached,
while a changed preset or a ``--set`` trains afresh.
"""

from __future__ import annotations

import copy
import json
import os
import time
from pathlib import Path

import numpy as np
import torch

from metarl_course.bench import register
from metarl_course.checkpoint_code import check_checkpoint_code, save_checkpoint
from metarl_course.device import get_device
from metarl_course.pearl import PEARLAgent, PEARLConfig, environment_steps
from metarl_course.pearl_bench import save_agent
from metarl_course.pearl_cheetah import cheetah_vel_tasks
from metarl_course.pearl_cheetah_bench import CHECKPOINTS, cheetah_config, evaluate, load_agent, mean_row
from metarl_course.pixel_pearl import (NoisyCheetahTasks, PixelCheetahTasks, evaluate_on_estimates, record_agent_frames,
                                       return_drop, train_jointly, train_on_estimates, train_on_noisy_states,
                                       train_recording_learner)
from metarl_course.pixel_end_to_end import seconds_per_step, train_end_to_end
from metarl_course.pixels import FrameDataset
from metarl_course.presets import get_budget, overridden, parse_override, settings_digest
from metarl_course.state_estimator import STATE_NAMES, StateEstimator, fit_state_estimator, per_dimension_error

STAGES = {"4": "stage 4: PEARL on true states",
          "1": "stage 1: trained on true states, run on CNN estimates",
          "2": "stage 2: trained and run on CNN estimates",
          "2n": "stage 2 control: true states + white noise of the CNN's RMSE",
          "2nx": "stage 2 control: true states + white noise of the CNN's error on a learner's states",
          "3": "stage 3: CNN trained with L_state + β L_Q",
          "3c": "stage 3 control: CNN keeps training, β = 0",
          "5": "stage 5: PEARL on CNN features, end to end"}
NOISE_CONTROLS = ("2n", "2nx")
STAGE5_TIMED_STEPS = 3     # stage 5's gradient steps timed before deciding whether to train it
EVALUATION_ONLY = ("preset", "min_stage4_gain", "stage5_max_hours")   # budgets that do not change what is trained
STUDY_KEYS = ("iterations", "tasks_per_iteration", "prior_trajectories", "extra_posterior_trajectories",
              "initial_trajectories")


def study_config(preset: str) -> tuple[PEARLConfig, int]:
    """The PEARL settings every stage uses, and the number of iterations."""
    study = get_budget("bench_pixel_pearl", preset)
    config = cheetah_config(get_budget("bench_pearl_cheetah_vel", preset))
    for key in STUDY_KEYS[1:]:
        setattr(config, key, getattr(study, key))
    return config, study.iterations


def checkpoint_folder(preset: str) -> Path:
    """Where the study keeps its checkpoints at ``preset``: ``build/bench/pixel-pearl/<preset>/``
    and then ``settings_digest`` of every budget that shapes what is trained (the study's and
    ``pearl-cheetah-vel``'s, after any ``--set``). A run with other settings never loads them; one
    with other code is warned (``check_checkpoint_code``)."""
    study = {k: v for k, v in vars(get_budget("bench_pixel_pearl", preset)).items() if k not in EVALUATION_ONLY}
    cheetah = {k: v for k, v in vars(get_budget("bench_pearl_cheetah_vel", preset)).items() if k != "preset"}
    folder = CHECKPOINTS / "pixel-pearl" / preset / settings_digest(study, cheetah, *study_config(preset))
    check_checkpoint_code(folder)
    return folder


def _cached(path: Path, train, load):
    """``load(path)`` if it exists, else ``train()`` (which saves to ``path``); returns (result, how)."""
    if path.exists():
        return load(path), "loaded"
    return train(), "trained"


def save_estimator(model: StateEstimator, k: int, path: Path) -> None:
    save_checkpoint({"state_dict": model.state_dict(), "k": k}, path)


def save_frames(dataset: FrameDataset, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, frames=dataset.frames, states=dataset.states, velocities=dataset.velocities)


def load_frames(path: Path) -> FrameDataset:
    with np.load(path) as saved:
        return FrameDataset(saved["frames"], saved["states"], saved["velocities"])


def load_estimator(path: Path) -> StateEstimator:
    saved = torch.load(path, map_location="cpu", weights_only=False)
    model = StateEstimator(saved["k"])
    model.load_state_dict(saved["state_dict"])
    return model.eval()


def _train_once(folder: Path, stage: str, seed: int, train, load):
    """A stage trained by one process only: ``load()`` if its checkpoint ``stage<stage>_seed<seed>.pt``
    exists (after waiting for a live process that is training it), else ``train()``, which
    saves it, with a marker holding this process's PID meanwhile."""
    marker = folder / f"stage{stage}_seed{seed}.running"
    _wait_for_other_trainer(marker)
    if (folder / f"stage{stage}_seed{seed}.pt").exists():
        return load()
    folder.mkdir(parents=True, exist_ok=True)
    marker.write_text(str(os.getpid()))
    try:
        return train()
    finally:
        marker.unlink(missing_ok=True)


def train_stage3(preset: str, seed: int, stage: str, cnn: StateEstimator | None = None):
    """Stage 3 (``stage="3"``, β from the preset) or its control (``"3c"``, β = 0), from the
    supervised CNN of the same preset and seed: trained and saved (agent, CNN and the CNN's
    losses per iteration), or loaded when already saved. Returns (agent, CNN).

    Also a command, so that the runs can train in parallel processes, one per core,
    before the bench loads them: ``python -m metarl_course.pixel_pearl_bench laptop 0 3c``
    (followed by the bench's ``--set`` values, if it has any, as ``SECTION.KEY=VALUE``).
    """
    folder = checkpoint_folder(preset)
    agent_path, cnn_path = folder / f"stage{stage}_seed{seed}.pt", folder / f"cnn{stage}_seed{seed}.pt"

    def train():
        study = get_budget("bench_pixel_pearl", preset)
        cheetah = get_budget("bench_pearl_cheetah_vel", preset)
        config, iterations = study_config(preset)
        tasks, train_ids, _ = cheetah_vel_tasks(cheetah.n_train, cheetah.n_test, cheetah.horizon)
        model = copy.deepcopy(cnn if cnn is not None else load_estimator(folder / f"cnn_seed{seed}.pt"))
        model = model.to(get_device())              # the agent trains where its CNN is (train_jointly)
        weight = study.weight if stage == "3" else 0.0
        agent, _, losses = train_jointly(model, tasks.goals[:, 0], train_ids, iterations, config, weight,
                                         study.perception_steps, study.perception_batch, k=study.k,
                                         lr=study.cnn_lr, seed=seed, progress=True)
        save_estimator(model, study.k, cnn_path)
        (folder / f"losses{stage}_seed{seed}.json").write_text(json.dumps(losses))
        save_agent(agent, config, agent_path)
        return agent, model.eval()

    return _train_once(folder, stage, seed, train, lambda: (load_agent(agent_path)[0], load_estimator(cnn_path)))


def noise_scale(preset: str, stage: str) -> float:
    """The noise control's σ as a multiple of the CNN's RMSE on held-out recorded frames: 1 for
    ``2n``; for ``2nx`` the preset's ``noise_scale_learner``, the factor by which the CNN's error
    is larger on the states a learner on estimates visits (stage 3's control measures it: its
    standardised state loss on that data, 0.5-0.7 at laptop seed 0, against 0.10 on the
    held-out frames, a factor √(0.6 / 0.097) ≈ 2.5 in RMSE)."""
    if stage not in NOISE_CONTROLS:
        raise ValueError(f"{stage!r} is not a noise control; choose one of {', '.join(NOISE_CONTROLS)}")
    return 1.0 if stage == "2n" else float(get_budget("bench_pixel_pearl", preset).noise_scale_learner)


def noise_std(preset: str, seed: int, stage: str) -> np.ndarray:
    """σ of a noise control: ``noise_scale(preset, stage)`` times the CNN's held-out RMSE per
    dimension, which the bench saves beside the CNN as ``noise_seed<seed>.json``."""
    saved = json.loads((checkpoint_folder(preset) / f"noise_seed{seed}.json").read_text())
    return noise_scale(preset, stage) * np.array(saved["rmse"])


def train_noise_control(preset: str, seed: int, stage: str = "2n") -> PEARLAgent:
    """Stage 2's noise control (``pixel_pearl.train_on_noisy_states``): PEARL on true states plus
    white noise of ``noise_scale(preset, stage)`` times the supervised CNN's RMSE per dimension,
    which the bench saves beside the CNN as ``noise_seed<seed>.json``. Trained and saved, or
    loaded. Returns the agent.

    Also a command: ``python -m metarl_course.pixel_pearl_bench laptop 0 2n`` (or ``2nx``).
    """
    folder = checkpoint_folder(preset)
    agent_path = folder / f"stage{stage}_seed{seed}.pt"
    noise_scale(preset, stage)                   # an unknown stage fails here, before any waiting

    def train():
        cheetah = get_budget("bench_pearl_cheetah_vel", preset)
        config, iterations = study_config(preset)
        tasks, train_ids, _ = cheetah_vel_tasks(cheetah.n_train, cheetah.n_test, cheetah.horizon)
        agent, _ = train_on_noisy_states(noise_std(preset, seed, stage), tasks.goals[:, 0], train_ids, iterations,
                                         config, seed=seed, progress=True)
        save_agent(agent, config, agent_path)
        return agent

    return _train_once(folder, stage, seed, train, lambda: load_agent(agent_path)[0])


def _wait_for_other_trainer(marker: Path, poll_seconds: float = 30.0) -> None:
    """If another live process is training this stage (its PID in ``marker``), wait until it is done."""
    while marker.exists():
        try:
            pid = int(marker.read_text())
            os.kill(pid, 0)
        except (ValueError, ProcessLookupError, PermissionError):
            pid = None
        if pid is None or _is_zombie(pid):
            marker.unlink(missing_ok=True)      # the trainer has ended: its checkpoint is there, or train here
            return
        if pid == os.getpid():
            return
        print(f"waiting for process {pid}, which is training {marker.stem}", flush=True)
        time.sleep(poll_seconds)


def _losses(folder: Path, stage: str, seed: int) -> dict:
    """The estimator's losses per iteration that ``train_stage3`` saved beside the checkpoint."""
    path = folder / f"losses{stage}_seed{seed}.json"
    return json.loads(path.read_text()) if path.exists() else {}


def _is_zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return False


@register("pixel-pearl", "PEARL from 64x64 HalfCheetah-velocity frames through a CNN state estimator: stages 4 "
          "(true states), 1 (state-trained agent on CNN estimates), 2 (trained on estimates), 3 (CNN trained with "
          "the RL loss too) and its β = 0 control, at one environment-step budget; the CNN's error per dimension",
          default_seeds=(0,))
def pixel_pearl(preset: str, seeds: list[int]):
    study = get_budget("bench_pixel_pearl", preset)
    config, iterations = study_config(preset)
    cheetah = get_budget("bench_pearl_cheetah_vel", preset)
    tasks, train_ids, test_ids = cheetah_vel_tasks(cheetah.n_train, cheetah.n_test, cheetah.horizon)
    velocities = tasks.goals[:, 0]
    K, n_exp, k = cheetah.n_trajectories, cheetah.exploration_trajectories, study.k
    rows, pictures = [], []
    for seed in seeds:
        folder = checkpoint_folder(preset)
        seconds: dict[str, float] = {}
        returns: dict[str, np.ndarray] = {}

        def timed(name, fn):
            start = time.perf_counter()
            out = fn()
            seconds[name] = time.perf_counter() - start
            return out

        learner_path = folder / f"learner_frames_seed{seed}.npz"

        def train_state_agent():
            agent, learner = train_recording_learner(velocities, train_ids, iterations, config, k=k, seed=seed,
                                                     keep_every=study.record_every, progress=True)
            save_frames(learner, learner_path)
            save_agent(agent, config, folder / f"stage4_seed{seed}.pt")
            return agent

        def load_state_agent(path):
            return load_agent(path)[0] if learner_path.exists() else train_state_agent()

        agent4, how4 = timed("stage 4", lambda: _cached(folder / f"stage4_seed{seed}.pt", train_state_agent,
                                                        load_state_agent))
        returns["4"] = evaluate(agent4, tasks, test_ids, K, n_exp, 1000 + seed)["returns"]
        floor = float(np.mean(-config.horizon * velocities[test_ids]))    # standing still: -H v*
        gain = float(returns["4"][-1].mean()) - floor
        if gain < study.min_stage4_gain:      # nothing to compare the other stages with: skip them
            rows += _stage_rows(returns, seed, floor, n_exp)
            rows.append({"method": "stage 4 did not learn", "seed": seed, "mean": gain, "stderr": 0.0,
                         "n": len(test_ids), "floor": floor, "min_stage4_gain": study.min_stage4_gain,
                         "unit": "stage 4's return after adaptation minus standing still's; below min_stage4_gain "
                                 "the other stages are not trained at this seed", "seconds": seconds})
            pictures.append((returns, None, None, None))
            continue

        record_ids = np.random.default_rng(seed).choice(train_ids, size=min(study.n_record_tasks, len(train_ids)),
                                                        replace=False)
        recorder = PixelCheetahTasks(velocities, k=k, horizon=config.horizon, seed=seed)
        dataset = timed("recording", lambda: record_agent_frames(agent4, recorder, record_ids, K, n_exp, seed))
        recorder.close()
        n_agent_frames = dataset.frames.shape[0] * dataset.frames.shape[1]
        learner = load_frames(learner_path)
        n_learner_frames = learner.frames.shape[0] * learner.frames.shape[1]
        # the learner's episodes first: fit_state_estimator holds out the last 20% of the pairs, which are
        # then the finished agent's own episodes, where stage 1 acts
        frames, states = FrameDataset(np.concatenate([learner.frames, dataset.frames]),
                                      np.concatenate([learner.states, dataset.states]),
                                      np.concatenate([learner.velocities, dataset.velocities])).stacked(k)
        learner = dataset = None

        def fit():
            model, _, _ = fit_state_estimator(frames, states, k, epochs=study.epochs, seed=seed, progress=True)
            save_estimator(model, k, folder / f"cnn_seed{seed}.pt")
            return model

        cnn, _ = timed("CNN", lambda: _cached(folder / f"cnn_seed{seed}.pt", fit, load_estimator))
        cnn = cnn.eval()
        test = np.arange(len(frames) - int(0.2 * len(frames)), len(frames))   # fit_state_estimator's held-out block
        on_data = per_dimension_error(cnn, frames[test], states[test])
        (folder / f"noise_seed{seed}.json").write_text(json.dumps({"rmse": [on_data[n]["rmse"] for n in STATE_NAMES],
                                                                   "names": list(STATE_NAMES)}))
        n_frames = len(frames)
        frames = states = None           # free the stacks (about 0.5 GB at laptop)

        def on_estimates(agent, model):
            perceiving = PixelCheetahTasks(velocities, k=k, perceive=model, horizon=config.horizon, seed=seed)
            try:
                return evaluate_on_estimates(agent, perceiving, test_ids, K, n_exp, 1000 + seed)
            finally:
                perceiving.close()

        stage1 = timed("stage 1", lambda: on_estimates(agent4, cnn))
        returns["1"] = stage1["returns"]

        def train2():
            agent, _ = train_on_estimates(cnn, velocities, train_ids, iterations, config, k=k, seed=seed,
                                          progress=True)
            save_agent(agent, config, folder / f"stage2_seed{seed}.pt")
            return agent

        agent2, _ = timed("stage 2", lambda: _cached(folder / f"stage2_seed{seed}.pt", train2,
                                                     lambda p: load_agent(p)[0]))
        returns["2"] = on_estimates(agent2, cnn)["returns"]

        for stage in NOISE_CONTROLS:
            agent2n = timed(f"stage {stage}", lambda stage=stage: train_noise_control(preset, seed, stage))
            noisy = NoisyCheetahTasks(velocities, noise_std(preset, seed, stage), horizon=config.horizon, seed=seed)
            returns[stage] = evaluate(agent2n, noisy, test_ids, K, n_exp, 1000 + seed)["returns"]
            noisy.close()

        perception_losses = {}
        for stage in ("3", "3c"):
            agent3, cnn3 = timed(f"stage {stage}", lambda stage=stage: train_stage3(preset, seed, stage, cnn))
            perception_losses[stage] = _losses(folder, stage, seed)
            returns[stage] = on_estimates(agent3, cnn3.eval())["returns"]

        device = get_device()               # where stage 5 trains (train_end_to_end's default), so where it is timed
        per_step = seconds_per_step(config, k, n_steps=STAGE5_TIMED_STEPS, device=device)
        projected = per_step * iterations * config.gradient_steps
        stage5 = {"method": "stage 5: seconds per gradient step on frames", "seed": seed,
                  "mean": per_step, "stderr": 0.0, "n": STAGE5_TIMED_STEPS, "projected_hours": projected / 3600,
                  "threads": torch.get_num_threads(), "device": str(device),
                  "trained": projected <= 3600 * study.stage5_max_hours}
        if stage5["trained"]:
            def train5():
                agent, trunk, _ = train_end_to_end(velocities, train_ids, iterations, config, k=k, seed=seed,
                                                   progress=True)
                save_estimator(trunk, k, folder / f"cnn5_seed{seed}.pt")
                save_agent(agent, config, folder / f"stage5_seed{seed}.pt")
                return agent

            agent5, _ = timed("stage 5", lambda: _cached(folder / f"stage5_seed{seed}.pt", train5,
                                                         lambda p: load_agent(p)[0]))
            returns["5"] = on_estimates(agent5, load_estimator(folder / f"cnn5_seed{seed}.pt"))["returns"]
        rows.append(stage5)

        rows += _stage_rows(returns, seed, floor, n_exp)
        std = cnn.state_std.numpy()
        along = np.sqrt((stage1["error"] ** 2).mean(axis=(0, 1, 2))) / std
        for d, name in enumerate(STATE_NAMES):
            rows.append({"method": "CNN relative RMSE", "dimension": name, "seed": seed, "k": k,
                         "on_recorded_data": on_data[name]["relative"], "along_stage_1": float(along[d]),
                         "mean": on_data[name]["relative"], "stderr": 0.0, "n": len(test),
                         "unit": "RMSE / std (held-out recorded episodes; along_stage_1: states visited while "
                                 "acting on the estimates)"})
        rows.append({"method": "timing", "seed": seed, "mean": sum(seconds.values()), "stderr": 0.0, "n": 1,
                     "unit": "seconds (stages loaded from checkpoints count ~0)", "seconds": seconds,
                     "stage4": how4, "recorded_frames": n_agent_frames, "learner_frames": n_learner_frames, "cnn_pairs": n_frames,
                     "frames_per_second_recording": n_agent_frames / seconds["recording"],
                     "env_steps_per_stage": environment_steps(config, len(train_ids), iterations),
                     "threads": torch.get_num_threads(), "perception_losses": perception_losses})
        pictures.append((returns, on_data, along, stage1["error"]))
    tasks.close()
    return rows, _figure(next((p for p in pictures if p[1] is not None), pictures[0]), K, noise_scale(preset, "2nx"))


def _stage_rows(returns: dict[str, np.ndarray], seed: int, floor: float, n_exp: int) -> list[dict]:
    """Per stage that ran: the mean return of every trajectory (K rows) and the share of stage 4's
    gain over ``floor`` that the stage loses after adaptation."""
    rows = []
    for stage, method in STAGES.items():
        if stage not in returns:
            continue
        for t, trajectory in enumerate(returns[stage]):
            rows.append(mean_row(method, trajectory, seed=seed, trajectory=t + 1,
                                 phase="exploration (z ~ prior)" if t < n_exp else "posterior"))
        drop = return_drop(returns["4"][-1], returns[stage][-1], floor)
        rows.append({"method": method, "seed": seed, "summary": "share of stage 4's gain over standing still lost",
                     "mean": drop["share"], "stderr": 0.0, "n": returns[stage].shape[1], "drop": drop["drop"],
                     "floor": floor})
    return rows


def _figure(picture, K: int, scale: float):
    """The comparison's bars, the CNN's error per dimension and stage 1's velocity error over time;
    ``scale`` is control 2nx's multiple of the CNN's RMSE (``noise_scale``)."""
    import matplotlib.pyplot as plt

    returns, on_data, along, error = picture      # on_data None: stage 4 did not learn, nothing else ran
    fig, (ax, ax2, ax3) = plt.subplots(1, 3, figsize=(16, 4.2))
    labels = ["4: true states", "1: trained on s, run on ŝ", "2: trained on ŝ", "2n: s + noise",
              f"2nx: s + {scale:g}× noise", "3: + β L_Q", "3c: β = 0", "5: end to end"]
    for i, stage in enumerate(STAGES):
        if stage not in returns:
            ax.text(i, -5, "not run", rotation=90, ha="center", va="top", fontsize=8)
            continue
        last = returns[stage][-1]
        ax.bar(i, last.mean(), yerr=last.std(ddof=1) / np.sqrt(len(last)) if len(last) > 1 else 0, color=f"C{i}",
               capsize=4)
    ax.set_xticks(range(len(STAGES)), labels, rotation=30, ha="right", fontsize=8)
    ax.set(ylabel="held-out return after adaptation", title="The five-way comparison, with two controls")
    if on_data is None:
        for axis in (ax2, ax3):
            axis.text(0.5, 0.5, "stage 4 did not learn at this seed:\nthe CNN and the other stages were not trained",
                      ha="center", va="center", transform=axis.transAxes)
        fig.tight_layout()
        return fig
    x = np.arange(len(STATE_NAMES))
    ax2.bar(x - 0.2, [on_data[n]["relative"] for n in STATE_NAMES], width=0.4, label="recorded episodes")
    ax2.bar(x + 0.2, along, width=0.4, label="stage 1: acting on estimates")
    ax2.axhline(1.0, color="gray", linestyle=":")
    ax2.set_xticks(x, STATE_NAMES, rotation=60, ha="right", fontsize=7)
    ax2.set(ylabel="RMSE / std", title="CNN error per state dimension")
    ax2.legend(fontsize=8)
    vx = STATE_NAMES.index("vx")
    for t, curve in enumerate(np.abs(error[..., vx]).mean(axis=1)):
        ax3.plot(curve, label=f"trajectory {t + 1}")
    ax3.set(xlabel="step", ylabel="|v̂x - vx| (m/s), mean over tasks", title="Stage 1: velocity error over time")
    ax3.legend(fontsize=8)
    fig.tight_layout()
    return fig


if __name__ == "__main__":
    import sys

    preset, seed, stage, *changes = sys.argv[1:]
    overrides: dict[str, dict] = {}
    for text in changes:                      # the bench's --set values, so that both use one folder
        section, key, value = parse_override(text, preset)
        overrides.setdefault(section, {})[key] = value
    with overridden(overrides):
        if stage in NOISE_CONTROLS:
            train_noise_control(preset, int(seed), stage)
        else:
            train_stage3(preset, int(seed), stage)
