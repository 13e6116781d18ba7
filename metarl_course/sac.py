"""Soft actor-critic (Haarnoja et al. 2018), the off-policy learner inside PEARL.

SAC maximises return plus entropy, E[Σ_t γ^t (r_t + α H(π(·|s_t)))], with

- two Q networks Q_1, Q_2 trained towards the soft Bellman target through a state-value
  network V and its slowly moving copy V̄ (the version of SAC that PEARL used):
      y_Q = s_r · r + γ (1 - d) V̄(s'),          L_Q = E[(Q_k(s, a) - y_Q)²]
      y_V = min_k Q_k(s, ã) - log π(ã | s),     L_V = E[(V(s) - y_V)²],   ã ~ π(·|s)
- a tanh-Gaussian policy trained by reparameterisation,
      L_π = E[log π(ã | s) - min_k Q_k(s, ã)],  ã = tanh(μ(s) + σ(s) ε),  ε ~ N(0, I)
- V̄ ← τ V + (1 - τ) V̄ after every step (Polyak averaging).

The reward scale s_r plays the role of the entropy temperature (α = 1 / s_r). In PEARL
every network also reads the task variable z: pass inputs already concatenated with z.
"""

from __future__ import annotations

import math

import torch
import torch.nn as nn

from metarl_course.policy_gradient import gaussian_log_prob


def mlp(in_dim: int, out_dim: int, hidden: tuple[int, ...]) -> nn.Sequential:
    """Linear layers with ReLU between them (none after the last)."""
    layers: list[nn.Module] = []
    for n_in, n_out in zip((in_dim, *hidden), hidden):
        layers += [nn.Linear(n_in, n_out), nn.ReLU()]
    layers.append(nn.Linear(hidden[-1] if hidden else in_dim, out_dim))
    return nn.Sequential(*layers)


class TanhGaussianPolicy(nn.Module):
    """π(a | s) = tanh(N(μ(s), σ(s)²)), actions in (-1, 1)^d, log σ clamped to [-20, 2]."""

    def __init__(self, in_dim: int, act_dim: int, hidden: tuple[int, ...] = (300, 300, 300)) -> None:
        super().__init__()
        self.net = mlp(in_dim, 2 * act_dim, hidden)

    def forward(self, x: torch.Tensor, deterministic: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
        """(action, log π(action | x)); the action is differentiable (reparameterised)."""
        mean, log_std = self.net(x).chunk(2, dim=-1)
        log_std = log_std.clamp(-20.0, 2.0)
        pre_tanh = mean if deterministic else mean + log_std.exp() * torch.randn_like(mean)
        return torch.tanh(pre_tanh), tanh_gaussian_log_prob(pre_tanh, mean, log_std)


def tanh_gaussian_log_prob(pre_tanh: torch.Tensor, mean: torch.Tensor, log_std: torch.Tensor) -> torch.Tensor:
    """log π(tanh(u)) = log N(u; μ, σ²) - Σ log(1 - tanh(u)²), summed over action dimensions.

    The change of variables uses the stable form log(1 - tanh(u)²) = 2 (log 2 - u - softplus(-2u)).
    """
    log_det = 2.0 * (math.log(2.0) - pre_tanh - nn.functional.softplus(-2.0 * pre_tanh))
    return gaussian_log_prob(mean, log_std, pre_tanh) - log_det.sum(dim=-1)


def q_loss(q1: torch.Tensor, q2: torch.Tensor, rewards: torch.Tensor, dones: torch.Tensor,
           target_next_value: torch.Tensor, gamma: float, reward_scale: float) -> torch.Tensor:
    """Σ_k E[(Q_k(s, a) - y)²] with y = s_r r + γ (1 - d) V̄(s'); the target carries no gradient."""
    target = (reward_scale * rewards + gamma * (1.0 - dones) * target_next_value).detach()
    return ((q1 - target) ** 2).mean() + ((q2 - target) ** 2).mean()


def value_loss(value: torch.Tensor, min_q_new: torch.Tensor, log_prob_new: torch.Tensor) -> torch.Tensor:
    """E[(V(s) - (min_k Q_k(s, ã) - log π(ã | s)))²], ã a fresh policy action; the target is detached."""
    return ((value - (min_q_new - log_prob_new).detach()) ** 2).mean()


def policy_loss(min_q_new: torch.Tensor, log_prob_new: torch.Tensor) -> torch.Tensor:
    """E[log π(ã | s) - min_k Q_k(s, ã)]: more entropy and more value."""
    return (log_prob_new - min_q_new).mean()


@torch.no_grad()
def soft_update(target: nn.Module, source: nn.Module, tau: float) -> None:
    """θ̄ ← τ θ + (1 - τ) θ̄."""
    for t, s in zip(target.parameters(), source.parameters()):
        t.mul_(1.0 - tau).add_(tau * s)
