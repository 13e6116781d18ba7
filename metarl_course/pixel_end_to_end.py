"""Stage 5 of the pixels study: PEARL whose networks read the frames end to end.

A convolutional trunk g_ψ (the estimator's network, ``state_estimator.StateEstimator``, with
no state to regress on) maps the stack of the last k frames to a feature vector,

    h_t = g_ψ(o_t),

and every network of PEARL reads h_t where the state-based agent reads s_t: the context
encoder q_φ(z | c) with c_n = (h_n, a_n, r_n), the critics Q(h, a, z), the value V(h, z) and
the policy π(a | h, z). Nothing tells g_ψ what the state is. It learns from the critic loss
alone (and from the KL, through the context), as in SAC from pixels (Yarats et al. 2019,
"Improving sample efficiency in model-free RL from images"); the actor and value losses see
h detached (``pearl.pearl_update``).

Stages 2 and 3 store the estimates made when a transition was played. Here every gradient
step recomputes h from the stored frames with the current ψ:
meta_batch × (2 · rl_batch + context_batch) stacks through the CNN per step, which is why
this stage belongs on a GPU.
"""

from __future__ import annotations

import time

import numpy as np
import torch

from metarl_course.device import get_device
from metarl_course.pearl import PEARLAgent, PEARLPieces, device_of, make_optimizers, pearl_update
from metarl_course.pixel_pearl import FrameReplay, PixelCheetahTasks
from metarl_course.state_estimator import StateEstimator


def make_trunk(k: int = 3, feature_dim: int = 17, seed: int = 0) -> StateEstimator:
    """g_ψ: the estimator's CNN, untrained, whose ``feature_dim`` outputs are features, not states
    (17 by default, so the agent's networks have the state-based agent's sizes)."""
    torch.manual_seed(seed)
    return StateEstimator(k, feature_dim)


def end_to_end_step(agent: PEARLAgent, trunk: StateEstimator, optimizers: dict[str, torch.optim.Optimizer],
                    batch: dict[str, torch.Tensor], config, generator: torch.Generator | None = None,
                    pieces: PEARLPieces | None = None) -> dict[str, float]:
    """One PEARL gradient step on frames (``FrameReplay.sample(..., context_frames=True)``):

        h = g_ψ(o_t),  h' = g_ψ(o_{t+1}) (no gradient: it enters only the target),
        c_n = (g_ψ(o_n), a_n, r_n),

    then ``pearl_update`` on (h, a, r, h') and c. ψ must be in ``optimizers["critic"]``, so the
    Bellman error (and λ KL through c) trains it. (The cheetah never terminates: no dones.)
    The batch is moved to the trunk's device (the agent's too)."""
    batch = {name: value.to(device_of(trunk)) for name, value in batch.items()}
    T, B = batch["actions"].shape[:2]

    def features(stacks: torch.Tensor) -> torch.Tensor:
        return trunk(stacks.flatten(0, 1)).view(T, stacks.shape[1], -1)

    with torch.no_grad():
        next_h = features(batch["next_stacks"])
    rl_batch = {"observations": features(batch["stacks"]), "actions": batch["actions"],
                "rewards": batch["rewards"][..., None], "next_observations": next_h,
                "dones": batch["actions"].new_zeros(T, B, 1)}
    context = torch.cat([features(batch["context_stacks"]), batch["context_actions"],
                         batch["context_rewards"][..., None]], dim=-1)
    return pearl_update(agent, optimizers, rl_batch, context, config.kl_weight, config.gamma, config.reward_scale,
                        config.tau, generator, pieces, config.policy_reg_weight)


