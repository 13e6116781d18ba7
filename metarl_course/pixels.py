"""Pixels for PEARL-from-pixels: rendered HalfCheetah frames, frame stacks, and a cache on disk.

The agent of unit 05 does not see the state vector s_t; it sees 64x64 RGB images from the
camera that tracks the cheetah (``track`` in gymnasium's ``half_cheetah.xml``). One image
shows the pose but not the velocity, and the velocity is exactly what a velocity task is
about: the camera moves with the body, so speed shows only as the checkered floor sliding
by between consecutive frames. The observation is therefore a stack of the last k frames,

    o_t = [x_{t-k+1}, ..., x_{t-1}, x_t]   (3k channels, 64x64),

with the first frame of an episode repeated to fill the stack.

Rendering is the slow part (MuJoCo through EGL: Mesa on a CPU, a GPU far faster), so frames
are rendered once, next to the states they show, and cached on disk (``collect_dataset`` /
``load_or_collect``); training the state estimator then reads the cache instead of the
simulator.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

import numpy as np

import metarl_course  # noqa: F401  (sets MUJOCO_GL=egl on a headless Linux before MuJoCo loads)

FRAME_SIZE = 64
CAMERA = "track"
CACHE = Path("build/cache/pixels")


class Camera:
    """64x64 RGB frames of any HalfCheetah simulator's current state, from the ``track`` camera.

    One renderer serves many simulators of the same model (``frame(data)`` reads the state
    from ``data``), so M tasks stepped together need one GL context, not M. Shadows and the
    floor's reflection are off unless ``shadows``: each costs extra render passes, and on the
    CPU (Mesa) they are most of a frame's cost (``metarl-course bench pixel-throughput``
    times both), while at 64x64 the cheetah looks the same.
    """

    def __init__(self, model, size: int = FRAME_SIZE, shadows: bool = False) -> None:
        import mujoco

        self.renderer = mujoco.Renderer(model, size, size)
        if not shadows:
            self.renderer.scene.flags[mujoco.mjtRndFlag.mjRND_SHADOW] = 0
            self.renderer.scene.flags[mujoco.mjtRndFlag.mjRND_REFLECTION] = 0

    def frame(self, data) -> np.ndarray:
        """The (size, size, 3) uint8 image of ``data``'s state."""
        self.renderer.update_scene(data, camera=CAMERA)
        return self.renderer.render()

    def close(self) -> None:
        self.renderer.close()


def stack_frames(frames: np.ndarray, k: int) -> np.ndarray:
    """(T, H, W, 3) uint8 frames of one episode -> (T, 3k, H, W) stacks o_t = [x_{t-k+1}, ..., x_t].

    Before the episode's first frame the stack repeats that first frame.
    """
    T = len(frames)
    channels_first = np.transpose(frames, (0, 3, 1, 2))                   # (T, 3, H, W)
    index = np.clip(np.arange(T)[:, None] + np.arange(-k + 1, 1)[None, :], 0, T - 1)  # (T, k), oldest first
    stacks = channels_first[index]                                        # (T, k, 3, H, W)
    return stacks.reshape(T, 3 * k, *frames.shape[1:3])


class FrameStack:
    """The last k frames as one observation, for acting online (the same layout as ``stack_frames``)."""

    def __init__(self, k: int) -> None:
        self.k = k
        self.frames: list[np.ndarray] = []

    def reset(self, frame: np.ndarray) -> np.ndarray:
        self.frames = [frame] * self.k
        return self.observation()

    def push(self, frame: np.ndarray) -> np.ndarray:
        self.frames = self.frames[1:] + [frame]
        return self.observation()

    def observation(self) -> np.ndarray:
        return np.concatenate([np.transpose(f, (2, 0, 1)) for f in self.frames], axis=0)


@dataclass(frozen=True)
class DatasetSpec:
    """What a cached dataset holds: which tasks, how many episodes of which length, which policy."""

    n_tasks: int = 4
    episodes_per_task: int = 2
    horizon: int = 200
    seed: int = 0
    policy: str = "random"           # the name of the behaviour policy, part of the cache key
    size: int = FRAME_SIZE
    shadows: bool = False            # see ``Camera``

    def key(self) -> str:
        return hashlib.sha256(json.dumps(asdict(self), sort_keys=True).encode()).hexdigest()[:16]


@dataclass
class FrameDataset:
    """Episodes of frames and the states they show: frames (E, T, H, W, 3) uint8, states (E, T, 17)."""

    frames: np.ndarray
    states: np.ndarray
    velocities: np.ndarray           # (E,) the task's target velocity of each episode
    seconds: float = 0.0             # how long rendering took

    def stacked(self, k: int) -> tuple[np.ndarray, np.ndarray]:
        """All (observation, state) pairs: (E*T, 3k, H, W) uint8 stacks and (E*T, 17) float32 states."""
        stacks = np.concatenate([stack_frames(episode, k) for episode in self.frames])
        return stacks, self.states.reshape(-1, self.states.shape[-1]).astype(np.float32)

    @property
    def frames_per_second(self) -> float:
        return self.frames.shape[0] * self.frames.shape[1] / max(self.seconds, 1e-9)


Policy = Callable[[np.ndarray, np.random.Generator], np.ndarray]


def random_policy(state: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    return rng.uniform(-1.0, 1.0, size=6).astype(np.float32)


def collect_dataset(spec: DatasetSpec, policy: Policy = random_policy, progress: bool = False) -> FrameDataset:
    """Render ``spec``'s episodes: for each step, the frame after the step and the state it shows."""
    from metarl_course.session import progress_bar

    from metarl_course.envs.locomotion import HalfCheetahVelEnv

    env = HalfCheetahVelEnv(velocity_range=(0.0, 3.0))
    camera = Camera(env.model, spec.size, spec.shadows)
    rng = np.random.default_rng(spec.seed)
    tasks = env.sample_tasks(spec.n_tasks, seed=spec.seed)
    E, T = spec.n_tasks * spec.episodes_per_task, spec.horizon
    frames = np.zeros((E, T, spec.size, spec.size, 3), dtype=np.uint8)
    states = np.zeros((E, T, env.observation_space.shape[0]), dtype=np.float32)
    velocities = np.zeros(E, dtype=np.float32)
    start = time.perf_counter()
    episodes = [(t, e) for t in range(spec.n_tasks) for e in range(spec.episodes_per_task)]
    for i, (task_index, _) in enumerate(progress_bar(episodes, desc="rendering", disable=not progress)):
        env.reset_task(tasks[task_index])
        state, _ = env.reset(seed=int(rng.integers(2**31)))
        velocities[i] = tasks[task_index]["velocity"]
        for t in range(T):
            state, *_ = env.step(policy(state, rng))
            frames[i, t], states[i, t] = camera.frame(env.data), state
    camera.close()
    env.close()
    return FrameDataset(frames, states, velocities, time.perf_counter() - start)


def load_or_collect(spec: DatasetSpec, policy: Policy = random_policy, cache: Path | None = None,
                    progress: bool = False) -> FrameDataset:
    """The dataset of ``spec`` from ``cache`` (default ``CACHE``) if it was rendered before, else rendered now and saved."""
    path = Path(CACHE if cache is None else cache) / f"cheetah-vel-{spec.key()}.npz"
    if path.exists():
        with np.load(path) as saved:
            return FrameDataset(saved["frames"], saved["states"], saved["velocities"], float(saved["seconds"]))
    dataset = collect_dataset(spec, policy, progress)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, frames=dataset.frames, states=dataset.states, velocities=dataset.velocities,
                        seconds=dataset.seconds, spec=json.dumps(asdict(spec)))
    return dataset
