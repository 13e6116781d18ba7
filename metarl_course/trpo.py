"""Trust-region policy optimisation (Schulman et al. 2015), as MAML's outer step uses it.

TRPO maximises a surrogate objective L(θ) subject to a bound on how far the policy moves,

    max_θ  L(θ)   s.t.   KL̄(θ_old, θ) ≤ δ        (δ = max_kl = 0.01 in MAML).

With g = ∇L and H = ∇²KL̄ at θ_old (the Fisher matrix), the step is along x = H⁻¹ g,
found by conjugate gradient using only Hessian-vector products Hv = ∇(∇KL̄ · v), scaled
so that the quadratic model of the KL equals δ,

    Δθ = sqrt(2δ / xᵀHx) · x,

then shrunk by a backtracking line search until the real KL is within δ and the
surrogate improved. Nothing here knows about meta-learning: MAML passes a surrogate and a
KL that go through the inner adaptation step, which is what makes it second order.
"""

from __future__ import annotations

from typing import Callable

import torch

Tensors = list[torch.Tensor]


def conjugate_gradient(hvp: Callable[[torch.Tensor], torch.Tensor], b: torch.Tensor,
                       iters: int = 10, residual_tol: float = 1e-10) -> torch.Tensor:
    """Solve H x = b for a symmetric positive-definite H given only v ↦ H v.

    Starting from x = 0 (residual r = b, direction p = b), each iteration moves x along p
    by α = rᵀr / pᵀHp, updates the residual r ← r - α Hp, and makes the next direction
    H-conjugate to the previous ones: p ← r + (r_newᵀ r_new / rᵀ r) p.
    """
    x = torch.zeros_like(b)
    r = b.clone()
    p = b.clone()
    rr = r @ r
    for _ in range(iters):
        if rr < residual_tol:
            break
        hp = hvp(p)
        alpha = rr / (p @ hp)
        x = x + alpha * p
        r = r - alpha * hp
        rr_new = r @ r
        p = r + (rr_new / rr) * p
        rr = rr_new
    return x


def flat_grad(output: torch.Tensor, params: Tensors, **kwargs) -> torch.Tensor:
    grads = torch.autograd.grad(output, params, **kwargs)
    return torch.cat([g.reshape(-1) for g in grads])


def hessian_vector_product(kl: torch.Tensor, params: Tensors, damping: float) -> Callable[[torch.Tensor], torch.Tensor]:
    """v ↦ (∇²KL + damping·I) v, differentiating the KL's gradient once more (Pearlmutter)."""
    grad_kl = flat_grad(kl, params, create_graph=True)

    def hvp(v: torch.Tensor) -> torch.Tensor:
        return flat_grad(grad_kl @ v, params, retain_graph=True) + damping * v

    return hvp


def trpo_step(params: Tensors, evaluate: Callable[[bool], tuple[torch.Tensor, torch.Tensor]], max_kl: float,
              cg_iters: int = 10, damping: float = 1e-5, backtrack_ratio: float = 0.8,
              max_backtracks: int = 15, hvp_kl: Callable[[], torch.Tensor] | None = None,
              cg: Callable = conjugate_gradient) -> dict[str, float]:
    """One TRPO update of ``params`` in place.

    ``evaluate(differentiable)`` computes (surrogate loss to *minimise*, mean KL from the
    old policy) at the current values of ``params``; with ``differentiable=False`` (the
    line search) it may skip building the autograd graph. ``hvp_kl()``, when given, is
    the KL used for the Hessian-vector products only: the Fisher matrix is a metric, and
    computing it on a subsample of the data (Schulman's thesis uses 10%) makes conjugate
    gradient about as cheap as the gradient itself. ``cg`` solves H x = b (a student's
    conjugate gradient plugs in here). Returns a few diagnostics.
    """
    loss, kl = evaluate(True)
    g = flat_grad(loss, params, retain_graph=hvp_kl is None)
    hvp = hessian_vector_product(kl if hvp_kl is None else hvp_kl(), params, damping)
    step_dir = cg(hvp, -g, cg_iters)
    shs = 0.5 * (step_dir @ hvp(step_dir))
    full_step = step_dir * torch.sqrt(max_kl / shs.clamp_min(1e-12))
    old = [p.detach().clone() for p in params]
    old_loss = float(loss.detach())
    del hvp, loss, kl  # free the second-order graph before the line search

    for k in range(max_backtracks):
        fraction = backtrack_ratio**k
        _assign(params, old, full_step * fraction)
        new_loss, new_kl = evaluate(False)
        new_loss, new_kl = float(new_loss.detach()), float(new_kl.detach())
        if new_kl <= max_kl and new_loss < old_loss:
            return {"loss_before": old_loss, "loss_after": new_loss, "kl": new_kl,
                    "step_fraction": fraction}
    _assign(params, old, torch.zeros_like(full_step))  # no acceptable step: keep the old policy
    return {"loss_before": old_loss, "loss_after": old_loss, "kl": 0.0, "step_fraction": 0.0}


def _assign(params: Tensors, old: Tensors, step: torch.Tensor) -> None:
    offset = 0
    with torch.no_grad():
        for p, p_old in zip(params, old):
            n = p.numel()
            p.copy_(p_old + step[offset:offset + n].view_as(p))
            offset += n
