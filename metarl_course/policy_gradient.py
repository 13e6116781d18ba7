"""The policy-gradient parts MAML is built from: episodes, returns, a linear baseline, VPG.

Everything is batched over a *meta-batch* of tasks: a tensor of episodes has shape
(M tasks, N trajectories per task, T steps, ...), and every function here treats each
task separately (task i's baseline is fitted on task i's trajectories only).

The vanilla policy gradient (REINFORCE with a baseline) of task i is the gradient of

    L_i(θ) = - 1/(Σ_{n,t} m_nt) Σ_{n,t} m_nt log π_θ(a_nt | s_nt) Â_nt,     Â_nt = G_nt - b_i(s_nt, t),

where m_nt = 1 for the steps that happened (0 after an episode ended early; Σ m = N T when
none did), G_nt = Σ_{k≥t} γ^{k-t} r_nk is the discounted return-to-go and b_i a baseline
fitted to the returns of task i (rllab's linear feature baseline, as in the MAML code).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import torch


@dataclass
class Episodes:
    """N trajectories of T steps on each of M tasks.

    observations (M, N, T, obs_dim), actions (M, N, T, act_dim), rewards (M, N, T),
    mask (M, N, T): 1 for steps that happened, 0 after an episode terminated early.
    """

    observations: torch.Tensor
    actions: torch.Tensor
    rewards: torch.Tensor
    mask: torch.Tensor

    @property
    def returns_per_episode(self) -> torch.Tensor:
        """Undiscounted return of each trajectory, shape (M, N): the number papers report."""
        return (self.rewards * self.mask).sum(dim=-1)

    def mean_return(self) -> float:
        return float(self.returns_per_episode.mean())

    def trajectories(self, index: torch.Tensor) -> "Episodes":
        """The same tasks with only the trajectories ``index`` of each."""
        return Episodes(self.observations[:, index], self.actions[:, index], self.rewards[:, index], self.mask[:, index])


def gaussian_log_prob(mean: torch.Tensor, log_std: torch.Tensor, actions: torch.Tensor) -> torch.Tensor:
    """log N(a; μ, diag σ²), summed over the action dimensions."""
    z = (actions - mean) / log_std.exp()
    return (-0.5 * z**2 - log_std - 0.5 * math.log(2 * math.pi)).sum(dim=-1)


def discounted_returns(rewards: torch.Tensor, mask: torch.Tensor, gamma: float) -> torch.Tensor:
    """Returns-to-go G_t = r_t + γ G_{t+1} (G = 0 after the last step), along the last axis."""
    returns = torch.zeros_like(rewards)
    running = torch.zeros_like(rewards[..., 0])
    for t in reversed(range(rewards.shape[-1])):
        running = rewards[..., t] * mask[..., t] + gamma * running * mask[..., t]
        returns[..., t] = running
    return returns


def baseline_features(observations: torch.Tensor) -> torch.Tensor:
    """rllab's features φ(s_t, t) = [s, s², t, t², t³, 1] with s clipped to ±10 and t = step/100.

    observations (..., T, d) -> features (..., T, 2d + 4).
    """
    obs = observations.clamp(-10.0, 10.0)
    T = obs.shape[-2]
    t = (torch.arange(T, dtype=obs.dtype, device=obs.device) / 100.0).expand(*obs.shape[:-1])[..., None]
    return torch.cat([obs, obs**2, t, t**2, t**3, torch.ones_like(t)], dim=-1)


def fit_linear_baseline(observations: torch.Tensor, returns: torch.Tensor, mask: torch.Tensor,
                        reg: float = 1e-5) -> torch.Tensor:
    """Fit b_i(s, t) = φ(s, t)·w_i per task by ridge regression and return b at every step.

    For task i, with Φ the features of all its (unmasked) steps and G their returns,

        w_i = (Φᵀ Φ + reg · I)⁻¹ Φᵀ G.

    Shapes: observations (M, N, T, d), returns and mask (M, N, T) -> values (M, N, T).
    Solved in float64: the normal equations of t³ features are badly conditioned, and a
    float32 solve is where public ports got NaN baselines.
    """
    M = observations.shape[0]
    phi = baseline_features(observations).to(torch.float64) * mask[..., None].to(torch.float64)
    phi = phi.reshape(M, -1, phi.shape[-1])                       # (M, N*T, F)
    g = (returns * mask).to(torch.float64).reshape(M, -1, 1)      # (M, N*T, 1)
    eye = torch.eye(phi.shape[-1], dtype=torch.float64, device=phi.device)
    A = phi.transpose(1, 2) @ phi
    b = phi.transpose(1, 2) @ g
    for _ in range(5):  # as rllab: raise the ridge until the solve is finite
        w = torch.linalg.solve(A + reg * eye, b)
        if torch.isfinite(w).all():
            break
        reg *= 10.0
    values = (phi @ w).reshape(returns.shape)
    return values.to(returns.dtype)


def normalize_advantages(advantages: torch.Tensor, mask: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """Centre and scale each task's advantages to mean 0, std 1 over its unmasked steps."""
    dims = tuple(range(1, advantages.dim()))
    count = mask.sum(dim=dims, keepdim=True).clamp_min(1.0)
    mean = (advantages * mask).sum(dim=dims, keepdim=True) / count
    var = (((advantages - mean) * mask) ** 2).sum(dim=dims, keepdim=True) / count
    return (advantages - mean) / (var.sqrt() + eps) * mask


def compute_advantages(episodes: Episodes, gamma: float, baseline: Callable = fit_linear_baseline) -> torch.Tensor:
    """Â = normalise(G - b): returns-to-go minus the per-task linear baseline, normalised per task."""
    returns = discounted_returns(episodes.rewards, episodes.mask, gamma)
    values = baseline(episodes.observations, returns, episodes.mask)
    return normalize_advantages(returns - values, episodes.mask)


def vpg_loss(log_probs: torch.Tensor, advantages: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """The VPG surrogate of each task, L_i = -Σ_{n,t} mask·log π·Â / Σ mask, shape (M,).

    log_probs, advantages, mask: (M, N, T). Its gradient is the policy gradient estimate;
    the advantages are constants (no gradient flows into them).
    """
    dims = tuple(range(1, log_probs.dim()))
    return -(log_probs * advantages.detach() * mask).sum(dim=dims) / mask.sum(dim=dims).clamp_min(1.0)