def train_end_to_end(velocities: np.ndarray, train_ids: np.ndarray, iterations: int, config, k: int = 3,
                     feature_dim: int = 17, seed: int = 0, progress: bool = False, callback=None,
                     device: torch.device | str | None = None
                     ) -> tuple[PEARLAgent, StateEstimator, dict[str, list[float]]]:
    """Stage 5: Algorithm 1 of PEARL with the agent acting on g_ψ(o_t), and every gradient step
    taken on frames (``end_to_end_step``).

    The collection is ``pearl.train_pearl``'s own (the same tasks, priors and posteriors as
    every other stage), run with its gradient steps switched off; after each iteration the
    episodes just played go to a ``FrameReplay`` that keeps them all, and ``gradient_steps``
    end-to-end steps follow on meta-batches of the tasks played so far. The posteriors used
    while collecting read the features computed at collection time, as in stages 2 and 3.
    The trunk and the agent live on ``device`` (default ``get_device()``).
    Returns (agent, trunk, the mean critic loss and KL per iteration)."""
    from dataclasses import replace

    from metarl_course.pearl import train_pearl

    device = get_device() if device is None else torch.device(device)
    trunk = make_trunk(k, feature_dim, seed).to(device)
    tasks = PixelCheetahTasks(velocities, k=k, perceive=trunk, horizon=config.horizon, seed=seed, record=True)
    replay = FrameReplay(k, max_episodes=10**6)
    rng = np.random.default_rng(seed + 2)
    generator = torch.Generator().manual_seed(seed + 2)
    losses: dict[str, list[float]] = {"critic": [], "kl": []}
    optimizers: dict[str, torch.optim.Optimizer] = {}

    def on_iteration(iteration: int, agent: PEARLAgent) -> None:
        if not optimizers:
            optimizers.update(make_optimizers(agent, config.lr))
            optimizers["critic"].add_param_group({"params": list(trunk.parameters())})
        replay.add(tasks.take_recorded())
        infos = []
        for _ in range(config.gradient_steps):
            ids = rng.choice(replay.tasks, size=min(config.meta_batch, len(replay.tasks)), replace=False)
            batch = replay.sample(ids, config.rl_batch, config.context_batch, rng, context_frames=True)
            infos.append(end_to_end_step(agent, trunk, optimizers, batch, config, generator))
        for name in losses:
            losses[name].append(float(np.mean([i[name] for i in infos])) if infos else float("nan"))
        if callback is not None:
            callback(iteration, agent)

    collection_only = replace(config, gradient_steps=0)
    try:
        agent, _ = train_pearl(tasks, train_ids, iterations, collection_only, seed=seed, progress=progress,
                               callback=on_iteration, device=device)
    finally:
        tasks.close()
    return agent, trunk.eval(), losses


def seconds_per_step(config, k: int = 3, feature_dim: int = 17, n_steps: int = 3, seed: int = 0,
                     device: torch.device | str = "cpu") -> float:
    """Seconds per ``end_to_end_step`` at ``config``'s meta-batch, RL batch and context batch, on random
    frames already on ``device`` (the cost does not depend on what the frames show): what stage 5's
    gradient steps take there."""
    device = torch.device(device)
    trunk = make_trunk(k, feature_dim, seed).to(device)
    agent = PEARLAgent(feature_dim, 6, config.latent_dim, net_hidden=config.net_hidden,
                       encoder_hidden=config.encoder_hidden).to(device)
    optimizers = make_optimizers(agent, config.lr)
    optimizers["critic"].add_param_group({"params": list(trunk.parameters())})
    gen = torch.Generator().manual_seed(seed)
    T, B, C = config.meta_batch, config.rl_batch, config.context_batch

    def frames(n: int) -> torch.Tensor:
        return torch.randint(0, 256, (T, n, 3 * k, 64, 64), dtype=torch.uint8, generator=gen)

    batch = {"stacks": frames(B), "next_stacks": frames(B), "actions": torch.rand(T, B, 6) * 2 - 1,
             "rewards": torch.randn(T, B), "context_stacks": frames(C), "context_actions": torch.rand(T, C, 6) * 2 - 1,
             "context_rewards": torch.randn(T, C)}
    batch = {name: value.to(device) for name, value in batch.items()}
    z_generator = torch.Generator(device).manual_seed(seed)

    def step() -> None:
        end_to_end_step(agent, trunk, optimizers, batch, config, z_generator)
        if device.type == "cuda":
            torch.cuda.synchronize()

    step()
    start = time.perf_counter()
    for _ in range(n_steps):
        step()
    return (time.perf_counter() - start) / n_steps
