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

A control for stage 2 (``train_on_noisy_states``) trains on true states plus white noise
the size of the estimator's error, without a camera.

This module holds the pieces they share: ``PixelCheetahTasks``, a task set that renders and
perceives (it plugs into ``pearl.train_pearl`` and ``pearl.meta_test`` like any task set),
frames recorded along the trained agent's own trajectories (``record_agent_frames``) and
along a learner's (``train_recording_learner``), the data the estimator is trained on,
stage 1, stage 2 and its noise control, and stage 3.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import torch

from metarl_course.pearl import PEARLAgent, device_of, infer_posterior, meta_test, sample_z, with_task
from metarl_course.sac import q_loss
from metarl_course.state_estimator import StateEstimator, perception_loss
from metarl_course.pearl_cheetah import CheetahVelBatch, CheetahVelTasks
from metarl_course.pixels import FRAME_SIZE, Camera, FrameDataset, FrameStack

Perception = Callable[[torch.Tensor], torch.Tensor]   # (M, 3k, 64, 64) uint8 frame stacks -> (M, 17) states


def perceived(perceive: Perception, stacks: torch.Tensor) -> torch.Tensor:
    """``perceive(stacks)`` run where the perception module lives (a CNN on a GPU gets its frames
    there), the estimates returned on the CPU, where the simulators are."""
    device = device_of(perceive) if isinstance(perceive, torch.nn.Module) else torch.device("cpu")
    return perceive(stacks.to(device)).cpu()


