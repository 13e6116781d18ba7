"""PEARL's task inference (Rakelly et al. 2019, section 4): a probabilistic context encoder.

PEARL keeps a belief over a latent task variable z. The *context* c = {c_1, ..., c_N} is
a set of transitions c_n = (s_n, a_n, r_n[, s'_n]) collected on the current task. The
encoder maps each transition, independently, to a Gaussian factor Ψ_φ(z | c_n) =
N(μ_n, σ_n²), and the posterior is their normalised product,

    q_φ(z | c) ∝ Π_n Ψ_φ(z | c_n),   σ² = 1 / Σ_n σ_n⁻²,   μ = σ² Σ_n μ_n / σ_n²

(per latent dimension). A product does not depend on the order of the transitions, so
the posterior is permutation invariant, and every transition sharpens it: with more
evidence σ² shrinks. The information bottleneck KL(q_φ(z | c) ‖ N(0, I)), weighted by λ,
keeps z from encoding more than the task needs. With no context the belief is the prior
N(0, I), and sampling z from it is how PEARL explores a new task.

Every function takes a leading task dimension: one meta-batch of T tasks is one batched
computation, not a Python loop over tasks.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from metarl_course.device import get_device
from metarl_course.envs.navigation import TensorNavigation2D
from metarl_course.maml import with_task
from metarl_course.replay import FIELDS, MultiTaskReplay
from metarl_course.sac import TanhGaussianPolicy, mlp, policy_loss, q_loss, soft_update, value_loss

MIN_VARIANCE = 1e-7


def product_of_gaussians(means: torch.Tensor, variances: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The normalised product of N Gaussian factors per task: (T, N, d) -> mean and variance (T, d).

    σ² = 1 / Σ_n (1 / σ_n²),   μ = σ² Σ_n μ_n / σ_n².
    """
    variances = variances.clamp_min(MIN_VARIANCE)
    variance = 1.0 / (1.0 / variances).sum(dim=-2)
    mean = variance * (means / variances).sum(dim=-2)
    return mean, variance


def kl_to_standard_normal(mean: torch.Tensor, variance: torch.Tensor) -> torch.Tensor:
    """KL(N(μ, diag σ²) ‖ N(0, I)) = ½ Σ_d (σ² + μ² - 1 - log σ²), one value per task."""
    return 0.5 * (variance + mean**2 - 1.0 - variance.log()).sum(dim=-1)


