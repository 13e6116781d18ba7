"""Which frame stack lets the CNN read HalfCheetah's forward velocity well enough for PEARL to learn?

`pixel-noise-budget.py` found that white noise of the CNN's size on the forward velocity alone
(σ 0.26 m/s) stops PEARL from learning HalfCheetah velocity, while half of it (0.13 m/s) lets it
learn late. This script trains the unit-05 CNN (``state_estimator.StateEstimator``) on one
dataset with several inputs and reports each one's held-out error on vx in m/s, to see which
comes near half of today's error.

Why vx is hard: the ``track`` camera follows the cheetah, so forward motion shows only as the
checkered floor sliding by, about one pixel per step at 1 m/s in the nearest row of squares
(a square is 0.67 m and about 13 pixels wide there; one step is 0.05 s). The inputs compared:

- ``k3``: the study's three consecutive frames [x_{t-2}, x_{t-1}, x_t], 15 epochs;
- ``k3-30ep``: the same, trained twice as long (is the study's CNN short of training?);
- ``k5``: five consecutive frames (a longer baseline, and every step's shift);
- ``gap2``: three frames two steps apart, [x_{t-4}, x_{t-2}, x_t] (twice the shift per pair);
- ``diff``: [x_t, x_t - x_{t-1}, x_{t-1} - x_{t-2}], the motion handed to the network as
  differences rather than left for its first layer to find;
- ``torso``: the study's three frames, rendered with the camera following the torso rather than
  the centre of mass (``follow_the_torso``; its own cache, ``--collect --torso-camera``);
- ``wide``: the study's three frames into a CNN twice as wide (64, 128, 128 channels, 512 units);
- ``more-random``: the study's three frames, with 80 more random-action episodes in the training
  data (24,000 random frames instead of 8,000).
- ``supersampled``: the study's three frames, each rendered at 256x256 and averaged down to 64x64
  (16 samples per pixel on top of MuJoCo's 4x multisampling; ``supersample_the_frames``, its own
  cache, ``--collect --supersample``), so that the floor's sub-pixel shifts are rendered finer.

Data, rendered once and cached in ``build/cache/pixel-velocity/``: the clean PEARL agent of
`pixel-noise-budget.py` (``build/bench/pixel-noise-budget/clean_seed0.pt``; the script trains
it if it is missing) playing the meta-test protocol (2 exploration trajectories from the
prior, 1 from the posterior) on 24 training velocities, and 40 episodes of uniformly random
actions (the flailing of a fresh learner; 80 more for ``more-random``). Held out: the agent on 6 other velocities and 10
other random episodes. Each estimate is reported on both held-out sets.

    python benchmarks/results/pixel-estimator-velocity.py --collect [--torso-camera | --supersample]
    python benchmarks/results/pixel-estimator-velocity.py --variant k3 [--seed 1]  # one per process
    python benchmarks/results/pixel-estimator-velocity.py --report [--floor] [--precision]

Each variant writes ``pixel-estimator-velocity/<variant>.json`` (``<variant>.seed<S>.json`` for
seeds other than 0) next to this script.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch

from metarl_course.pearl_cheetah import cheetah_vel_tasks
from metarl_course.pearl_cheetah_bench import load_agent
from metarl_course.pixel_pearl import PixelCheetahTasks, record_agent_frames
from metarl_course.pixels import DatasetSpec, FrameDataset, collect_dataset
from metarl_course.presets import get_budget
from metarl_course.state_estimator import STATE_NAMES, StateEstimator, fit_state_estimator, predict

CACHE = Path("build/cache/pixel-velocity")
AGENT = Path("build/bench/pixel-noise-budget/clean_seed0.pt")
RESULTS = Path(__file__).with_name("pixel-estimator-velocity")
VX = STATE_NAMES.index("vx")
# offsets of the stacked frames relative to t (oldest first), input transform, epochs, CNN width
VARIANTS = {"k3": ((-2, -1, 0), "frames", 15, 32), "k3-30ep": ((-2, -1, 0), "frames", 30, 32),
            "k5": ((-4, -3, -2, -1, 0), "frames", 15, 32), "gap2": ((-4, -2, 0), "frames", 15, 32),
            "diff": ((-2, -1, 0), "diff", 15, 32), "torso": ((-2, -1, 0), "frames", 15, 32),
            "wide": ((-2, -1, 0), "frames", 15, 64), "more-random": ((-2, -1, 0), "frames", 15, 32),
            "supersampled": ((-2, -1, 0), "frames", 15, 32)}
TORSO_CAMERA = ("torso",)     # variants rendered with the camera in ``track`` mode (see ``follow_the_torso``)
SUPERSAMPLED = ("supersampled",)  # variants rendered at 4x the size and averaged down (``supersample_the_frames``)


def follow_the_torso() -> None:
    """Make every HalfCheetah built from now on move its ``track`` camera with the torso
    (MuJoCo's ``track`` mode) instead of with the centre of mass (``trackcom``, gymnasium's
    choice). Then the floor slides between frames by exactly the torso's displacement, the
    quantity vx is the rate of; with ``trackcom`` it slides by the centre of mass's, which
    flailing legs move by as much as 0.6 m/s RMS away from vx under random actions."""
    import mujoco

    from metarl_course.envs import locomotion

    original = locomotion.HalfCheetahVelEnv.__init__

    def init(self, *args, **kwargs):
        original(self, *args, **kwargs)
        camera = mujoco.mj_name2id(self.model, mujoco.mjtObj.mjOBJ_CAMERA, "track")
        self.model.cam_mode[camera] = mujoco.mjtCamLight.mjCAMLIGHT_TRACK

    locomotion.HalfCheetahVelEnv.__init__ = init


def supersample_the_frames(factor: int = 4) -> None:
    """Make every ``pixels.Camera`` built from now on render at ``factor`` times the size and
    average each factor x factor block down to one pixel (box filter). A floor edge that moves by
    a tenth of a pixel then changes the pixel it crosses by a finer step than multisampling's."""
    from metarl_course import pixels

    original_init, original_frame = pixels.Camera.__init__, pixels.Camera.frame

    def init(self, model, size: int = pixels.FRAME_SIZE, shadows: bool = False) -> None:
        original_init(self, model, size * factor, shadows)
        self.size = size

    def frame(self, data) -> np.ndarray:
        big = original_frame(self, data).astype(np.float32)
        small = big.reshape(self.size, factor, self.size, factor, 3).mean((1, 3))
        return np.round(small).astype(np.uint8)

    pixels.Camera.__init__, pixels.Camera.frame = init, frame


