"""PEARL from pixels (unit 05): the agent sees HalfCheetah velocity tasks through a camera.

The state-based agent of unit 04 reads s_t (17 numbers). Here the world shows it frames
x_t instead, and a perception module turns the last k of them into an estimate of the
state,

    ŝ_t = f_φ(o_t),   o_t = [x_{t-k+1}, ..., x_t]   (``pixels.stack_frames``),

which is then everything the agent (encoder, policy, critics) observes. The study this
unit reproduces compares five ways of putting f_φ and PEARL together:

1. PEARL trained on true states s_t, then run on ŝ_t (``evaluate_on_estimates``): the
   estimator's error adds to the agent's, and the agent now visits states its own training
   never saw (distribution shift);
2. PEARL trained and run on ŝ_t from a fixed, supervised f_φ;
3. f_φ trained jointly, with the RL loss added to its state loss,
   L_φ = L_state + β L_RL;
4. PEARL on true states (the upper bound);
5. PEARL whose networks read the frames end to end.

This module holds the pieces they share: ``PixelCheetahTasks``, a task set that renders and
perceives (it plugs into ``pearl.train_pearl`` and ``pearl.meta_test`` like any task set),
frames recorded along the agent's own trajectories (``record_agent_frames``, the data the
estimator is trained on), and stage 1.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import torch

from metarl_course.pearl import PEARLAgent, meta_test
from metarl_course.pearl_cheetah import CheetahVelBatch, CheetahVelTasks
from metarl_course.pixels import FRAME_SIZE, Camera, FrameDataset, FrameStack

Perception = Callable[[torch.Tensor], torch.Tensor]   # (M, 3k, 64, 64) uint8 frame stacks -> (M, 17) states


class PixelCheetahBatch(CheetahVelBatch):
    """``CheetahVelBatch`` seen through the camera: after every reset and step each task's
    frame is rendered and pushed onto its frame stack, and the observation returned is
    ``perceive(stacks)``, the estimated state (or the true state when ``perceive`` is None,
    to record frames along a state-based agent's trajectories).

    Each episode's record: frames (M, T+1, 64, 64, 3) and true states (M, T+1, 17) from the
    reset on, and the observations the agent was given (M, T+1, 17). ``episodes()`` returns
    the records of every episode played so far, the current one included (set
    ``keep_frames=False`` to keep only states and observations).
    """

    def __init__(self, envs, velocities: np.ndarray, horizon: int, camera: Camera, k: int,
                 perceive: Perception | None, keep_frames: bool = True) -> None:
        super().__init__(envs, velocities, horizon)
        self.camera, self.k, self.perceive, self.keep_frames = camera, k, perceive, keep_frames
        self.stacks = [FrameStack(k) for _ in envs]
        self.finished: list[dict[str, np.ndarray]] = []
        self.frames: list[np.ndarray] = []
        self.states: list[torch.Tensor] = []
        self.observed: list[torch.Tensor] = []

    def _observe(self, states: torch.Tensor, first: bool) -> torch.Tensor:
        frames = np.stack([self.camera.frame(env.data) for env in self.envs])
        stacks = [s.reset(f) if first else s.push(f) for s, f in zip(self.stacks, frames)]
        seen = states if self.perceive is None else self.perceive(torch.as_tensor(np.stack(stacks)))[:, None]
        seen = seen.to(states.dtype)
        if self.keep_frames:
            self.frames.append(frames)
        self.states.append(states[:, 0])
        self.observed.append(seen[:, 0])
        return seen

    def reset(self) -> torch.Tensor:
        if self.states:
            self.finished.append(self._record())
        self.frames, self.states, self.observed = [], [], []
        return self._observe(super().reset(), first=True)

    def step(self, actions: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        states, rewards, terminated = super().step(actions)
        return self._observe(states, first=False), rewards, terminated

    def _record(self) -> dict[str, np.ndarray]:
        record = {"states": torch.stack(self.states, 1).numpy(), "observed": torch.stack(self.observed, 1).numpy()}
        if self.keep_frames:
            record["frames"] = np.stack(self.frames, axis=1)
        return record

    def episodes(self) -> list[dict[str, np.ndarray]]:
        return self.finished + ([self._record()] if self.states else [])


class PixelCheetahTasks(CheetahVelTasks):
    """HalfCheetah-velocity tasks whose observations are ``perceive``'s estimates from the last
    ``k`` frames; one ``Camera`` renders all simulators."""

    def __init__(self, velocities: np.ndarray, k: int = 3, perceive: Perception | None = None,
                 horizon: int = 200, seed: int = 0, size: int = FRAME_SIZE, keep_frames: bool = False) -> None:
        super().__init__(velocities, horizon, seed)
        self.k, self.perceive, self.size, self.keep_frames = k, perceive, size, keep_frames
        self.camera: Camera | None = None

    def env(self, task_ids: np.ndarray) -> PixelCheetahBatch:
        task_ids = np.asarray(task_ids)
        envs = self._simulators(len(task_ids))
        if self.camera is None:
            self.camera = Camera(envs[0].model, self.size)
        return PixelCheetahBatch(envs, self.goals[task_ids, 0], self.horizon, self.camera, self.k, self.perceive,
                                 self.keep_frames)

    def close(self) -> None:
        if self.camera is not None:
            self.camera.close()
            self.camera = None
        super().close()


def return_drop(upper: np.ndarray, other: np.ndarray, floor: float) -> dict[str, float]:
    """How much return a stage loses against the upper bound (stage 4), in return and as a share
    of what the upper bound gained over ``floor`` (a return that needs no learning, e.g. standing
    still): drop = R_upper - R_other, share = drop / (R_upper - floor). Share 0: nothing lost;
    1: all that learning bought is lost."""
    upper_mean, other_mean = float(np.mean(upper)), float(np.mean(other))
    drop = upper_mean - other_mean
    return {"drop": drop, "share": drop / (upper_mean - floor)}


@torch.no_grad()
def record_agent_frames(agent: PEARLAgent, tasks: PixelCheetahTasks, task_ids: np.ndarray, n_trajectories: int,
                        n_exploration: int, seed: int = 0) -> FrameDataset:
    """Frames and true states along the agent's own meta-test trajectories on ``task_ids``:
    the states a state-trained agent visits, which is where its perception must be accurate.
    ``tasks.perceive`` must be None (the agent acts on true states). Returns a ``FrameDataset``
    of M·K episodes of T+1 frames each (the reset frame first)."""
    if tasks.perceive is not None:
        raise ValueError("record_agent_frames needs tasks whose perceive is None (the agent acts on true states)")
    env = tasks.env(task_ids)
    env.keep_frames = True
    meta_test(agent, env, n_trajectories, n_exploration, generator=torch.Generator().manual_seed(seed))
    episodes = env.episodes()
    frames = np.concatenate([e["frames"] for e in episodes])
    states = np.concatenate([e["states"] for e in episodes])
    velocities = np.concatenate([tasks.goals[task_ids, 0] for _ in episodes]).astype(np.float32)
    return FrameDataset(frames, states, velocities)


@torch.no_grad()
def evaluate_on_estimates(agent: PEARLAgent, tasks: PixelCheetahTasks, task_ids: np.ndarray, n_trajectories: int,
                          n_exploration: int, seed: int = 0) -> dict[str, np.ndarray]:
    """Stage 1 (or any agent on estimated states): PEARL's meta-test protocol with the agent
    observing ``tasks.perceive``'s estimates. Returns the return of every trajectory (K, M)
    and, per step of every trajectory, the estimation error ŝ_t - s_t (K, M, T+1, 17)."""
    env = tasks.env(task_ids)
    returns, _ = meta_test(agent, env, n_trajectories, n_exploration, generator=torch.Generator().manual_seed(seed))
    error = np.stack([e["observed"] - e["states"] for e in env.episodes()])
    return {"returns": returns.cpu().numpy(), "error": error}


def train_on_estimates(perceive: Perception, velocities: np.ndarray, train_ids: np.ndarray, iterations: int,
                       config, k: int = 3, seed: int = 0, progress: bool = False,
                       callback=None) -> tuple[PEARLAgent, object]:
    """Stage 2: Algorithm 1 of PEARL (``pearl.train_pearl``) on tasks the agent sees only through
    ``perceive``: every transition in the replay buffers, the context included, holds estimated
    states ŝ, so the agent learns to act on the estimator's errors as they are. Every
    environment step renders one frame per task. Returns (agent, history)."""
    from metarl_course.pearl import train_pearl

    tasks = PixelCheetahTasks(velocities, k=k, perceive=perceive, horizon=config.horizon, seed=seed)
    try:
        return train_pearl(tasks, train_ids, iterations, config, seed=seed, progress=progress, callback=callback)
    finally:
        tasks.close()