class ContextEncoder(nn.Module):
    """Ψ_φ: one transition -> (μ_n, σ_n²) of its Gaussian factor; an MLP (3 × 200 in PEARL)."""

    def __init__(self, transition_dim: int, latent_dim: int = 5, hidden: tuple[int, ...] = (200, 200, 200)) -> None:
        super().__init__()
        self.latent_dim = latent_dim
        self.net = mlp(transition_dim, 2 * latent_dim, hidden)

    def forward(self, context: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """context (T, N, transition_dim) -> factor means and variances (T, N, latent_dim).

        The variance goes through a softplus, so it is positive whatever the network outputs.
        """
        mean, raw = self.net(context).chunk(2, dim=-1)
        return mean, F.softplus(raw)


def infer_posterior(encoder: ContextEncoder, context: torch.Tensor,
                    posterior: Callable = product_of_gaussians) -> tuple[torch.Tensor, torch.Tensor]:
    """q_φ(z | c) for every task: context (T, N, dim) -> mean and variance (T, latent_dim).

    An empty context (N = 0) gives the prior N(0, I). ``posterior`` combines the factors
    (the product of Gaussians; a student's version can be passed instead).
    """
    if context.shape[-2] == 0:
        return prior_belief(context.shape[:-2], encoder.latent_dim, context)
    return posterior(*encoder(context))


def prior_belief(batch_shape: tuple[int, ...], latent_dim: int, like: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The belief before any transition is seen: the prior N(0, I), as (mean, variance)."""
    mean = like.new_zeros(*batch_shape, latent_dim)
    return mean, torch.ones_like(mean)


def sample_z(mean: torch.Tensor, variance: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """z = μ + σ ε, ε ~ N(0, I): reparameterised, so gradients reach the encoder through z.

    ε is drawn on the generator's device (a CPU generator draws on the CPU) and then moved to μ's,
    so one seed gives the same z whether the agent is on the CPU or a GPU."""
    where = mean.device if generator is None else generator.device
    noise = torch.randn(mean.shape, generator=generator, device=where, dtype=mean.dtype).to(mean.device)
    return mean + variance.sqrt() * noise


def device_of(module: nn.Module) -> torch.device:
    """The device of the module's first parameter (the CPU if it has none)."""
    parameter = next(module.parameters(), None)
    return torch.device("cpu") if parameter is None else parameter.device


# -- the agent and its losses (Algorithm 1's inner loop) ------------------------------
class PEARLAgent(nn.Module):
    """The context encoder and a SAC agent whose networks all read [s, z] (Q also reads a)."""

    def __init__(self, obs_dim: int, act_dim: int, latent_dim: int = 5, use_next_obs: bool = False,
                 net_hidden: tuple[int, ...] = (300, 300, 300), encoder_hidden: tuple[int, ...] = (200, 200, 200)):
        super().__init__()
        transition_dim = obs_dim + act_dim + 1 + (obs_dim if use_next_obs else 0)
        self.use_next_obs = use_next_obs
        self.encoder = ContextEncoder(transition_dim, latent_dim, encoder_hidden)
        self.policy = TanhGaussianPolicy(obs_dim + latent_dim, act_dim, net_hidden)
        self.q1 = mlp(obs_dim + act_dim + latent_dim, 1, net_hidden)
        self.q2 = mlp(obs_dim + act_dim + latent_dim, 1, net_hidden)
        self.value = mlp(obs_dim + latent_dim, 1, net_hidden)
        self.target_value = mlp(obs_dim + latent_dim, 1, net_hidden)
        self.target_value.load_state_dict(self.value.state_dict())

    def context(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """Transitions (T, N, ...) as encoder inputs c_n = (s, a, r[, s'])."""
        parts = [batch["observations"], batch["actions"], batch["rewards"]]
        if self.use_next_obs:
            parts.append(batch["next_observations"])
        return torch.cat(parts, dim=-1)


def make_optimizers(agent: PEARLAgent, lr: float = 3e-4) -> dict[str, torch.optim.Optimizer]:
    """One Adam per part, as in PEARL (all learning rates 3e-4). ``fused=True`` updates all of a part's
    tensors in one kernel: the same numbers, 15% less time per PEARL step on the laptop preset's small networks."""
    def adam(params) -> torch.optim.Optimizer:
        return torch.optim.Adam(list(params), lr=lr, fused=True)

    return {"critic": adam([*agent.q1.parameters(), *agent.q2.parameters()]), "encoder": adam(agent.encoder.parameters()),
            "value": adam(agent.value.parameters()), "policy": adam(agent.policy.parameters())}


def policy_and_value_losses(agent: PEARLAgent, obs: torch.Tensor, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """SAC's actor-side losses with z detached, for observations (T, B, obs_dim) and z (T, latent_dim).

    ã ~ π(·| s, z) by reparameterisation; with Q̃ = min_k Q_k(s, ã, z):
        L_π = E[log π(ã | s, z) - Q̃],      L_V = E[(V(s, z) - (Q̃ - log π(ã | s, z)))²]
    z is detached first: only the critic loss (and the KL) may shape the task belief.
    Returns (L_π, L_V).
    """
    z = z.detach()
    s_z = with_task(obs, z)
    new_actions, log_prob = agent.policy(s_z)
    q_in = with_task(torch.cat([obs, new_actions], dim=-1), z)
    min_q_new = torch.min(agent.q1(q_in), agent.q2(q_in)).squeeze(-1)
    return policy_loss(min_q_new, log_prob), value_loss(agent.value(s_z).squeeze(-1), min_q_new, log_prob)


def policy_regulariser(agent: PEARLAgent, obs: torch.Tensor, z: torch.Tensor, weight: float = 1e-3) -> torch.Tensor:
    """The official code's penalty on the policy's Gaussian before the tanh, for observations (T, B, obs_dim):

        weight · (E[μ(s, z)²] + E[log σ(s, z)²])

    (``policy_mean_reg_weight`` = ``policy_std_reg_weight`` = 1e-3 in the PEARL code). Here log σ is the
    network's output before its clamp to [-20, 2]; the PEARL code penalises the clamped value, which differs
    only where log σ leaves that range (there it has no gradient in the PEARL code). It keeps the
    pre-tanh mean from drifting far into the flat tails of the tanh, where the action no longer
    moves with it. z is detached, as in the rest of the actor's loss.
    """
    mean, log_std = agent.policy.net(with_task(obs, z.detach())).chunk(2, dim=-1)
    return weight * ((mean**2).mean() + (log_std**2).mean())


@dataclass
class PEARLPieces:
    """The functions a student writes in the notebook; the defaults are the reference ones.

    ``pearl_update`` calls only these, so passing the student's versions trains PEARL
    with the student's code.
    """

    posterior: Callable = product_of_gaussians       # (means, variances) (T, N, d) -> mean, variance (T, d)
    kl: Callable = kl_to_standard_normal             # (mean, variance) (T, d) -> (T,)
    critic_loss: Callable = q_loss                   # (q1, q2, rewards, dones, target_next_value, gamma, reward_scale)
    actor_losses: Callable = policy_and_value_losses  # (agent, obs, z) -> (policy loss, value loss)


def pearl_update(agent: PEARLAgent, optimizers: dict[str, torch.optim.Optimizer], rl_batch: dict[str, torch.Tensor],
                 context: torch.Tensor, kl_weight: float = 0.1, gamma: float = 0.99, reward_scale: float = 5.0,
                 tau: float = 0.005, generator: torch.Generator | None = None,
                 pieces: PEARLPieces | None = None, policy_reg_weight: float = 1e-3) -> dict[str, float]:
    """One PEARL gradient step on a meta-batch of T tasks (rl_batch fields (T, B, ...), context (T, C, ...)).

    In the order of the official code:
    1. z ~ q_φ(z | c), one per task; the critic loss keeps z's gradient, so the encoder is
       trained by the Bellman error (a mean over all T·B transitions) plus λ Σ_tasks KL(q_φ(z | c) ‖ N(0, I))
       (a sum over the T tasks, as in the official code: λ's effect grows with the meta-batch);
    2. the value network towards min_k Q_k(s, ã) - log π(ã | s), with the updated critics
       and z detached; then the target value network moves by τ;
    3. the policy, with z detached (the policy must not shape the task belief), plus the official
       ``policy_reg_weight`` · (E[μ²] + E[log σ²]) on its pre-tanh Gaussian (``policy_regulariser``).

    When the observations are themselves computed by a network with gradients (the end-to-end
    pixel agent of unit 05: o ↦ CNN features), that network is trained by the critic loss
    through ``rl_batch["observations"]`` and the context (add its parameters to
    ``optimizers["critic"]``); steps 2 and 3 see the observations detached, as in SAC from pixels.
    """
    pieces = pieces or PEARLPieces()
    mean, variance = infer_posterior(agent.encoder, context, pieces.posterior)
    z = sample_z(mean, variance, generator)
    kl = pieces.kl(mean, variance).sum()            # summed over the meta-batch, as the official code does
    obs, actions, rewards, next_obs, dones = (rl_batch[k] for k in FIELDS)

    q_in = with_task(torch.cat([obs, actions], dim=-1), z)
    with torch.no_grad():
        target_next_value = agent.target_value(with_task(next_obs, z)).squeeze(-1)
    critic = pieces.critic_loss(agent.q1(q_in).squeeze(-1), agent.q2(q_in).squeeze(-1), rewards.squeeze(-1),
                                dones.squeeze(-1), target_next_value, gamma, reward_scale)
    _step([optimizers["critic"], optimizers["encoder"]], critic + kl_weight * kl)

    obs = obs.detach()      # observations computed by a network (pixels: a CNN) are shaped by the critic alone
    pi_loss, v_loss = pieces.actor_losses(agent, obs, z)
    _step([optimizers["value"]], v_loss)
    soft_update(agent.target_value, agent.value, tau)
    if policy_reg_weight:
        pi_loss = pi_loss + policy_regulariser(agent, obs, z, policy_reg_weight)
    _step([optimizers["policy"]], pi_loss)
    return {"critic": critic.item(), "kl": kl.item(), "value": v_loss.item(), "policy": pi_loss.item()}


def _step(optimizers: list[torch.optim.Optimizer], loss: torch.Tensor) -> None:
    """Zero, backpropagate, step. The graph is kept: the value and policy losses share the new actions."""
    for opt in optimizers:
        opt.zero_grad()
    loss.backward(retain_graph=True)
    for opt in optimizers:
        opt.step()


# -- acting: one trajectory per task, and the meta-test protocol (Algorithm 2) ---------
@torch.no_grad()
def collect_trajectories(agent: PEARLAgent, env, z: torch.Tensor, deterministic: bool = False) -> dict[str, torch.Tensor]:
    """One trajectory on each of M tasks with π(a | s, z_i): fields (M, H, ...), on the agent's device.

    ``env`` steps M tasks × 1 trajectory as tensors (``TensorNavigation2D`` with
    ``n_per_task=1``, or ``pearl_cheetah.CheetahVelBatch``); ``rewards`` are the env's rewards
    (sparse on the sparse task) and ``dense_rewards`` the dense ones, which PEARL's critic
    trains on while the context sees only the sparse reward (the same on dense tasks).
    The policy runs on the agent's device, the env on its own (``env.goals``'s: the CPU for MuJoCo).
    """
    device, env_device = device_of(agent), env.goals.device
    z = z.to(device)
    obs = env.reset()[:, 0]                                        # (M, obs_dim)
    steps = []
    for _ in range(env.horizon):
        action, _ = agent.policy(torch.cat([obs.to(device), z], dim=-1), deterministic=deterministic)
        action = action.to(env_device)
        next_obs, reward, terminated = env.step(action[:, None])
        next_obs, reward, terminated = next_obs[:, 0], reward[:, 0], terminated[:, 0]
        dense = env.rewards(next_obs[:, None])[0][:, 0] if env.sparse else reward
        steps.append((obs, action, reward[:, None], next_obs, terminated[:, None].float(), dense[:, None]))
        obs = next_obs
    names = ("observations", "actions", "rewards", "next_observations", "dones", "dense_rewards")
    return {name: torch.stack([s[k] for s in steps], dim=1).to(device) for k, name in enumerate(names)}


@torch.no_grad()
def meta_test(agent: PEARLAgent, env, n_trajectories: int, n_exploration: int = 1, deterministic: bool = True,
              generator: torch.Generator | None = None) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """PEARL's online adaptation on M held-out tasks at once (Algorithm 2).

    The context starts empty and collects every transition the agent sees on its task.
    The first ``n_exploration`` trajectories each act with a fresh z from the prior
    N(0, I): one hypothesis about the task per trajectory. After that, z is drawn from
    q(z | c) before every trajectory, c being all transitions seen so far, so each
    trajectory's evidence narrows the next hypothesis. (Algorithm 2 of the paper is
    ``n_exploration=1``; the official sparse point robot uses 5.) Returns the return of
    each trajectory, shape (n_trajectories, M), and the final context, both on the CPU.
    """
    M = env.goals.shape[0]
    like = env.goals.to(device_of(agent))                  # the prior belief lives where the agent does
    context: dict[str, torch.Tensor] | None = None
    returns = []
    for k in range(n_trajectories):
        if k < n_exploration or context is None:
            mean, variance = prior_belief((M,), agent.encoder.latent_dim, like)
        else:
            mean, variance = infer_posterior(agent.encoder, agent.context(context))
        z = sample_z(mean, variance, generator)
        trajectory = collect_trajectories(agent, env, z, deterministic)
        returns.append((trajectory["rewards"][..., 0] * _alive(trajectory["dones"][..., 0])).sum(dim=1))
        context = trajectory if context is None else {k: torch.cat([context[k], trajectory[k]], dim=1) for k in context}
    return torch.stack(returns).cpu(), {name: value.cpu() for name, value in context.items()}


def _alive(dones: torch.Tensor) -> torch.Tensor:
    """1 up to and including the step that ended the episode, 0 after it."""
    ended_before = torch.cumsum(dones, dim=1) - dones
    return (ended_before == 0).float()


# -- meta-training (Algorithm 1) on the sparse point robot ------------------------------
@dataclass
class PEARLConfig:
    """PEARL's settings; the defaults are the official sparse-point-robot ones
    (``configs/sparse-point-robot.json`` over ``configs/default.py`` of the PEARL code).

    λ and the reward scale s_r are not independent. The encoder minimises
    L_Q + λ Σ_tasks KL, and L_Q is a squared error of values proportional to s_r, so it grows
    as s_r²: what z is worth to the critic shrinks 400× from s_r = 100 to s_r = 5, the cost of
    the KL does not. Keeping the official balance (λ = 1 at s_r = 100) at s_r = 5 means
    λ ≈ 1 · (5/100)² = 0.0025; with λ = 1 at s_r = 5 the KL wins, every belief stays at the
    prior, z carries nothing and the policy ignores it (measured: ``benchmarks/README.md``).
    """

    latent_dim: int = 5
    net_hidden: tuple[int, ...] = (300, 300, 300)
    encoder_hidden: tuple[int, ...] = (200, 200, 200)
    lr: float = 3e-4
    kl_weight: float = 1.0           # λ (0.1 on the dense tasks); it must shrink with reward_scale (above)
    reward_scale: float = 100.0      # 5 on HalfCheetah
    gamma: float = 0.9               # 0.99 on HalfCheetah
    tau: float = 0.005
    rl_batch: int = 256
    context_batch: int = 1024        # 64 by default, 100 on HalfCheetah velocity
    meta_batch: int = 16             # tasks per gradient step
    tasks_per_iteration: int = 10    # tasks that collect data each iteration
    initial_trajectories: int = 10   # per training task before training (200 steps at H = 20)
    prior_trajectories: int = 5      # z ~ prior, into both buffers (100 steps)
    posterior_trajectories: int = 45  # z ~ posterior, re-inferred after each one, into both buffers (900 steps)
    extra_posterior_trajectories: int = 0  # z ~ posterior, into the RL buffer only (600 steps on HalfCheetah)
    gradient_steps: int = 1000       # per iteration
    horizon: int = 20
    exploration_trajectories: int = 5  # at meta-test, with z ~ prior, before the posterior is used
    policy_reg_weight: float = 1e-3  # on the policy's pre-tanh mean² and log-std² (official: 1e-3 each)


BUDGET_KEYS = ("latent_dim", "lr", "kl_weight", "reward_scale", "rl_batch", "context_batch", "meta_batch",
               "tasks_per_iteration", "initial_trajectories", "prior_trajectories", "posterior_trajectories",
               "gradient_steps", "exploration_trajectories", "policy_reg_weight")


def config_from_budget(budget, **overrides) -> PEARLConfig:
    """A ``PEARLConfig`` from a preset section (``get_budget``): the fields it names, and the
    networks as ``hidden_layers`` × ``hidden_width`` and ``encoder_layers`` × ``encoder_width``."""
    values = {k: getattr(budget, k) for k in BUDGET_KEYS if hasattr(budget, k)}
    values.update(net_hidden=(budget.hidden_width,) * budget.hidden_layers,
                  encoder_hidden=(budget.encoder_width,) * budget.encoder_layers)
    return PEARLConfig(**{**values, **overrides})


@dataclass
class PEARLHistory:
    """Per iteration: the mean critic loss and KL over its gradient steps, and seconds since the start."""

    iteration: list[int] = field(default_factory=list)
    critic: list[float] = field(default_factory=list)
    kl: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)


class SparsePointTasks:
    """PEARL's sparse point robot as a task set: goals on the unit semicircle, reward only
    within 0.2 of the goal (the context sees this), dense reward kept for the critic."""

    obs_dim = 2
    act_dim = 2

    def __init__(self, goals: np.ndarray, horizon: int = 20) -> None:
        self.goals = np.asarray(goals, dtype=np.float64)
        self.horizon = horizon

    def env(self, tasks: np.ndarray) -> TensorNavigation2D:
        return TensorNavigation2D(self.goals[tasks], 1, self.horizon, sparse=True, goal_radius=0.2, action_scale=0.1)


def sparse_point_tasks(n_tasks: int = 100, n_train: int = 80, horizon: int = 20,
                       seed: int = 1337) -> tuple[SparsePointTasks, np.ndarray, np.ndarray]:
    """The official task split: goals at ``n_tasks`` evenly spaced angles on the unit
    semicircle, shuffled by numpy's legacy generator seeded 1337 (as the PEARL code does),
    the first ``n_train`` for meta-training and the rest held out. Returns (tasks, train ids, test ids).
    """
    angles = np.linspace(0.0, np.pi, n_tasks)
    goals = np.stack([np.cos(angles), np.sin(angles)], axis=1)
    np.random.RandomState(seed).shuffle(goals)
    return SparsePointTasks(goals, horizon), np.arange(n_train), np.arange(n_train, n_tasks)


def environment_steps(config: PEARLConfig, n_train: int, iterations: int) -> int:
    """Transitions collected after ``iterations`` iterations of Algorithm 1 (initial data included)."""
    per_iteration = config.tasks_per_iteration * (config.prior_trajectories + config.posterior_trajectories +
                                                  config.extra_posterior_trajectories)
    return config.horizon * (n_train * config.initial_trajectories + iterations * per_iteration)


def collect(agent: PEARLAgent, tasks: SparsePointTasks, task_ids: np.ndarray, n_trajectories: int,
            rl_buffer: MultiTaskReplay, encoder_buffer: MultiTaskReplay, update_posterior: bool, add_to_encoder: bool,
            context_size: int, generator: torch.Generator | None = None, posterior: Callable = product_of_gaussians) -> None:
    """Collect ``n_trajectories`` on each task of ``task_ids`` (all tasks at once), as the
    official ``collect_data`` does.

    The first trajectory acts with z ~ N(0, I). With ``update_posterior=False`` every
    trajectory redraws z from the prior; with ``update_posterior=True`` z is redrawn after
    each trajectory from q(z | c), c sampled from the task's encoder buffer (which then
    already holds the trajectories just collected if ``add_to_encoder``). The transitions
    go to the RL buffer with the dense reward, and, if ``add_to_encoder``, to the encoder
    buffer with the reward the context is allowed to see (the sparse one).
    """
    env = tasks.env(task_ids)
    ids = torch.as_tensor(task_ids)
    mean, variance = prior_belief((len(task_ids),), agent.encoder.latent_dim, env.goals.to(device_of(agent)))
    for _ in range(n_trajectories):
        trajectory = collect_trajectories(agent, env, sample_z(mean, variance, generator))
        for row, task in enumerate(task_ids):
            one = {k: v[row] for k, v in trajectory.items()}
            rl_buffer.add(int(task), **{**one, "rewards": one["dense_rewards"]})
            if add_to_encoder:
                encoder_buffer.add(int(task), **one)
        if update_posterior and bool((encoder_buffer.size[ids] > 0).all()):
            context = agent.context(encoder_buffer.sample(ids, context_size, generator))
            mean, variance = infer_posterior(agent.encoder, context, posterior)


def train_pearl(tasks, train_ids: np.ndarray, iterations: int, config: PEARLConfig | None = None,
                seed: int = 0, progress: bool = False,
                callback: Callable[[int, PEARLAgent], None] | None = None,
                pieces: PEARLPieces | None = None,
                device: torch.device | str | None = None) -> tuple[PEARLAgent, PEARLHistory]:
    """Algorithm 1: collect with the prior and the posterior on a few tasks, then take
    ``gradient_steps`` PEARL steps on meta-batches of training tasks; repeat.

    ``tasks`` is a task set: ``goals`` (one row per task), ``obs_dim``, ``act_dim`` and
    ``env(task_ids)``, which steps those tasks as tensors (``SparsePointTasks`` here,
    ``pearl_cheetah.CheetahVelTasks`` for HalfCheetah velocity).

    ``callback(iteration, agent)``, if given, runs after every iteration (to evaluate on
    held-out tasks, for instance).

    The tasks collected on in an iteration, and those of each meta-batch, are distinct training
    tasks (drawn without replacement); the PEARL code draws both with replacement, so a task can
    appear twice there. With 80-100 training tasks and 5-16 per draw the difference is small.

    The agent and both replay buffers live on ``device`` (default ``get_device()``: a GPU when
    there is one, ``METARL_DEVICE`` to choose); the environments stay where they are, and every
    random draw comes from CPU generators, so a seed gives the same data on every device."""
    config = config or PEARLConfig()
    pieces = pieces or PEARLPieces()
    device = get_device() if device is None else torch.device(device)
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    generator = torch.Generator().manual_seed(seed)
    agent = PEARLAgent(tasks.obs_dim, tasks.act_dim, config.latent_dim, net_hidden=config.net_hidden,
                       encoder_hidden=config.encoder_hidden).to(device)
    optimizers = make_optimizers(agent, config.lr)
    capacity = config.horizon * (config.initial_trajectories + iterations * (
        config.prior_trajectories + config.posterior_trajectories + config.extra_posterior_trajectories))
    rl_buffer = MultiTaskReplay(len(tasks.goals), min(capacity, 1_000_000), tasks.obs_dim, tasks.act_dim, device)
    # the encoder buffer of a task is cleared before each of its collections, so it never holds more than one
    # collection's worth: the initial trajectories, or the prior and posterior ones of one iteration
    encoder_capacity = config.horizon * max(config.initial_trajectories,
                                            config.prior_trajectories + config.posterior_trajectories)
    encoder_buffer = MultiTaskReplay(len(tasks.goals), min(capacity, encoder_capacity, 1_000_000), tasks.obs_dim,
                                     tasks.act_dim, device)
    collect(agent, tasks, train_ids, config.initial_trajectories, rl_buffer, encoder_buffer, False, True,
            config.context_batch, generator, pieces.posterior)
    history = PEARLHistory()
    start = time.perf_counter()
    iterator = range(iterations)
    if progress:
        from metarl_course.session import progress_bar
        iterator = progress_bar(iterator, desc="PEARL")
    for it in iterator:
        ids = rng.choice(train_ids, size=min(config.tasks_per_iteration, len(train_ids)), replace=False)
        for task in ids:
            encoder_buffer.clear(int(task))
        for n, update, to_encoder in ((config.prior_trajectories, False, True),
                                      (config.posterior_trajectories, True, True),
                                      (config.extra_posterior_trajectories, True, False)):
            if n > 0:
                collect(agent, tasks, ids, n, rl_buffer, encoder_buffer, update, to_encoder, config.context_batch,
                        generator, pieces.posterior)
        infos = []
        for _ in range(config.gradient_steps):
            batch_ids = torch.as_tensor(rng.choice(train_ids, size=min(config.meta_batch, len(train_ids)), replace=False))
            infos.append(pearl_update(agent, optimizers, rl_buffer.sample(batch_ids, config.rl_batch, generator),
                                      agent.context(encoder_buffer.sample(batch_ids, config.context_batch, generator)),
                                      config.kl_weight, config.gamma, config.reward_scale, config.tau, generator, pieces,
                                      config.policy_reg_weight))
        history.iteration.append(it)
        history.critic.append(float(np.mean([i["critic"] for i in infos])) if infos else float("nan"))
        history.kl.append(float(np.mean([i["kl"] for i in infos])) if infos else float("nan"))
        history.seconds.append(time.perf_counter() - start)
        if callback is not None:
            callback(it, agent)
    return agent, history