class DifferenceEstimator(StateEstimator):
    """The same CNN fed [x_t, x_t - x_{t-1}, x_{t-1} - x_{t-2}, ...] instead of the raw stack."""

    def standardised(self, frames: torch.Tensor) -> torch.Tensor:
        x = frames.float() / 255.0
        f = x.split(3, dim=1)                        # the k frames, oldest first
        k = len(f)
        parts = [f[-1]] + [f[i + 1] - f[i] for i in reversed(range(k - 1))]
        return self.head(self.conv(torch.cat(parts, 1)))


def collect(cache: Path = CACHE) -> None:
    """Render the four frame sets (agent / random × train / held out) into ``cache`` unless there."""
    cache.mkdir(parents=True, exist_ok=True)
    budget = get_budget("bench_pearl_cheetah_vel", "laptop")
    tasks, train_ids, test_ids = cheetah_vel_tasks(budget.n_train, budget.n_test, budget.horizon)
    agent = load_agent(AGENT)[0]
    for name, ids, seed in (("agent-train", train_ids[:24], 0), ("agent-test", test_ids[:6], 1)):
        if not (cache / f"{name}.npz").exists():
            start = time.perf_counter()
            recorder = PixelCheetahTasks(tasks.goals[:, 0], horizon=budget.horizon, seed=seed)
            data = record_agent_frames(agent, recorder, ids, 3, 2, seed)
            recorder.close()
            save(cache / name, data)
            print(f"{name}: {data.frames.shape[:2]} frames in {time.perf_counter() - start:.0f} s", flush=True)
    for name, n_tasks, seed in (("random-train", 20, 10), ("random-test", 5, 11), ("random-train-more", 40, 12)):
        if name == "random-train-more" and cache != CACHE:
            continue                 # only ``more-random`` uses it, with the default camera
        if not (cache / f"{name}.npz").exists():
            data = collect_dataset(DatasetSpec(n_tasks=n_tasks, episodes_per_task=2, horizon=200, seed=seed))
            save(cache / name, data)
            print(f"{name}: {data.frames.shape[:2]} frames in {data.seconds:.0f} s", flush=True)


def save(path: Path, data: FrameDataset) -> None:
    np.savez(path.with_suffix(".npz"), frames=data.frames, states=data.states, velocities=data.velocities)