class PixelCheetahBatch(CheetahVelBatch):
    """``CheetahVelBatch`` seen through the camera: after every reset and step each task's
    frame is rendered and pushed onto its frame stack, and the observation returned is
    ``perceive(stacks)``, the estimated state (or the true state when ``perceive`` is None,
    to record frames along a state-based agent's trajectories).

    Each episode's record: frames (M, T+1, 64, 64, 3) and true states (M, T+1, 17) from the
    reset on, the observations the agent was given (M, T+1, 17), its actions (M, T, 6) and
    rewards (M, T). ``episodes()`` returns the records of every episode played so far, the
    current one included (set ``keep_frames=False`` to keep everything but the frames).
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
        self.actions: list[torch.Tensor] = []
        self.rewards: list[torch.Tensor] = []

    def _observe(self, states: torch.Tensor, first: bool) -> torch.Tensor:
        frames = np.stack([self.camera.frame(env.data) for env in self.envs])
        stacks = [s.reset(f) if first else s.push(f) for s, f in zip(self.stacks, frames)]
        seen = states if self.perceive is None else perceived(self.perceive, torch.as_tensor(np.stack(stacks)))[:, None]
        seen = seen.to(states.dtype)
        if self.keep_frames:
            self.frames.append(frames)
        self.states.append(states[:, 0])
        self.observed.append(seen[:, 0])
        return seen

    def reset(self) -> torch.Tensor:
        if self.states:
            self.finished.append(self._record())
        self.frames, self.states, self.observed, self.actions, self.rewards = [], [], [], [], []
        return self._observe(super().reset(), first=True)

    def step(self, actions: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        states, rewards, terminated = super().step(actions)
        self.actions.append(actions[:, 0].detach().cpu())
        self.rewards.append(rewards[:, 0])
        return self._observe(states, first=False), rewards, terminated

    def _record(self) -> dict[str, np.ndarray]:
        M = len(self.envs)
        record = {"states": torch.stack(self.states, 1).numpy(), "observed": torch.stack(self.observed, 1).numpy(),
                  "actions": torch.stack(self.actions, 1).numpy() if self.actions else np.zeros((M, 0, 6), np.float32),
                  "rewards": torch.stack(self.rewards, 1).numpy() if self.rewards else np.zeros((M, 0), np.float32)}
        if self.keep_frames:
            record["frames"] = np.stack(self.frames, axis=1)
        return record

    def episodes(self) -> list[dict[str, np.ndarray]]:
        return self.finished + ([self._record()] if self.states else [])


class PixelCheetahTasks(CheetahVelTasks):
    """HalfCheetah-velocity tasks whose observations are ``perceive``'s estimates from the last
    ``k`` frames; one ``Camera`` renders all simulators.

    With ``record=True`` every episode played on any batch is kept, with its task ids, until
    ``take_recorded()`` hands them over (stage 3 trains the estimator on them).
    """

    def __init__(self, velocities: np.ndarray, k: int = 3, perceive: Perception | None = None,
                 horizon: int = 200, seed: int = 0, size: int = FRAME_SIZE, keep_frames: bool = False,
                 record: bool = False) -> None:
        super().__init__(velocities, horizon, seed)
        self.k, self.perceive, self.size = k, perceive, size
        self.keep_frames, self.record = keep_frames or record, record
        self.camera: Camera | None = None
        self._last: tuple[np.ndarray, PixelCheetahBatch] | None = None
        self._recorded: list[tuple[np.ndarray, dict[str, np.ndarray]]] = []

    def env(self, task_ids: np.ndarray, seed: int | None = None) -> PixelCheetahBatch:
        task_ids = np.asarray(task_ids)
        self._keep_last()
        envs = self._reseeded(len(task_ids), seed)
        if self.camera is None:
            self.camera = Camera(envs[0].model, self.size)
        batch = PixelCheetahBatch(envs, self.goals[task_ids, 0], self.horizon, self.camera, self.k, self.perceive,
                                  self.keep_frames)
        if self.record:
            self._last = (task_ids, batch)
        return batch

    def _keep_last(self) -> None:
        if self._last is not None:
            ids, batch = self._last
            self._recorded += [(ids, episode) for episode in batch.episodes()]
            self._last = None

    def take_recorded(self) -> list[tuple[np.ndarray, dict[str, np.ndarray]]]:
        """The (task ids, episode record) pairs played since the last call."""
        self._keep_last()
        recorded, self._recorded = self._recorded, []
        return recorded

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
    env = tasks.env(task_ids, seed)
    env.keep_frames = True
    meta_test(agent, env, n_trajectories, n_exploration, generator=torch.Generator().manual_seed(seed))
    episodes = env.episodes()
    frames = np.concatenate([e["frames"] for e in episodes])
    states = np.concatenate([e["states"] for e in episodes])
    velocities = np.concatenate([tasks.goals[task_ids, 0] for _ in episodes]).astype(np.float32)
    return FrameDataset(frames, states, velocities)


def train_recording_learner(velocities: np.ndarray, train_ids: np.ndarray, iterations: int, config, k: int = 3,
                            seed: int = 0, keep_every: int = 10, progress: bool = False
                            ) -> tuple[PEARLAgent, FrameDataset]:
    """Stage 4 with the camera running: PEARL trained on true states (``pearl.train_pearl``; the
    agent never sees a frame), keeping the frames and true states of every ``keep_every``-th
    episode it plays, from its initial, untrained episodes to the last iteration's.

    These are the states a *learner* passes through, from the untrained policy's flailing to
    its final gait. An agent that learns on the estimates (stages 2 and 3) goes through them
    too, and an estimator trained only on the finished agent's trajectories
    (``record_agent_frames``) has never seen them: on a fresh learner its estimates are far
    off. Returns (agent, dataset of the kept episodes, T+1 frames each, the reset frame first).
    """
    from metarl_course.pearl import train_pearl

    tasks = PixelCheetahTasks(velocities, k=k, perceive=None, horizon=config.horizon, seed=seed, record=True)
    kept: dict[str, list[np.ndarray]] = {"frames": [], "states": [], "velocities": []}
    played = 0

    def keep(iteration: int = -1, agent: PEARLAgent | None = None) -> None:
        nonlocal played
        for task_ids, record in tasks.take_recorded():
            if record["actions"].shape[1] == 0:          # a reset with no step after it
                continue
            for row, task in enumerate(task_ids):
                if played % keep_every == 0:
                    kept["frames"].append(record["frames"][row])
                    kept["states"].append(record["states"][row])
                    kept["velocities"].append(tasks.goals[task, 0])
                played += 1

    try:
        agent, _ = train_pearl(tasks, train_ids, iterations, config, seed=seed, progress=progress, callback=keep)
        keep()
    finally:
        tasks.close()
    dataset = FrameDataset(np.stack(kept["frames"]), np.stack(kept["states"]),
                           np.array(kept["velocities"], dtype=np.float32))
    return agent, dataset


@torch.no_grad()
def evaluate_on_estimates(agent: PEARLAgent, tasks: PixelCheetahTasks, task_ids: np.ndarray, n_trajectories: int,
                          n_exploration: int, seed: int = 0) -> dict[str, np.ndarray]:
    """Stage 1 (or any agent on estimated states): PEARL's meta-test protocol with the agent
    observing ``tasks.perceive``'s estimates. Returns the return of every trajectory (K, M)
    and, per step of every trajectory, the estimation error ŝ_t - s_t (K, M, T+1, 17)."""
    env = tasks.env(task_ids, seed)
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


# -- stage 2's noise control: true states plus noise the size of the estimator's error -------
class NoisyCheetahBatch(CheetahVelBatch):
    """``CheetahVelBatch`` whose observations are the true states plus fresh Gaussian noise,

        s̃_t = s_t + σ ⊙ ε_t,   ε_t ~ N(0, I) independently at every step,

    with σ the estimator's RMSE per state dimension. No frame is rendered: it separates how
    much of stage 2's loss comes from the *size* of the estimation error from what comes from
    its structure (the CNN's errors are biased, correlated in time and largest in states it
    rarely saw; white noise is none of these)."""

    def __init__(self, envs, velocities: np.ndarray, horizon: int, noise_std: torch.Tensor,
                 generator: torch.Generator) -> None:
        super().__init__(envs, velocities, horizon)
        self.noise_std, self.generator = noise_std, generator

    def _noisy(self, states: torch.Tensor) -> torch.Tensor:
        return states + self.noise_std * torch.randn(states.shape, generator=self.generator)

    def reset(self) -> torch.Tensor:
        return self._noisy(super().reset())

    def step(self, actions: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        states, rewards, terminated = super().step(actions)
        return self._noisy(states), rewards, terminated


class NoisyCheetahTasks(CheetahVelTasks):
    """HalfCheetah-velocity tasks observed as true state + N(0, diag(σ²)) (``NoisyCheetahBatch``).
    The noise comes from one generator seeded ``seed``; ``env(ids, seed)`` (an evaluation)
    restarts it from ``seed``, as it restarts the simulators' reset noise."""

    def __init__(self, velocities: np.ndarray, noise_std: np.ndarray, horizon: int = 200, seed: int = 0) -> None:
        super().__init__(velocities, horizon, seed)
        self.noise_std = torch.as_tensor(np.asarray(noise_std, dtype=np.float32))
        if self.noise_std.shape != (self.obs_dim,) or bool((self.noise_std < 0).any()):
            raise ValueError(f"noise_std must be {self.obs_dim} non-negative numbers, got shape "
                             f"{tuple(self.noise_std.shape)}")
        self.generator = torch.Generator().manual_seed(seed)

    def env(self, task_ids: np.ndarray, seed: int | None = None) -> NoisyCheetahBatch:
        task_ids = np.asarray(task_ids)
        if seed is not None:
            self.generator.manual_seed(seed)
        return NoisyCheetahBatch(self._reseeded(len(task_ids), seed), self.goals[task_ids, 0], self.horizon,
                                 self.noise_std, self.generator)


