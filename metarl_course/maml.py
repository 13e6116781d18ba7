"""MAML with policy gradients (Finn et al. 2017, section 3.3 and Algorithm 3).

MAML learns an *initialisation* θ from which one policy-gradient step on a new task
already gives a good policy for that task. For a meta-batch of tasks T_i ~ p(T):

1. sample N trajectories D_i with π_θ on task i (the *pre-update* episodes);
2. inner step (vanilla policy gradient, step size α = 0.1):
       θ'_i = θ - α ∇_θ L_{T_i}(θ; D_i);
3. sample N trajectories D'_i with the adapted policy π_θ'_i (the *post-update* episodes);
4. outer (meta) step: improve the post-update objective Σ_i L_{T_i}(θ'_i(θ); D'_i) with
   respect to θ *through* the inner step, with TRPO (max KL 0.01).

Because θ'_i depends on θ through a gradient, the meta-gradient contains the second
derivative of the inner loss, ∇_θ θ'_i = I - α ∇²_θ L_{T_i}(θ). First-order MAML drops
that term (treats ∇_θ L as a constant); ``MAMLConfig.first_order`` switches to it.

Implementation notes.
- The policy is an ordinary ``nn.Module``; adapted parameters are plain dictionaries of
  tensors, and ``torch.func.functional_call`` runs the module with them (no copies of
  modules). Its linear layers accept weights with a leading task dimension, so one call
  runs all M tasks at once, each with its own θ'_i (a batched matrix product; this was
  1.7 times faster than ``torch.func.vmap`` through the second-order backward).
- The M tasks' inner steps are one backward pass: θ is expanded to M identical rows, and
  since task i's loss depends only on row i, the gradient of the *sum* of the task
  losses with respect to the expanded θ is the stack of the M per-task gradients.
- Pretrained and oracle policies are the same training loop with no inner step
  (``n_inner=0``), the oracle also seeing the task (``task_input=True``).
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Protocol

import numpy as np
import torch
import torch.nn as nn
from torch.func import functional_call

from metarl_course.checkpoint_code import checkpoint_due, save_checkpoint
from metarl_course.envs.navigation import TensorNavigation2D
from metarl_course.policy_gradient import (Episodes, compute_advantages, fit_linear_baseline, gaussian_log_prob,
                                           vpg_loss)
from metarl_course.trpo import conjugate_gradient, trpo_step

Params = dict[str, torch.Tensor]
"""Parameters by name, each with a leading task dimension M when they are per task."""


# -- the policy ---------------------------------------------------------------------
class TaskLinear(nn.Linear):
    """y = x Wᵀ + b, where W and b may carry a leading task dimension M.

    With the module's own weights (out, in) it is ``nn.Linear``; called through
    ``functional_call`` with per-task weights (M, out, in) and inputs (M, B, in), row i
    of the input is multiplied by task i's weights.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x @ self.weight.transpose(-1, -2) + self.bias.unsqueeze(-2)