def load(path: Path) -> FrameDataset:
    with np.load(path.with_suffix(".npz")) as saved:
        return FrameDataset(saved["frames"], saved["states"], saved["velocities"])


def stacks(data: FrameDataset, offsets: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    """(E*T, 3k, 64, 64) stacks of the frames at t + offsets (clipped to the episode's first frame)."""
    E, T = data.frames.shape[:2]
    index = np.clip(np.arange(T)[:, None] + np.array(offsets)[None, :], 0, T - 1)        # (T, k)
    out = np.transpose(data.frames, (0, 1, 4, 2, 3))[:, index]                          # (E, T, k, 3, H, W)
    return out.reshape(E * T, 3 * len(offsets), *data.frames.shape[2:4]), data.states.reshape(E * T, -1)


def run_variant(name: str, seed: int = 0) -> dict:
    offsets, transform, epochs, width = VARIANTS[name]
    cache = CACHE / "torso" if name in TORSO_CAMERA else CACHE / "supersampled" if name in SUPERSAMPLED else CACHE
    sets = ("random-train", "agent-train") + (("random-train-more",) if name == "more-random" else ())
    train = [stacks(load(cache / n), offsets) for n in sets]
    test = {n: stacks(load(cache / n), offsets) for n in ("random-test", "agent-test")}
    frames = np.concatenate([f for f, _ in train] + [test["agent-test"][0]])
    states = np.concatenate([s for _, s in train] + [test["agent-test"][1]]).astype(np.float32)
    fraction = len(test["agent-test"][0]) / len(frames)     # fit_state_estimator's own held-out block
    model = (DifferenceEstimator if transform == "diff" else StateEstimator)(len(offsets), width=width,
                                                                              hidden=8 * width)
    start = time.perf_counter()
    model, history, _ = fit_state_estimator(frames, states, len(offsets), epochs=epochs, seed=seed,
                                            test_fraction=fraction, model=model, progress=True)
    seconds = time.perf_counter() - start
    result = {"variant": name, "offsets": offsets, "transform": transform, "epochs": epochs, "width": width,
              "seed": seed,
              "train_pairs": len(frames) - len(test["agent-test"][0]), "train_seconds": round(seconds),
              "train_loss": history.train_loss, "test_loss": history.test_loss,
              "std": model.state_std.tolist()}
    for key, (f, s) in test.items():
        error = predict(model, f) - s
        rmse = np.sqrt((error ** 2).mean(0))
        result[key] = {"vx_rmse": float(rmse[VX]), "vx_std": float(s[:, VX].std()),
                       "relative": {n: float(r / sd) for n, r, sd in zip(STATE_NAMES, rmse, model.state_std.tolist())}}
        print(f"{name} on {key}: vx RMSE {rmse[VX]:.3f} m/s (std there {s[:, VX].std():.2f}); "
              f"joint velocities relative {np.round(rmse[11:] / model.state_std.numpy()[11:], 2).tolist()}", flush=True)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{name}{'' if seed == 0 else f'.seed{seed}'}.json").write_text(json.dumps(result, indent=1))
    return result


def physics_floor(n_episodes: int = 10, seed: int = 0) -> None:
    """What frames could tell about vx at best, under uniformly random actions (no rendering).

    A frame pair shows a displacement over a step, Δx / Δt, while vx is the velocity at the
    step's end; the best linear guess of vx from the last two displacements (what three frames
    show) leaves this much error. And with gymnasium's ``trackcom`` camera the floor slides by
    the centre of mass's displacement, not the torso's."""
    from metarl_course.envs.locomotion import HalfCheetahVelEnv

    env, rng = HalfCheetahVelEnv(velocity_range=(0.0, 3.0)), np.random.default_rng(seed)
    torso, com, vx = [], [], []
    for episode in range(n_episodes):
        env.reset(seed=episode)
        x = [(env.data.qpos[0], env.data.subtree_com[1, 0])]
        for _ in range(200):
            state, *_ = env.step(rng.uniform(-1.0, 1.0, 6))
            x.append((env.data.qpos[0], env.data.subtree_com[1, 0]))
            vx.append(state[VX])
        rates = np.diff(np.array(x), axis=0) / env.dt
        torso.append(rates[:, 0])
        com.append(rates[:, 1])
    vx_end = np.array(vx).reshape(n_episodes, 200)[:, 1:].ravel()
    pairs = np.stack([np.concatenate([t[1:] for t in torso]), np.concatenate([t[:-1] for t in torso]),
                      np.ones(n_episodes * 199)], 1)
    fit, *_ = np.linalg.lstsq(pairs, vx_end, rcond=None)
    rms = lambda e: float(np.sqrt(np.mean(e ** 2)))   # noqa: E731
    print(f"random actions, {n_episodes} episodes: std of vx {np.std(vx):.2f} m/s; "
          f"RMS(vx - torso Δx/Δt over the last step) {rms(np.concatenate(torso) - np.array(vx)):.2f}; "
          f"best linear guess from the last two torso displacements {rms(pairs @ fit - vx_end):.2f}; "
          f"RMS(vx - centre of mass Δx/Δt) {rms(np.concatenate(com) - np.array(vx)):.2f}")


def render_precision(step: float = 0.005, n_steps: int = 40, factor: int = 4) -> None:
    """How finely a frame records sub-pixel motion: slide the cheetah forward ``step`` metres at a
    time (a tenth of a floor pixel near the camera), render at 64x64 and at ``factor`` times that
    averaged down, and print the mean absolute change of a frame per step, in grey levels."""
    import mujoco

    from metarl_course.envs.locomotion import HalfCheetahVelEnv
    from metarl_course.pixels import FRAME_SIZE, Camera

    env = HalfCheetahVelEnv(velocity_range=(0.0, 3.0))
    env.reset(seed=0)
    start = env.data.qpos.copy()
    for f in (1, factor):
        camera, frames = Camera(env.model, FRAME_SIZE * f), []
        for i in range(n_steps + 1):
            env.data.qpos[:] = start
            env.data.qpos[0] += step * i
            mujoco.mj_forward(env.model, env.data)
            big = camera.frame(env.data).astype(np.float32)
            frames.append(big.reshape(FRAME_SIZE, f, FRAME_SIZE, f, 3).mean((1, 3)))
        camera.close()
        change = np.abs(np.diff(np.array(frames), axis=0)).mean((1, 2, 3))
        print(f"rendered at {FRAME_SIZE * f}x{FRAME_SIZE * f}, averaged to {FRAME_SIZE}x{FRAME_SIZE}: a {step * 1000:.0f} mm "
              f"move changes the frame by {change.mean():.2f} grey levels on average (min {change.min():.2f}; "
              f"multisampling: {env.model.vis.quality.offsamples} samples per pixel)")


def report() -> None:
    print("| input | seed | epochs | train pairs | vx RMSE, agent (m/s) | vx RMSE, random actions (m/s) "
          "| 9 velocities, mean RMSE/σ (agent) | seconds |")
    print("|---|---|---|---|---|---|---|---|")
    for name in VARIANTS:
        for path in sorted(RESULTS.glob(f"{name}.*json")):
            if path.stem not in (name, *(f"{name}.seed{s}" for s in range(1, 10))):
                continue
            r = json.loads(path.read_text())
            velocities = np.mean([r["agent-test"]["relative"][n] for n in STATE_NAMES[VX:]])
            print(f"| {name} | {r['seed']} | {r['epochs']} | {r['train_pairs']} | {r['agent-test']['vx_rmse']:.3f} "
                  f"| {r['random-test']['vx_rmse']:.3f} | {velocities:.2f} | {r['train_seconds']} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--collect", action="store_true")
    parser.add_argument("--torso-camera", action="store_true", help="--collect with the camera on the torso")
    parser.add_argument("--supersample", action="store_true", help="--collect at 256x256 averaged down to 64x64")
    parser.add_argument("--variant", choices=tuple(VARIANTS))
    parser.add_argument("--seed", type=int, default=0, help="the CNN's seed (initialisation and batches)")
    parser.add_argument("--report", action="store_true")
    parser.add_argument("--floor", action="store_true", help="print what frames could tell about vx at best")
    parser.add_argument("--precision", action="store_true", help="print how finely frames record sub-pixel motion")
    args = parser.parse_args()
    torch.set_num_threads(1)
    if args.collect and args.torso_camera:
        follow_the_torso()
        collect(CACHE / "torso")
    elif args.collect and args.supersample:
        supersample_the_frames()
        collect(CACHE / "supersampled")
    elif args.collect:
        collect()
    if args.variant:
        run_variant(args.variant, args.seed)
    if args.floor:
        physics_floor()
    if args.precision:
        render_precision()
    if args.report:
        report()


if __name__ == "__main__":
    main()