def train_on_noisy_states(noise_std: np.ndarray, velocities: np.ndarray, train_ids: np.ndarray, iterations: int,
                          config, seed: int = 0, progress: bool = False) -> tuple[PEARLAgent, object]:
    """Stage 2's noise control: Algorithm 1 of PEARL on ``NoisyCheetahTasks``, every observation
    (replay buffers and context included) a true state plus white noise of std ``noise_std``.
    Same budget as stage 2, no rendering. Returns (agent, history)."""
    from metarl_course.pearl import train_pearl

    tasks = NoisyCheetahTasks(velocities, noise_std, horizon=config.horizon, seed=seed)
    try:
        return train_pearl(tasks, train_ids, iterations, config, seed=seed, progress=progress)
    finally:
        tasks.close()


# -- stage 3: the estimator trained by its state loss plus the agent's critic loss ------------
class FrameReplay:
    """The recorded episodes of each task (the latest ``max_episodes`` per task), from which
    the estimator's training batches are drawn: frame stacks o_t and o_{t+1}, true states,
    actions, rewards, and a context of the transitions as the agent saw them."""

    def __init__(self, k: int, max_episodes: int = 5) -> None:
        self.k, self.max_episodes = k, max_episodes
        self.episodes: dict[int, list[dict[str, np.ndarray]]] = {}

    def add(self, recorded: list[tuple[np.ndarray, dict[str, np.ndarray]]]) -> None:
        for task_ids, record in recorded:
            for row, task in enumerate(task_ids):
                if record["actions"].shape[1] == 0:
                    continue
                episodes = self.episodes.setdefault(int(task), [])
                episodes.append({name: value[row] for name, value in record.items()})
                del episodes[:-self.max_episodes]

    @property
    def tasks(self) -> np.ndarray:
        return np.array(sorted(self.episodes))

    def _stack(self, frames: np.ndarray, t: int) -> np.ndarray:
        index = np.clip(np.arange(t - self.k + 1, t + 1), 0, None)           # oldest first, as stack_frames
        return np.transpose(frames[index], (0, 3, 1, 2)).reshape(3 * self.k, *frames.shape[1:3])

    def sample(self, task_ids: np.ndarray, batch_size: int, context_size: int,
               rng: np.random.Generator, context_frames: bool = False) -> dict[str, torch.Tensor]:
        """For each task: ``batch_size`` transitions (uniform over its episodes and steps) and
        ``context_size`` more as context. Fields (T, B, ...): stacks, next_stacks (uint8),
        states, actions, rewards; context (T, C, 17 + 6 + 1), the transitions as the agent saw
        them, or, with ``context_frames``, context_stacks (T, C, 3k, 64, 64), context_actions
        and context_rewards instead (for an agent that recomputes what it sees, stage 5)."""
        fields: dict[str, list] = {"stacks": [], "next_stacks": [], "states": [], "actions": [], "rewards": [],
                                   "context": []}
        for task in task_ids:
            episodes = self.episodes[int(task)]
            picks = [(episodes[i], int(t)) for i, t in zip(rng.integers(len(episodes), size=batch_size),
                                                           rng.integers(len(episodes[0]["actions"]), size=batch_size))]
            fields["stacks"].append([self._stack(e["frames"], t) for e, t in picks])
            fields["next_stacks"].append([self._stack(e["frames"], t + 1) for e, t in picks])
            fields["states"].append([e["states"][t] for e, t in picks])
            fields["actions"].append([e["actions"][t] for e, t in picks])
            fields["rewards"].append([e["rewards"][t] for e, t in picks])
            context = [(episodes[i], int(t)) for i, t in zip(rng.integers(len(episodes), size=context_size),
                                                             rng.integers(len(episodes[0]["actions"]), size=context_size))]
            if context_frames:
                fields.setdefault("context_stacks", []).append([self._stack(e["frames"], t) for e, t in context])
                fields.setdefault("context_actions", []).append([e["actions"][t] for e, t in context])
                fields.setdefault("context_rewards", []).append([e["rewards"][t] for e, t in context])
            else:
                fields["context"].append([np.concatenate([e["observed"][t], e["actions"][t], [e["rewards"][t]]])
                                          for e, t in context])
        out = {name: torch.as_tensor(np.array(value)) for name, value in fields.items() if value}
        for name in ("states", "actions", "rewards", "context", "context_actions", "context_rewards"):
            if name in out:
                out[name] = out[name].float()
        return out


