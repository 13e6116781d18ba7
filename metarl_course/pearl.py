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

import torch
import torch.nn as nn
import torch.nn.functional as F

from metarl_course.sac import mlp

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


def infer_posterior(encoder: ContextEncoder, context: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """q_φ(z | c) for every task: context (T, N, dim) -> mean and variance (T, latent_dim).

    An empty context (N = 0) gives the prior N(0, I).
    """
    if context.shape[-2] == 0:
        shape = (*context.shape[:-2], encoder.latent_dim)
        return context.new_zeros(shape), context.new_ones(shape)
    return product_of_gaussians(*encoder(context))


def sample_z(mean: torch.Tensor, variance: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """z = μ + σ ε, ε ~ N(0, I): reparameterised, so gradients reach the encoder through z."""
    noise = torch.randn(mean.shape, generator=generator, device=mean.device, dtype=mean.dtype)
    return mean + variance.sqrt() * noise