class GaussianMLPPolicy(nn.Module):
    """π_θ(a | s) = N(μ_θ(s), diag(σ²)): an MLP mean (ReLU) and a learned, state-free log σ."""

    def __init__(self, obs_dim: int, act_dim: int, hidden: tuple[int, ...] = (100, 100), init_std: float = 1.0) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        sizes = (obs_dim, *hidden)
        for n_in, n_out in zip(sizes[:-1], sizes[1:]):
            layers += [TaskLinear(n_in, n_out), nn.ReLU()]
        layers.append(TaskLinear(sizes[-1], act_dim))
        self.mean = nn.Sequential(*layers)
        self.log_std = nn.Parameter(torch.full((act_dim,), math.log(init_std)))

    def forward(self, obs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mean = self.mean(obs)
        log_std = self.log_std
        while log_std.dim() < mean.dim():  # (act,) or per task (M, act) -> broadcastable to mean
            log_std = log_std.unsqueeze(-2)
        return mean, log_std.expand_as(mean)


def per_task(params: Params, n_tasks: int) -> Params:
    """θ expanded to M identical rows (a view: no copy), one per task of the meta-batch."""
    return {name: p.unsqueeze(0).expand(n_tasks, *p.shape) for name, p in params.items()}


def task_forward(policy: nn.Module, params: Params, obs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean and log σ for obs (M, ..., obs_dim), task i's rows with task i's parameters."""
    M, d = obs.shape[0], obs.shape[-1]
    mean, log_std = functional_call(policy, params, (obs.reshape(M, -1, d),))
    return mean.reshape(*obs.shape[:-1], -1), log_std.reshape(*obs.shape[:-1], -1)


def gaussian_kl(mean_p, log_std_p, mean_q, log_std_q) -> torch.Tensor:
    """KL(p || q) of diagonal Gaussians, summed over the action dimensions."""
    var_p, var_q = (2 * log_std_p).exp(), (2 * log_std_q).exp()
    return (log_std_q - log_std_p + (var_p + (mean_p - mean_q) ** 2) / (2 * var_q) - 0.5).sum(dim=-1)


def log_probs(policy: nn.Module, params: Params, episodes: Episodes) -> torch.Tensor:
    """log π_θ'_i(a | s) of every step of every task's episodes, shape (M, N, T)."""
    mean, log_std = task_forward(policy, params, episodes.observations)
    return gaussian_log_prob(mean, log_std, episodes.actions)


# -- the inner step -----------------------------------------------------------------
def inner_step(params: Params, loss: torch.Tensor, step_size: float, first_order: bool = False) -> Params:
    """One differentiable gradient step: θ' = θ - α ∇_θ loss.

    With ``first_order=False`` the gradient is itself differentiable (``create_graph``),
    so a loss computed with θ' can be differentiated back to θ through this step
    (second-order MAML). With ``first_order=True`` the gradient is a constant.
    """
    grads = torch.autograd.grad(loss, list(params.values()), create_graph=not first_order)
    return {name: p - step_size * g for (name, p), g in zip(params.items(), grads)}


def adapt(policy: nn.Module, params: Params, episodes: Episodes, advantages: torch.Tensor, step_size: float,
          first_order: bool = False, pieces: "Pieces | None" = None) -> Params:
    """θ'_i for every task of the meta-batch from its episodes, in one batched step.

    ``params`` are per task (leading dim M). Task i's VPG loss depends only on row i of
    the parameters, so the gradient of Σ_i L_i with respect to the rows is [∇L_1; ...; ∇L_M].
    """
    pieces = pieces or Pieces()
    with torch.enable_grad():
        if not any(p.requires_grad for p in params.values()):  # e.g. at test time
            params = {k: p.detach().requires_grad_() for k, p in params.items()}
        loss = pieces.loss(log_probs(policy, params, episodes), advantages, episodes.mask).sum()
        return pieces.inner_step(params, loss, step_size, first_order)


# -- sampling -----------------------------------------------------------------------
class TaskBatchEnv(Protocol):
    """M tasks × N trajectories stepped together; tensors have shape (M, N, ...)."""

    horizon: int

    def reset(self) -> torch.Tensor: ...

    def reseed(self, draw: int = 0) -> None:
        """Restart the randomness of the start states, at stream ``draw``: evaluations that begin with
        the same ``reseed(d)`` start from the same states whatever ran before them."""
        ...

    def step(self, actions: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """-> (observations, rewards, terminated)"""
        ...


@torch.no_grad()
def sample_episodes(policy: nn.Module, params: Params, env: TaskBatchEnv,
                    generator: torch.Generator | None = None, task_features: torch.Tensor | None = None) -> Episodes:
    """Roll out π_θ'_i on task i, N trajectories each, for ``env.horizon`` steps.

    ``task_features`` (M, k), when given, are appended to every observation (the oracle).
    """
    obs = env.reset()
    alive = torch.ones(obs.shape[:2], dtype=obs.dtype, device=obs.device)
    observations, actions, rewards, masks = [], [], [], []
    for _ in range(env.horizon):
        policy_obs = obs if task_features is None else with_task(obs, task_features.to(obs.dtype))
        mean, log_std = task_forward(policy, params, policy_obs)
        noise = torch.randn(mean.shape, generator=generator, device=mean.device, dtype=mean.dtype)
        action = mean + log_std.exp() * noise
        next_obs, reward, terminated = env.step(action)
        observations.append(policy_obs)
        actions.append(action)
        rewards.append(reward)
        masks.append(alive)
        alive = alive * (1.0 - terminated.to(alive.dtype))
        obs = next_obs
    stack = lambda xs: torch.stack(xs, dim=2)  # noqa: E731  (M, N, T, ...)
    return Episodes(stack(observations), stack(actions), stack(rewards), stack(masks))


def with_task(x: torch.Tensor, features: torch.Tensor) -> torch.Tensor:
    """[x, f_i]: task i's features (M, k) appended to each of task i's rows of x (M, B, ...).

    The oracle reads the task this way; PEARL's networks read its latent z the same way.
    """
    return torch.cat([x, features[:, None, :].expand(*x.shape[:-1], features.shape[-1])], dim=-1)


# -- 2D navigation tasks --------------------------------------------------------------
NAV_ACTION_SCALE = 0.1     # rllab's normalize(): env action = clip(0.1 a, -0.1, 0.1)
NAV_TERMINATE_WITHIN = 0.01  # MAML's point env: done when |x - g| < 0.01 in both coordinates


def navigation_tasks(n_per_task: int, horizon: int = 100, device: torch.device | str | None = None) -> "TaskFamily":
    """MAML's 2D navigation as its official code ran it: goals ~ U[-0.5, 0.5]², N trajectories
    per goal, actions in normalised units (scaled by 0.1, then clipped to ±0.1), and an
    episode that ends once the point is within 0.01 of the goal in both coordinates."""
    def make_tasks(n_tasks: int, rng: np.random.Generator) -> tuple[TensorNavigation2D, torch.Tensor]:
        goals = rng.uniform(-0.5, 0.5, size=(n_tasks, 2))
        env = TensorNavigation2D(goals, n_per_task, horizon, device=device, action_scale=NAV_ACTION_SCALE,
                                 terminate_within=NAV_TERMINATE_WITHIN)
        return env, env.goals[:, 0, :]
    return make_tasks


def navigation_test_tasks(n_tasks: int, n_per_task: int, seed: int = 12345, horizon: int = 100,
                          device: torch.device | str | None = None) -> tuple[TensorNavigation2D, torch.Tensor]:
    """A fixed set of held-out goals (the same for every method compared on it)."""
    return navigation_tasks(n_per_task, horizon, device)(n_tasks, np.random.default_rng(seed))


# -- the meta-objective -------------------------------------------------------------
def trpo_surrogate(new_log_probs: torch.Tensor, old_log_probs: torch.Tensor, advantages: torch.Tensor,
                   mask: torch.Tensor) -> torch.Tensor:
    """Per-task importance-weighted surrogate to minimise, -E[π_new/π_old · Â], shape (M,)."""
    dims = tuple(range(1, new_log_probs.dim()))
    ratio = torch.exp(new_log_probs - old_log_probs)
    return -(ratio * advantages * mask).sum(dim=dims) / mask.sum(dim=dims).clamp_min(1.0)


@dataclass
class Pieces:
    """The functions a student writes in the notebook; the defaults are the reference ones.

    The training loop calls only these, so passing the student's versions trains MAML
    with the student's code.
    """

    baseline: Callable = fit_linear_baseline       # (observations, returns, mask) -> values
    loss: Callable = vpg_loss                      # (log_probs, advantages, mask) -> per-task loss (M,)
    inner_step: Callable = inner_step              # (params, loss, step_size, first_order) -> params
    surrogate: Callable = trpo_surrogate           # (new_log_probs, old_log_probs, advantages, mask) -> (M,)
    conjugate_gradient: Callable = conjugate_gradient  # (hvp, b, iters) -> x

    def advantages(self, episodes: Episodes, gamma: float) -> torch.Tensor:
        return compute_advantages(episodes, gamma, self.baseline)


@dataclass
class MetaBatch:
    """What one meta-iteration collected: per task, the pre- and post-update episodes."""

    pre: list[Episodes]                 # one Episodes per inner step (empty for n_inner = 0)
    pre_advantages: list[torch.Tensor]
    post: Episodes
    post_advantages: torch.Tensor
    old_mean: torch.Tensor              # π_old's distribution on the post-update steps
    old_log_std: torch.Tensor
    task_features: torch.Tensor | None
    adapted: list[Params]               # θ'_i after each inner step (the parameters that sampled)


def subsampled_kl(policy: nn.Module, theta: Params, batch: MetaBatch, index: torch.Tensor, step_size: float,
                  first_order: bool, pieces: Pieces) -> torch.Tensor:
    """The mean KL on the trajectories ``index`` of every task, for TRPO's Hessian-vector products.

    Its Hessian at θ is the Fisher matrix Jᵀ F J of the post-update policies, J = ∂θ'/∂θ.
    Both J (through the inner step on the pre-update trajectories) and F (on the
    post-update ones) are estimated from the subsample, while θ'_i keeps its exact value:
        θ'_sub(θ) = θ - α ∇L_sub(θ) + [θ'_i - (θ - α ∇L_sub(θ))]_{at θ_old, a constant}.
    """
    params = per_task(theta, batch.post.rewards.shape[0])
    for episodes, advantages, exact in zip(batch.pre, batch.pre_advantages, batch.adapted):
        adapted = adapt(policy, params, episodes.trajectories(index), advantages[:, index], step_size, first_order,
                        pieces)
        params = {name: p + (exact[name] - p).detach() for name, p in adapted.items()}
    sub = MetaBatch([], [], batch.post.trajectories(index), batch.post_advantages[:, index], batch.old_mean[:, index],
                    batch.old_log_std[:, index], batch.task_features, [])
    return _post_update_objective(policy, params, sub, pieces)[1]


def meta_objective(policy: nn.Module, theta: Params, batch: MetaBatch, step_size: float, first_order: bool,
                   pieces: Pieces | None = None, differentiable: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
    """(surrogate loss, mean KL) of the post-update policies as functions of θ.

    θ'_i = adapt(θ, D_i) for every inner step, then on the post-update episodes D'_i:
        loss = 1/M Σ_i -E_{D'_i}[π_θ'_i / π_old,i · Â],   KL = E_{D'}[KL(π_old,i || π_θ'_i)],
    the KL a mean over every post-update step of the meta-batch D' (a task weighs by its steps: the
    same as 1/M Σ_i E_{D'_i} when no episode ends early, as in locomotion).
    """
    M = batch.post.rewards.shape[0]
    params = per_task(theta, M)
    for episodes, advantages in zip(batch.pre, batch.pre_advantages):
        params = adapt(policy, params, episodes, advantages, step_size, first_order, pieces)
    with torch.set_grad_enabled(differentiable):
        return _post_update_objective(policy, params, batch, pieces or Pieces())


def _post_update_objective(policy: nn.Module, params: Params, batch: MetaBatch,
                           pieces: Pieces) -> tuple[torch.Tensor, torch.Tensor]:
    mean, log_std = task_forward(policy, params, batch.post.observations)
    new_log_probs = gaussian_log_prob(mean, log_std, batch.post.actions)
    old_log_probs = gaussian_log_prob(batch.old_mean, batch.old_log_std, batch.post.actions)
    loss = pieces.surrogate(new_log_probs, old_log_probs, batch.post_advantages, batch.post.mask).mean()
    mask = batch.post.mask
    kl = (gaussian_kl(batch.old_mean, batch.old_log_std, mean, log_std) * mask).sum() / mask.sum()
    return loss, kl


# -- the training loop --------------------------------------------------------------
@dataclass
class MAMLConfig:
    """MAML-TRPO's settings; the defaults are the paper's 2D-navigation ones."""

    hidden: tuple[int, ...] = (100, 100)
    meta_batch: int = 20          # tasks per meta-iteration (40 for locomotion)
    n_per_task: int = 20          # trajectories per task for each inner step and for the post-update batch
    inner_step: float = 0.1       # α
    n_inner: int = 1              # inner steps during meta-training (0: a plain multi-task policy)
    first_order: bool = False
    gamma: float = 0.99
    max_kl: float = 0.01
    cg_iters: int = 10
    cg_damping: float = 1e-5
    fisher_subsample: float = 1.0 # fraction of each task's trajectories that TRPO's KL Hessian is computed on
    task_input: bool = False      # the oracle: the task's features are part of the observation


@dataclass
class History:
    iteration: list[int] = field(default_factory=list)
    pre_return: list[float] = field(default_factory=list)    # mean return before adaptation
    post_return: list[float] = field(default_factory=list)   # after the inner step(s)
    kl: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    validation_iteration: list[int] = field(default_factory=list)  # after how many meta-iterations
    validation_return: list[float] = field(default_factory=list)   # ``Validation.score`` there

    def best_iteration(self) -> int | None:
        """The number of meta-iterations behind the best validation score (the first, on ties)."""
        if not self.validation_return:
            return None
        return self.validation_iteration[int(np.argmax(self.validation_return))]


TaskFamily = Callable[[int, np.random.Generator], tuple[TaskBatchEnv, torch.Tensor]]
"""``make_tasks(M, rng) -> (env with M fresh tasks × N trajectories, task features (M, k))``."""


def collect_meta_batch(policy: nn.Module, env: TaskBatchEnv, task_features: torch.Tensor, config: MAMLConfig,
                       generator: torch.Generator, pieces: Pieces | None = None) -> MetaBatch:
    """Steps 1 to 3 of MAML for one meta-batch: pre-update episodes, adaptation, post-update episodes."""
    pieces = pieces or Pieces()
    feats = task_features if config.task_input else None
    M = task_features.shape[0]
    theta = {k: v.detach() for k, v in policy.named_parameters()}
    params = per_task(theta, M)
    pre, pre_adv, adapted = [], [], []
    for _ in range(config.n_inner):
        episodes = sample_episodes(policy, params, env, generator, feats)
        advantages = pieces.advantages(episodes, config.gamma)
        pre.append(episodes)
        pre_adv.append(advantages)
        params = {k: v.detach() for k, v in adapt(policy, params, episodes, advantages, config.inner_step,
                                                  True, pieces).items()}
        adapted.append(params)
    post = sample_episodes(policy, params, env, generator, feats)
    with torch.no_grad():
        old_mean, old_log_std = task_forward(policy, params, post.observations)
    return MetaBatch(pre, pre_adv, post, pieces.advantages(post, config.gamma), old_mean, old_log_std, feats, adapted)


class Validation:
    """Model selection on validation tasks: which meta-iterate to keep.

    With a small meta-batch the meta-gradient is noisy, and the policy of the last
    iteration can land in a dip of the training curve (``benchmarks/README.md``, HalfCheetah
    direction). Every ``every`` meta-iterations ``score`` measures the policy on a fixed set
    of *validation* tasks (drawn apart from the held-out test tasks), the way it will be
    tested: the mean return after the steps ``step_sizes`` (one step α for MAML and the
    pretrained policy; none for the oracle). ``train_maml`` keeps the best-scoring iterate.
    Every score replays the same start states and action draws, so a policy scores the same
    whenever it is scored (also after a resumed run rebuilds the environments). The score is
    the mean over ``draws`` such adaptations per task: on HalfCheetah direction at 10 tasks ×
    10 trajectories one draw is mostly noise (``benchmarks/README.md``).
    """

    def __init__(self, make_tasks: Callable[[], tuple[TaskBatchEnv, torch.Tensor]], every: int,
                 step_sizes: tuple[float, ...], task_input: bool = False, seed: int = 0, draws: int = 1) -> None:
        self.make_tasks, self.every, self.step_sizes = make_tasks, every, step_sizes
        self.task_input, self.seed, self.draws = task_input, seed, draws
        self._tasks: tuple[TaskBatchEnv, torch.Tensor] | None = None  # built at the first score

    def __getstate__(self) -> dict:  # a worker process gets the recipe, not the environments
        return {**self.__dict__, "_tasks": None}

    def due(self, iteration: int, iterations: int) -> bool:
        """Whether to score after ``iteration`` meta-iterations (always after the last)."""
        return self.every > 0 and (iteration % self.every == 0 or iteration == iterations)

    def score(self, policy: nn.Module) -> float:
        if self._tasks is None:
            self._tasks = self.make_tasks()
        env, features = self._tasks
        # common random numbers: draw d has the same start states and action draws at every
        # score, so two iterates differ only by their weights
        returns = adaptation_curve_over_draws(policy, env, features, self.step_sizes, self.seed, self.draws,
                                              self.task_input)
        return float(returns[-1].mean())


def train_maml(make_tasks: TaskFamily, obs_dim: int, act_dim: int, iterations: int, config: MAMLConfig | None = None,
               seed: int = 0, task_dim: int = 0, policy: GaussianMLPPolicy | None = None,
               pieces: Pieces | None = None, progress: bool = False, desc: str = "MAML",
               checkpoint: Path | None = None, device: torch.device | str = "cpu",
               validation: Validation | None = None) -> tuple[GaussianMLPPolicy, History]:
    """Meta-train a Gaussian MLP policy with MAML-TRPO; returns the policy and its history.

    ``pieces`` is where a student's functions plug in. ``checkpoint`` (a file) is saved every
    10 iterations, and after any iteration that ends a minute or more after the last save (a long
    run stopped at any moment loses at most about a minute), and resumed from. ``device`` must be
    where ``make_tasks``' environments put their tensors (``navigation_tasks(..., device=...)``). With ``validation`` the policy
    returned is the iterate with the best validation score (``history.best_iteration()``),
    not the last one; validation draws no random numbers from training's generators.
    """
    config = config or MAMLConfig()
    pieces = pieces or Pieces()
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    generator = torch.Generator(device=device).manual_seed(seed)
    in_dim = obs_dim + (task_dim if config.task_input else 0)
    policy = (policy or GaussianMLPPolicy(in_dim, act_dim, config.hidden)).to(device)
    history, start, best = History(), 0, None
    if checkpoint is not None and Path(checkpoint).exists():
        state = torch.load(checkpoint, weights_only=False, map_location=device)
        policy.load_state_dict(state["policy"])
        history = History(**{**asdict(History()), **vars(state["history"])})  # older checkpoints lack fields
        start, rng, best = state["iteration"], state["rng"], state.get("best")
        generator.set_state(state["generator"].cpu())
    names = [name for name, _ in policy.named_parameters()]
    params = [p for _, p in policy.named_parameters()]
    iterator = range(start, iterations)
    if progress:
        from metarl_course.session import progress_bar
        iterator = progress_bar(iterator, desc=desc, initial=start, total=iterations)
    t0 = time.perf_counter() - (history.seconds[-1] if history.seconds else 0.0)
    saved_at = history.seconds[-1] if history.seconds else 0.0
    for it in iterator:
        env, task_features = make_tasks(config.meta_batch, rng)
        batch = collect_meta_batch(policy, env, task_features, config, generator, pieces)

        def evaluate(differentiable: bool):
            theta = dict(zip(names, params if differentiable else [p.detach() for p in params]))
            first_order = config.first_order or not differentiable
            return meta_objective(policy, theta, batch, config.inner_step, first_order, pieces, differentiable)

        def hvp_kl():
            n = max(1, round(config.fisher_subsample * config.n_per_task))
            index = torch.randperm(config.n_per_task, generator=generator, device=generator.device)[:n]
            return subsampled_kl(policy, dict(zip(names, params)), batch, index, config.inner_step,
                                 config.first_order, pieces)

        info = trpo_step(params, evaluate, config.max_kl, config.cg_iters, config.cg_damping,
                         hvp_kl=None if config.fisher_subsample >= 1.0 else hvp_kl, cg=pieces.conjugate_gradient)
        history.iteration.append(it)
        history.pre_return.append(batch.pre[0].mean_return() if batch.pre else batch.post.mean_return())
        history.post_return.append(batch.post.mean_return())
        history.kl.append(info["kl"])
        history.seconds.append(time.perf_counter() - t0)
        if validation is not None and validation.due(it + 1, iterations):
            history.validation_iteration.append(it + 1)
            history.validation_return.append(validation.score(policy))
            if history.best_iteration() == it + 1:
                best = {k: v.detach().clone() for k, v in policy.state_dict().items()}
        if progress:
            iterator.set_postfix(pre=f"{history.pre_return[-1]:.1f}", post=f"{history.post_return[-1]:.1f}")
        if checkpoint is not None and checkpoint_due(it + 1, iterations, history.seconds[-1] - saved_at):
            saved_at = history.seconds[-1]
            save_checkpoint({"policy": policy.state_dict(), "history": history, "iteration": it + 1, "rng": rng,
                             "generator": generator.get_state(), "config": asdict(config), "best": best}, checkpoint)
    if best is not None:
        policy.load_state_dict(best)
    return policy, history


def checkpoint_policy(state: dict, which: str = "kept") -> GaussianMLPPolicy:
    """A policy from a loaded ``train_maml`` checkpoint (``torch.load(path, weights_only=False)``).

    ``which="kept"``: the policy ``train_maml`` returns (the best validated iterate when the run
    validated, else the last); ``"last"``: the policy of the last meta-iteration.
    """
    if which not in ("kept", "last"):
        raise ValueError(f"which must be 'kept' or 'last', not {which!r}")
    weights = state["policy"] if which == "last" else (state.get("best") or state["policy"])
    policy = GaussianMLPPolicy(weights["mean.0.weight"].shape[1], weights["log_std"].shape[0],
                               tuple(state["config"]["hidden"]))
    policy.load_state_dict(weights)
    return policy


# -- meta-test: adaptation curves ---------------------------------------------------
@torch.no_grad()
def adaptation_curve(policy: nn.Module, env: TaskBatchEnv, task_features: torch.Tensor, step_sizes: tuple[float, ...] = (0.1, 0.05, 0.05),
                     gamma: float = 0.99, generator: torch.Generator | None = None, task_input: bool = False,
                     keep_episodes: bool = False, pieces: Pieces | None = None) -> dict:
    """Returns on held-out tasks after 0, 1, ..., len(step_sizes) policy-gradient steps.

    Each step samples N fresh trajectories with the current adapted policy, takes a VPG
    step with the next step size, and the returns are measured on the fresh trajectories
    of the next policy. The paper uses α = 0.1 and then 0.05 for later steps.
    Returns {"returns": (steps+1, M) per-task mean returns, "episodes": [...] when asked}.
    ``pieces``: the baseline, loss and inner step to adapt with (default: the reference ones).
    """
    pieces = pieces or Pieces()
    feats = task_features if task_input else None
    M = task_features.shape[0]
    params = per_task({k: v.detach() for k, v in policy.named_parameters()}, M)
    returns, kept = [], []
    for k in range(len(step_sizes) + 1):
        episodes = sample_episodes(policy, params, env, generator, feats)
        returns.append(episodes.returns_per_episode.mean(dim=1))
        if keep_episodes:
            kept.append(episodes)
        if k < len(step_sizes):
            advantages = pieces.advantages(episodes, gamma)
            params = {n: v.detach() for n, v in adapt(policy, params, episodes, advantages, step_sizes[k], True,
                                                      pieces).items()}
    out = {"returns": torch.stack(returns).cpu().numpy()}
    if keep_episodes:
        out["episodes"] = kept
    return out


def adaptation_curve_over_draws(policy: nn.Module, env: TaskBatchEnv, task_features: torch.Tensor,
                                step_sizes: tuple[float, ...], seed: int, draws: int = 1,
                                task_input: bool = False) -> np.ndarray:
    """``adaptation_curve``'s returns (steps+1, M), each task's averaged over ``draws`` adaptations.

    Draw d restarts the start states at ``env.reseed(d)`` and samples actions from a generator
    seeded ``seed + 1000·d``, so a call gives the same numbers whatever ran on ``env`` before it,
    and two policies evaluated with the same ``seed`` see the same draws.
    """
    per_draw = []
    for draw in range(draws):
        env.reseed(draw)
        generator = torch.Generator(device=task_features.device).manual_seed(seed + 1000 * draw)
        per_draw.append(adaptation_curve(policy, env, task_features, step_sizes, generator=generator,
                                         task_input=task_input)["returns"])
    return np.mean(per_draw, axis=0)


def oracle_normalised(returns: float, random_return: float, oracle_return: float) -> float:
    """(R - R_random) / (R_oracle - R_random): 0 is a random policy, 1 the oracle."""
    return (returns - random_return) / (oracle_return - random_return)