def perception_step(model: StateEstimator, optimizer: torch.optim.Optimizer, agent: PEARLAgent,
                    batch: dict[str, torch.Tensor], weight: float, gamma: float, reward_scale: float,
                    generator: torch.Generator | None = None) -> dict[str, float]:
    """One gradient step of the estimator f_φ on L_φ = L_state(ŝ, s) + β L_Q(ŝ), ŝ = f_φ(o_t).

    L_Q is the agent's critic loss with the estimates in place of the states,
    Σ_k E[(Q_k(ŝ_t, a_t, z) - (s_r r_t + γ V̄(ŝ_{t+1}, z)))²], z ~ q(z | c) for the task; the
    target and z carry no gradient, and only φ is updated (the agent is left as it is). The
    gradient of L_Q says which errors in ŝ change the agent's values: the RL signal that
    shapes perception. (The cheetah never terminates, so there is no done mask.) The batch is moved
    to the estimator's device; the agent must be there too.
    """
    device = device_of(model)
    batch = {name: value.to(device) for name, value in batch.items()}
    T, B = batch["actions"].shape[:2]
    estimates = model(batch["stacks"].flatten(0, 1)).view(T, B, -1)
    with torch.no_grad():
        next_estimates = model(batch["next_stacks"].flatten(0, 1)).view(T, B, -1)
        z = sample_z(*infer_posterior(agent.encoder, batch["context"]), generator)
        target_next_value = agent.target_value(with_task(next_estimates, z)).squeeze(-1)
    q_in = with_task(torch.cat([estimates, batch["actions"]], dim=-1), z)
    rl = q_loss(agent.q1(q_in).squeeze(-1), agent.q2(q_in).squeeze(-1), batch["rewards"],
                torch.zeros_like(batch["rewards"]), target_next_value, gamma, reward_scale)
    loss = perception_loss(estimates, batch["states"], model.state_std, rl, weight)
    parameters = list(model.parameters())
    for parameter, grad in zip(parameters, torch.autograd.grad(loss, parameters)):
        parameter.grad = grad
    optimizer.step()
    loss, rl = float(loss.detach()), float(rl.detach())
    return {"loss": loss, "rl": rl, "state": loss - weight * rl}


def train_jointly(model: StateEstimator, velocities: np.ndarray, train_ids: np.ndarray, iterations: int, config,
                  weight: float, perception_steps: int, perception_batch: int, k: int = 3, lr: float = 1e-4,
                  max_episodes: int = 5, seed: int = 0, progress: bool = False,
                  callback=None) -> tuple[PEARLAgent, object, dict[str, list[float]]]:
    """Stage 3: PEARL on the estimates of ``model`` (as stage 2), while ``model`` keeps learning:
    after every iteration of Algorithm 1, ``perception_steps`` steps of ``perception_step`` on
    the episodes played so far, each on ``perception_batch`` transitions of each task of a
    meta-batch. ``weight`` = β; β = 0 is the control that keeps training the estimator on the
    agent's own data by its state loss alone.

    The replay buffers of the agent hold the estimates made when the transitions were
    played (they are not recomputed as φ changes: that would mean running the CNN over the
    whole buffer, affordable on a GPU, not on two CPU cores). The agent trains on ``model``'s
    device. Returns (agent, PEARL history, the estimator's losses per iteration).
    """
    from metarl_course.pearl import train_pearl

    tasks = PixelCheetahTasks(velocities, k=k, perceive=model, horizon=config.horizon, seed=seed, record=True)
    replay = FrameReplay(k, max_episodes)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    rng = np.random.default_rng(seed + 1)
    generator = torch.Generator().manual_seed(seed + 1)
    losses: dict[str, list[float]] = {"state": [], "rl": []}

    def on_iteration(iteration: int, agent: PEARLAgent) -> None:
        replay.add(tasks.take_recorded())
        infos = []
        for _ in range(perception_steps):
            ids = rng.choice(replay.tasks, size=min(config.meta_batch, len(replay.tasks)), replace=False)
            batch = replay.sample(ids, perception_batch, config.context_batch, rng)
            infos.append(perception_step(model, optimizer, agent, batch, weight, config.gamma, config.reward_scale,
                                         generator))
        for name in losses:
            losses[name].append(float(np.mean([i[name] for i in infos])) if infos else float("nan"))
        if callback is not None:
            callback(iteration, agent)

    try:
        agent, history = train_pearl(tasks, train_ids, iterations, config, seed=seed, progress=progress,
                                     callback=on_iteration, device=device_of(model))
    finally:
        tasks.close()
    return agent, history, losses
