"""Checks for unit 04, PEARL.

Exercises: the product of Gaussians (the context encoder's posterior), the KL to the
prior (the information bottleneck), SAC's critic loss, the actor-side losses with z
detached, and online adaptation at meta-test (posterior sampling). Each check runs the
student's function on seeded inputs and on cases small enough to solve by hand,
compares with the reference in ``metarl_course.pearl`` and ``sac``, and names the likely
mistake by recomputing the common wrong versions.
"""

from __future__ import annotations

import math
from typing import Any, Callable, Sequence

import numpy as np
import torch

from metarl_course import pearl, sac
from metarl_course.checks._core import CheckFailure, call_student, fail, first_match, passed, tensor_as_array
from metarl_course.envs.navigation import TensorNavigation2D
from metarl_course.replay import FIELDS


def _pair(result: Any, where: str, names: tuple[str, str], fix: str) -> tuple[Any, Any]:
    """The two results of a function that must return a pair."""
    if result is None:
        fail(f"{where}: your function returned None; end it with `return {names[0]}, {names[1]}`.")
    if isinstance(result, torch.Tensor) or not isinstance(result, (tuple, list)) or len(result) != 2:
        fail(f"{where}: the function must return two things, ({names[0]}, {names[1]}); got {type(result).__name__}"
             + (f" of length {len(result)}" if isinstance(result, (tuple, list)) else "") + ".", hint=fix)
    return result[0], result[1]


def _no_gradient(grads: Sequence[torch.Tensor | None]) -> bool:
    return all(g is None or float(g.abs().max()) == 0.0 for g in grads)


# -- exercise 1: the product of Gaussians ---------------------------------------------------------
_POG_FORMULA = ("per task and latent dimension, over the N factors (dim=-2): σ² = 1 / Σ_n (1 / σ_n²) and "
                "μ = σ² · Σ_n μ_n / σ_n², after clamping the variances to at least 1e-7.")


def pog_hand_case() -> tuple[torch.Tensor, torch.Tensor, np.ndarray, np.ndarray]:
    """T = 2 tasks, N = 2 factors, d = 2 latent dimensions; the products by hand:

    task 0:  N(0, 1)·N(2, 1) ∝ N(1, 1/2),        N(0, 1)·N(3, 2) ∝ N(1, 2/3)
    task 1:  N(4, 1)·N(-2, 2) ∝ N(2, 2/3),       N(-1, 1/2)·N(2, 1/4) ∝ N(1, 1/6)
    (precisions add: 1 + 1/2 = 3/2, so σ² = 2/3 and μ = (4/1 - 2/2) · 2/3 = 2; 2 + 4 = 6, μ = (-2 + 8) / 6 = 1)
    """
    means = torch.tensor([[[0.0, 0.0], [2.0, 3.0]], [[4.0, -1.0], [-2.0, 2.0]]], dtype=torch.float64)
    variances = torch.tensor([[[1.0, 1.0], [1.0, 2.0]], [[1.0, 0.5], [2.0, 0.25]]], dtype=torch.float64)
    return means, variances, np.array([[1.0, 1.0], [2.0, 1.0]]), np.array([[0.5, 2 / 3], [2 / 3, 1 / 6]])


def _pog_variance_variants(means: torch.Tensor, variances: torch.Tensor) -> dict[str, np.ndarray]:
    v = variances.detach().clamp_min(pearl.MIN_VARIANCE)
    return {
        "the variances were added; a product of Gaussians adds the *precisions* 1/σ_n²: σ² = 1 / Σ_n (1/σ_n²).": v.sum(-2),
        "the variances were averaged; a product of Gaussians adds the precisions: σ² = 1 / Σ_n (1/σ_n²), which "
        "shrinks with every factor.": v.mean(-2),
        "σ² = 1 / Σ_n (1/σ_n²), the inverse of the summed *precisions*, not of the summed variances.": 1.0 / v.sum(-2),
        "that is the precision Σ_n 1/σ_n² of the product; its variance is the inverse, 1 / Σ_n (1/σ_n²).": (1.0 / v).sum(-2),
    }


def _pog_mean_variants(means: torch.Tensor, variances: torch.Tensor) -> dict[str, np.ndarray]:
    m, v = means.detach(), variances.detach().clamp_min(pearl.MIN_VARIANCE)
    variance = 1.0 / (1.0 / v).sum(-2)
    return {
        "the plain average of the factors' means: weight each factor by its precision, μ = σ² Σ_n μ_n / σ_n², "
        "so that confident factors (small σ_n²) count more.": m.mean(-2),
        "Σ_n μ_n / σ_n² must still be multiplied by the product's variance σ² (the precision weights must "
        "sum to 1).": (m / v).sum(-2),
        "the factors were weighted by their variance; weight them by their precision 1/σ_n²: confident factors "
        "(small σ_n²) must count more.": (m * v).sum(-2) / v.sum(-2),
        "the means were summed; μ = σ² Σ_n μ_n / σ_n² is a precision-weighted *average*.": m.sum(-2),
        "μ = σ² Σ_n μ_n / σ_n²: divide each μ_n by its variance, not multiply.": variance * (m * v).sum(-2),
    }


def _pog_call(product_of_gaussians: Callable, means: torch.Tensor, variances: torch.Tensor,
              where: str) -> tuple[np.ndarray, np.ndarray]:
    """The student's (mean, variance), checked for type, shape, in-place changes and NaN."""
    inputs = (means.clone(), variances.clone())
    result = call_student(product_of_gaussians, *inputs, name="product_of_gaussians")
    if not (torch.equal(inputs[0], means) and torch.equal(inputs[1], variances)):
        fail(f"{where}: product_of_gaussians changed its inputs in place.",
             hint="build new tensors: variances.clamp_min(1e-7), not variances.clamp_(...) or variances[...] = ...")
    mean, variance = _pair(result, where, ("mean", "variance"), "return mean, variance: two tensors of shape (T, d).")
    T, N, d = means.shape
    for name, value in (("mean", mean), ("variance", variance)):
        shape = _shape(value)
        if shape == (T, d):
            continue
        if shape == (T, N):
            hint = "the product is over the N factors (dim=-2 or dim=1), not over the latent dimensions (the last axis)."
        elif shape == (N, d):
            hint = "the product is over the N factors of each task (dim=-2 or dim=1), not over the tasks (dim 0)."
        elif shape in ((T, 1, d), (T, N, d)):
            hint = "sum over the factors without keepdim: one (mean, variance) per task and latent dimension, (T, d)."
        else:
            hint = "one posterior per task: mean and variance of shape (T, d)."
        fail(f"{where}: the {name} has the wrong shape.", expected=(T, d), got=shape, hint=hint)
    if not (np.all(np.isfinite(_raw(mean))) and np.all(np.isfinite(_raw(variance)))):
        fail(f"{where}: the result contains NaN or infinite values.",
             hint="a factor with variance 0 (the encoder's softplus can underflow to 0) makes 1/σ_n² infinite: clamp the "
                  "variances first, variances.clamp_min(1e-7), as PEARL does.")
    return tensor_as_array(mean, f"{where}: the mean"), tensor_as_array(variance, f"{where}: the variance")


def _raw(value: Any) -> np.ndarray:
    """A returned value as a float64 array, for shape tests and comparisons (never fails: NaN if not numeric)."""
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().to(torch.float64).numpy()
    try:
        return np.asarray([v.detach() if isinstance(v, torch.Tensor) else v for v in value]
                          if isinstance(value, (list, tuple)) else value, dtype=np.float64)
    except (TypeError, ValueError, RuntimeError):
        return np.asarray(np.nan)


def _shape(value: Any) -> tuple[int, ...]:
    return tuple(value.shape) if isinstance(value, torch.Tensor) else tuple(np.shape(_raw(value)))


def _pog_expect(product_of_gaussians: Callable, means: torch.Tensor, variances: torch.Tensor, where: str,
                expected: tuple[np.ndarray, np.ndarray] | None = None) -> tuple[np.ndarray, np.ndarray]:
    got_mean, got_variance = _pog_call(product_of_gaussians, means, variances, where)
    if expected is None:
        expected = tuple(x.numpy() for x in pearl.product_of_gaussians(means, variances))
    exp_mean, exp_variance = expected
    swapped = np.allclose(got_mean, exp_variance, atol=1e-6) and np.allclose(got_variance, exp_mean, atol=1e-6)
    if swapped and not np.allclose(exp_mean, exp_variance, atol=1e-6):
        fail(f"{where}: mean and variance are swapped.", hint="return mean, variance (in that order).")
    if not np.allclose(got_variance, exp_variance, rtol=1e-5, atol=1e-8):
        fail(f"{where}: the variance is wrong.", expected=exp_variance, got=got_variance,
             hint=first_match(got_variance, _pog_variance_variants(means, variances), _POG_FORMULA, rtol=1e-5))
    if not np.allclose(got_mean, exp_mean, rtol=1e-5, atol=1e-6):
        fail(f"{where}: the mean is wrong (the variance is right).", expected=exp_mean, got=got_mean,
             hint=first_match(got_mean, _pog_mean_variants(means, variances), _POG_FORMULA, rtol=1e-5))
    return got_mean, got_variance


def _random_factors(seed: int, T: int = 3, N: int = 7, d: int = 4) -> tuple[torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    means = torch.randn(T, N, d, generator=gen, dtype=torch.float64) * 2.0
    variances = torch.rand(T, N, d, generator=gen, dtype=torch.float64) * 2.0 + 0.05
    return means, variances


def _check_pog_properties(product_of_gaussians: Callable, seed: int) -> None:
    """One factor is itself; N equal factors give σ²/N; order does not matter; more factors sharpen."""
    means, variances = _random_factors(seed)
    one = (means[:, :1], variances[:, :1])
    _pog_expect(product_of_gaussians, *one, f"product_of_gaussians of a single factor per task (N = 1, seed {seed}): "
                "the posterior of one transition is its own factor", (means[:, 0].numpy(), variances[:, 0].numpy()))
    equal = (means[:, :1].expand(-1, 4, -1).contiguous(), variances[:, :1].expand(-1, 4, -1).contiguous())
    _pog_expect(product_of_gaussians, *equal, f"product_of_gaussians of 4 identical factors N(μ, σ²) (seed {seed}): "
                "four times the same evidence gives N(μ, σ²/4)", (means[:, 0].numpy(), variances[:, 0].numpy() / 4))
    got = _pog_call(product_of_gaussians, means, variances, f"product_of_gaussians on random factors (3, 7, 4), seed {seed}")
    perm = torch.randperm(means.shape[1], generator=torch.Generator().manual_seed(seed + 100))
    shuffled = _pog_call(product_of_gaussians, means[:, perm], variances[:, perm],
                         f"product_of_gaussians on the same factors in another order, seed {seed}")
    if not (np.allclose(got[0], shuffled[0], rtol=1e-6, atol=1e-8) and np.allclose(got[1], shuffled[1], rtol=1e-6, atol=1e-8)):
        fail(f"product_of_gaussians (seed {seed}): the posterior changes when the N transitions are reordered.",
             expected=got[0], got=shuffled[0],
             hint="the context is a set: combine the factors with sums over dim=-2 only, which ignore the order.")
    fewer = _pog_call(product_of_gaussians, means[:, :3], variances[:, :3],
                      f"product_of_gaussians on the first 3 of the 7 factors, seed {seed}")
    if not np.all(got[1] < fewer[1]):
        fail(f"product_of_gaussians (seed {seed}): the variance does not shrink when 4 more factors are added.",
             expected=f"every entry below {np.round(fewer[1], 4).tolist()}", got=got[1],
             hint="every factor is evidence: the precisions add, σ² = 1 / Σ_n (1/σ_n²).")


def _check_pog_gradient(product_of_gaussians: Callable, seed: int) -> None:
    means, variances = _random_factors(seed, T=2, N=5, d=3)
    weights = torch.randn(2, 2, 3, generator=torch.Generator().manual_seed(seed + 7), dtype=torch.float64)
    grads = []
    for fn in (pearl.product_of_gaussians, product_of_gaussians):
        m, v = means.clone().requires_grad_(), variances.clone().requires_grad_()
        if fn is pearl.product_of_gaussians:
            mean, variance = fn(m, v)
        else:
            mean, variance = _pair(_call_with_grad(fn, m, v), "product_of_gaussians", ("mean", "variance"), "")
        if not (isinstance(mean, torch.Tensor) and isinstance(variance, torch.Tensor) and mean.requires_grad
                and variance.requires_grad):
            fail("product_of_gaussians on factors that require grad: the result carries no gradient.",
                 hint="the encoder is trained through the posterior: compute it with torch operations on the inputs "
                      "(no .detach(), .numpy() or .item()).")
        loss = (weights[0] * mean).sum() + (weights[1] * variance).sum()
        grads.append([g.numpy() for g in torch.autograd.grad(loss, [m, v])])
    for name, ref, got in zip(("means", "variances"), *grads):
        if not np.allclose(got, ref, rtol=1e-5, atol=1e-8):
            fail(f"product_of_gaussians (seed {seed}): the gradient with respect to the factors' {name} is wrong.",
                 expected=ref.ravel()[:4], got=got.ravel()[:4], hint=_POG_FORMULA)


def _call_with_grad(product_of_gaussians: Callable, means: torch.Tensor, variances: torch.Tensor) -> Any:
    try:
        return call_student(product_of_gaussians, means, variances, name="product_of_gaussians")
    except CheckFailure as error:
        if "in-place" not in str(error):
            raise
        fail(f"product_of_gaussians on factors that require grad:\n{error}",
             hint="do not change the inputs in place (variances.clamp_(...), variances[...] = ...): build new "
                  "tensors, variances = variances.clamp_min(1e-7).")


def check_product_of_gaussians(product_of_gaussians: Callable, seeds: Sequence[int] = (0,)) -> None:
    _pog_call(product_of_gaussians, *_random_factors(seeds[0]), "product_of_gaussians on T = 3 tasks, N = 7 factors, "
              "d = 4 latent dimensions (the shapes)")
    means, variances, mean, variance = pog_hand_case()
    _pog_expect(product_of_gaussians, means, variances, "product_of_gaussians on the hand-computed case (T = 2 tasks, "
                "N = 2 factors, d = 2; task 0: N(0, 1)·N(2, 1) ∝ N(1, 1/2) in the first dimension)", (mean, variance))
    for seed in seeds:
        _check_pog_properties(product_of_gaussians, seed)
        means, variances = _random_factors(seed + 1000, T=4, N=9, d=5)
        _pog_expect(product_of_gaussians, means, variances, f"product_of_gaussians on random factors (4, 9, 5), seed {seed}")
        _check_pog_gradient(product_of_gaussians, seed)
    means, variances = _random_factors(seeds[0] + 2000, T=2, N=4, d=3)
    variances[0, 2, 1] = 0.0
    _pog_expect(product_of_gaussians, means, variances, "product_of_gaussians with one factor of variance exactly 0 "
                "(task 0, factor 2, dimension 1): clamped to 1e-7, that factor decides the posterior there")
    passed("product_of_gaussians adds precisions and precision-weights the means: order-free, sharper with every "
           "factor, differentiable, and safe for a zero variance")


def hidden_check_product_of_gaussians(product_of_gaussians: Callable) -> None:
    check_product_of_gaussians(product_of_gaussians, seeds=(1, 2))
    means, variances = _random_factors(5, T=2, N=6, d=3)
    _pog_expect(product_of_gaussians, means.float(), variances.float(), "product_of_gaussians on float32 factors")


# -- exercise 2: the KL to the prior ------------------------------------------------------------
_KL_FORMULA = "KL(N(μ, diag σ²) ‖ N(0, I)) = ½ Σ_d (σ² + μ² - 1 - log σ²): a sum over the latent dimensions, one value per task."


def kl_hand_case() -> tuple[torch.Tensor, torch.Tensor, np.ndarray]:
    """T = 3 tasks, d = 2.

    task 0: the prior itself                           -> 0
    task 1: μ = (1, -2), σ² = (1, 1)                   -> ½ (1 + 4) = 2.5
    task 2: μ = (0, ½), σ² = (e, 1/e)                  -> ½ (e - 1 - 1) + ½ (1/e + ¼ - 1 + 1) = ½ (e + 1/e - 1.75)
    """
    mean = torch.tensor([[0.0, 0.0], [1.0, -2.0], [0.0, 0.5]], dtype=torch.float64)
    variance = torch.tensor([[1.0, 1.0], [1.0, 1.0], [math.e, 1 / math.e]], dtype=torch.float64)
    return mean, variance, np.array([0.0, 2.5, 0.5 * (math.e + 1 / math.e - 1.75)])


def _kl_variants(mean: torch.Tensor, variance: torch.Tensor) -> dict[str, np.ndarray]:
    m, v = mean.detach(), variance.detach()
    std = v.sqrt()
    return {
        "the ½ is missing: KL = ½ Σ_d (σ² + μ² - 1 - log σ²).": (v + m**2 - 1 - v.log()).sum(-1),
        "the latent dimensions were averaged; the KL of a diagonal Gaussian is the *sum* over dimensions.":
            0.5 * (v + m**2 - 1 - v.log()).mean(-1),
        "σ (the standard deviation) was used where σ² belongs: `variance` already is σ², use it as it is.":
            0.5 * (std + m**2 - 1 - v.log()).sum(-1),
        "the variance was treated as a standard deviation (σ⁴ and log σ⁴ appear): the second argument is σ², "
        "KL = ½ Σ (σ² + μ² - 1 - log σ²).": 0.5 * (v**2 + m**2 - 1 - 2 * v.log()).sum(-1),
        "log σ appears where log σ² belongs: KL = ½ Σ (σ² + μ² - 1 - log σ²).": 0.5 * (v + m**2 - 1 - std.log()).sum(-1),
        "the -1 is missing: KL = ½ Σ (σ² + μ² - 1 - log σ²), which is 0 at the prior.": 0.5 * (v + m**2 - v.log()).sum(-1),
        "the sign of log σ² is wrong: KL = ½ Σ (σ² + μ² - 1 - log σ²).": 0.5 * (v + m**2 - 1 + v.log()).sum(-1),
        "that is KL(N(0, I) ‖ q), the other direction; PEARL penalises KL(q(z | c) ‖ N(0, I)).":
            0.5 * (1 / v + m**2 / v - 1 + v.log()).sum(-1),
    }


def _kl_case(kl_to_standard_normal: Callable, mean: torch.Tensor, variance: torch.Tensor, where: str,
             expected: np.ndarray | None = None) -> None:
    inputs = (mean.clone(), variance.clone())
    result = call_student(kl_to_standard_normal, *inputs, name="kl_to_standard_normal")
    if not (torch.equal(inputs[0], mean) and torch.equal(inputs[1], variance)):
        fail(f"{where}: kl_to_standard_normal changed its inputs in place.", hint="build new tensors.")
    T = mean.shape[0]
    if result is not None and _shape(result) != (T,):
        shape = _shape(result)
        hint = ("one value per task: sum over the latent dimensions only, .sum(dim=-1)." if shape in ((), (1,)) else
                "sum over the latent dimensions (the last axis), .sum(dim=-1)." if shape == tuple(mean.shape) else
                "one value per task, shape (T,).")
        fail(f"{where}: the KL has the wrong shape.", expected=(T,), got=shape, hint=hint)
    got = tensor_as_array(result, f"{where}: the KL", shape=(T,))
    if expected is None:
        expected = pearl.kl_to_standard_normal(mean, variance).numpy()
    if not np.allclose(got, expected, rtol=1e-5, atol=1e-6):
        fail(f"{where} is wrong.", expected=expected, got=got,
             hint=first_match(got, _kl_variants(mean, variance), _KL_FORMULA, rtol=1e-5, atol=1e-6))


def check_kl_to_standard_normal(kl_to_standard_normal: Callable, seeds: Sequence[int] = (0,)) -> None:
    mean, variance, expected = kl_hand_case()
    _kl_case(kl_to_standard_normal, mean, variance, "kl_to_standard_normal on the hand-computed case (task 0 is the "
             "prior: KL 0; task 1: μ = (1, -2), σ² = (1, 1): KL 2.5; task 2: μ = (0, ½), σ² = (e, 1/e))", expected)
    for seed in seeds:
        gen = torch.Generator().manual_seed(seed)
        mean = torch.randn(4, 5, generator=gen, dtype=torch.float64)
        variance = torch.rand(4, 5, generator=gen, dtype=torch.float64) * 3.0 + 0.01
        reference = torch.distributions.kl_divergence(torch.distributions.Normal(mean, variance.sqrt()),
                                                      torch.distributions.Normal(0.0, 1.0)).sum(-1).numpy()
        _kl_case(kl_to_standard_normal, mean, variance, f"kl_to_standard_normal on random beliefs (T = 4, d = 5), "
                 f"seed {seed}", reference)
    # the gradient: ∂KL/∂μ = μ and ∂KL/∂σ² = ½ (1 - 1/σ²): the encoder is trained through the KL
    mean, variance, _ = kl_hand_case()
    mean.requires_grad_()
    variance.requires_grad_()
    kl = call_student(kl_to_standard_normal, mean, variance, name="kl_to_standard_normal")
    if not (isinstance(kl, torch.Tensor) and kl.requires_grad):
        fail("kl_to_standard_normal on the hand-computed case: the KL carries no gradient to the mean and variance.",
             hint="the KL term trains the encoder: compute it with torch operations (no .numpy(), .item(), math.log).")
    grad_mean, grad_variance = torch.autograd.grad(kl.sum(), [mean, variance], allow_unused=True)
    expected = (mean.detach().numpy(), 0.5 * (1 - 1 / variance.detach().numpy()))
    for name, grad, exp in (("mean", grad_mean, expected[0]), ("variance", grad_variance, expected[1])):
        got = np.zeros_like(exp) if grad is None else grad.numpy()
        if not np.allclose(got, exp, atol=1e-8):
            fail(f"kl_to_standard_normal on the hand-computed case: the gradient with respect to the {name} is wrong.",
                 expected=exp, got=got, hint=_KL_FORMULA)
    passed("kl_to_standard_normal gives ½ Σ_d (σ² + μ² - 1 - log σ²) per task, in value and gradient")


def hidden_check_kl_to_standard_normal(kl_to_standard_normal: Callable) -> None:
    check_kl_to_standard_normal(kl_to_standard_normal, seeds=(1, 2, 3))


# -- exercise 3: the critic loss ----------------------------------------------------------------
_CRITIC_FORMULA = ("y = reward_scale · r + γ (1 - done) V̄(s'), held constant (detached); "
                   "loss = mean over the batch of (Q_1 - y)² plus mean of (Q_2 - y)²: a scalar.")


def critic_hand_case() -> tuple[dict[str, torch.Tensor], float, float, float]:
    """T = 1 task, B = 2 transitions, γ = 0.9, reward scale 2.

    y = (2·0.5 + 0.9·1·2, 2·(-1) + 0.9·0·4) = (2.8, -2)         (the second transition ended the episode)
    Q_1 = (1, 2):  ((1 - 2.8)² + (2 + 2)²) / 2 = (3.24 + 16) / 2 = 9.62
    Q_2 = (0, 3):  ((0 - 2.8)² + (3 + 2)²) / 2 = (7.84 + 25) / 2 = 16.42          loss = 26.04
    """
    t = lambda values: torch.tensor([values], dtype=torch.float64)  # noqa: E731
    inputs = {"q1": t([1.0, 2.0]), "q2": t([0.0, 3.0]), "rewards": t([0.5, -1.0]), "dones": t([0.0, 1.0]),
              "target_next_value": t([2.0, 4.0])}
    return inputs, 0.9, 2.0, 26.04


def _critic_variants(x: dict[str, torch.Tensor], gamma: float, scale: float) -> dict[str, float]:
    q1, q2, r, d, v = (x[k].detach() for k in ("q1", "q2", "rewards", "dones", "target_next_value"))
    y = scale * r + gamma * (1 - d) * v

    def loss(target: torch.Tensor, combine: str = "sum", reduce: str = "mean") -> float:
        e1, e2 = (q1 - target) ** 2, (q2 - target) ** 2
        red = (lambda e: e.mean()) if reduce == "mean" else (lambda e: e.sum())
        return float({"sum": red(e1) + red(e2), "mean": (red(e1) + red(e2)) / 2, "q1": red(e1),
                      "min": red((torch.min(q1, q2) - target) ** 2)}[combine])

    return {
        "the reward scale is missing: y = reward_scale · r + γ (1 - done) V̄(s').": loss(r + gamma * (1 - d) * v),
        "the (1 - done) mask is missing: after the last step of an episode there is no next state to bootstrap "
        "from, y = reward_scale · r + γ (1 - done) V̄(s').": loss(scale * r + gamma * v),
        "the done mask is inverted: bootstrap with (1 - done), not done.": loss(scale * r + gamma * d * v),
        "the reward scale multiplies only the reward: y = reward_scale · r + γ (1 - done) V̄(s').":
            loss(scale * (r + gamma * (1 - d) * v)),
        "γ is missing: y = reward_scale · r + γ (1 - done) V̄(s').": loss(scale * r + (1 - d) * v),
        "only Q_1 is trained: the loss is the sum of both critics' errors, (Q_1 - y)² and (Q_2 - y)².": loss(y, "q1"),
        "the two critics' losses were averaged; PEARL sums them: mean (Q_1 - y)² + mean (Q_2 - y)².": loss(y, "mean"),
        "min(Q_1, Q_2) belongs in the *targets* of the actor and the value network; the critic loss trains each Q_k "
        "towards y separately, mean (Q_1 - y)² + mean (Q_2 - y)².": loss(y, "min"),
        "the squared errors were summed over the batch; take their mean.": loss(y, "sum", "sum"),
    }


def _critic_call(critic_loss: Callable, x: dict[str, torch.Tensor], gamma: float, scale: float, where: str) -> Any:
    args = [x[k] for k in ("q1", "q2", "rewards", "dones", "target_next_value")]
    before = [a.detach().clone() for a in args]
    result = call_student(critic_loss, *args, gamma, scale, name="critic_loss")
    if not all(torch.equal(a.detach(), b) for a, b in zip(args, before)):
        fail(f"{where}: critic_loss changed its inputs in place.", hint="build new tensors.")
    if result is not None and np.prod(_shape(result), dtype=int) != 1:
        fail(f"{where}: the loss must be one number.", expected="a scalar", got=f"shape {_shape(result)}",
             hint="average the squared errors over every task and transition, .mean(), and add the two critics' means.")
    return result


def _critic_case(critic_loss: Callable, x: dict[str, torch.Tensor], gamma: float, scale: float, where: str,
                 expected: float | None = None) -> None:
    got = float(tensor_as_array(_critic_call(critic_loss, x, gamma, scale, where), f"{where}: the loss").reshape(()))
    if expected is None:
        expected = float(sac.q_loss(*(x[k] for k in ("q1", "q2", "rewards", "dones", "target_next_value")), gamma, scale))
    if not math.isclose(got, expected, rel_tol=1e-6, abs_tol=1e-8):
        hint = first_match(np.asarray(got), _critic_variants(x, gamma, scale), _CRITIC_FORMULA)
        fail(f"{where} is wrong.", expected=expected, got=got, hint=hint)


def _random_critic_inputs(seed: int, T: int = 3, B: int = 6) -> dict[str, torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    shape = (T, B)
    return {"q1": torch.randn(shape, generator=gen, dtype=torch.float64) * 3,
            "q2": torch.randn(shape, generator=gen, dtype=torch.float64) * 3,
            "rewards": torch.randn(shape, generator=gen, dtype=torch.float64),
            "dones": (torch.rand(shape, generator=gen, dtype=torch.float64) < 0.3).to(torch.float64),
            "target_next_value": torch.randn(shape, generator=gen, dtype=torch.float64) * 5}


def _check_critic_gradient(critic_loss: Callable, seed: int) -> None:
    # rewards and done flags are replay data, never with a gradient; the networks' outputs have one
    x = {k: v.clone().requires_grad_(k in ("q1", "q2", "target_next_value"))
         for k, v in _random_critic_inputs(seed).items()}
    gamma, scale = 0.9, 5.0
    where = f"critic_loss on random (3, 6) inputs (seed {seed}) whose q1, q2 and V̄(s') require grad"
    loss = _critic_call(critic_loss, x, gamma, scale, where)
    if not (isinstance(loss, torch.Tensor) and loss.requires_grad):
        fail(f"{where}: the loss carries no gradient to q1 and q2.",
             hint="compute it with torch operations on q1 and q2: it is what trains the critics (and the encoder).")
    loss = loss.reshape(())
    networks = ("q1", "q2", "target_next_value")
    grads = dict(zip(networks, torch.autograd.grad(loss, [x[k] for k in networks], allow_unused=True)))
    if not _no_gradient([grads["target_next_value"]]):
        fail(f"{where}: a gradient flows into target_next_value.",
             hint="the Bellman target y is a constant: compute it and call .detach() on it (or build it under "
                  "torch.no_grad()); otherwise the loss also drags V̄(s') towards Q.")
    y = (scale * x["rewards"] + gamma * (1 - x["dones"]) * x["target_next_value"]).detach()
    for k in ("q1", "q2"):
        expected = (2 * (x[k].detach() - y) / y.numel()).numpy()
        got = np.zeros_like(expected) if grads[k] is None else grads[k].numpy()
        if not np.allclose(got, expected, atol=1e-8):
            fail(f"{where}: the gradient with respect to {k} is wrong.", expected=expected[0], got=got[0],
                 hint="each critic is trained on its own squared error: d/dQ_k = 2 (Q_k - y) / (T·B).")


def check_critic_loss(critic_loss: Callable, seeds: Sequence[int] = (0,)) -> None:
    x, gamma, scale, expected = critic_hand_case()
    _critic_case(critic_loss, x, gamma, scale, "critic_loss on the hand-computed case (Q_1 = (1, 2), Q_2 = (0, 3), "
                 "r = (0.5, -1), done = (0, 1), V̄(s') = (2, 4), γ = 0.9, reward scale 2: y = (2.8, -2))", expected)
    for seed in seeds:
        x = _random_critic_inputs(seed)
        for gamma, scale in ((0.9, 100.0), (0.99, 5.0)):
            _critic_case(critic_loss, x, gamma, scale, f"critic_loss on random (3, 6) inputs with some done flags, "
                         f"γ = {gamma}, reward scale {scale}, seed {seed}")
        _check_critic_gradient(critic_loss, seed)
    passed("critic_loss trains both critics towards the constant target reward_scale·r + γ(1 - done)V̄(s')")


def hidden_check_critic_loss(critic_loss: Callable) -> None:
    check_critic_loss(critic_loss, seeds=(1, 2))


# -- exercise 4: the actor-side losses ------------------------------------------------------------
_ACTOR_FORMULA = ("with ã, log π(ã | s, z) from ONE call agent.policy([s, z]) (reparameterised) and "
                  "Q̃ = min(Q_1, Q_2)(s, ã, z): L_π = mean(log π - Q̃), L_V = mean((V(s, z) - (Q̃ - log π).detach())²); "
                  "z detached first.")


def actor_problem(seed: int, T: int = 3, B: int = 5, latent_dim: int = 3):
    """A small float64 PEARL agent, observations (T, B, 2) and a z (T, latent_dim) that comes out of its encoder
    (so it carries a gradient to the encoder, as in ``pearl_update``)."""
    torch.manual_seed(seed)
    agent = pearl.PEARLAgent(2, 2, latent_dim, net_hidden=(16, 16), encoder_hidden=(16,)).double()
    gen = torch.Generator().manual_seed(seed)
    obs = torch.randn(T, B, 2, generator=gen, dtype=torch.float64)
    context = torch.randn(T, 6, 5, generator=gen, dtype=torch.float64)
    z = pearl.sample_z(*pearl.infer_posterior(agent.encoder, context), gen)
    return agent, obs, z


def actor_variant(agent: pearl.PEARLAgent, obs: torch.Tensor, z: torch.Tensor, torch_seed: int, *, q: str = "min",
                  value_target: str = "q-logp", policy: str = "logp-q", deterministic: bool = False) -> tuple[float, float]:
    """The two losses with one ingredient switched (the defaults are the reference), values only."""
    with torch.no_grad():
        torch.manual_seed(torch_seed)
        s_z = pearl.with_task(obs, z)
        actions, log_prob = agent.policy(s_z, deterministic=deterministic)
        q_in = pearl.with_task(torch.cat([obs, actions], dim=-1), z)
        q1, q2 = agent.q1(q_in).squeeze(-1), agent.q2(q_in).squeeze(-1)
        q_new = {"min": torch.min(q1, q2), "q1": q1, "mean": (q1 + q2) / 2, "max": torch.max(q1, q2)}[q]
        target = {"q-logp": q_new - log_prob, "q": q_new, "q+logp": q_new + log_prob}[value_target]
        pi = {"logp-q": log_prob - q_new, "q-logp": q_new - log_prob, "-q": -q_new}[policy].mean()
        return float(pi), float(((agent.value(s_z).squeeze(-1) - target) ** 2).mean())


_ACTOR_VARIANTS = [
    (dict(q="q1"), "Q̃ must be the minimum of the two critics, min(Q_1, Q_2) (clipped double Q), not Q_1 alone."),
    (dict(q="mean"), "Q̃ must be the minimum of the two critics, min(Q_1, Q_2), not their mean."),
    (dict(q="max"), "Q̃ must be the minimum of the two critics, min(Q_1, Q_2), not their maximum."),
    (dict(value_target="q"), "the value target is the *soft* value Q̃ - log π(ã | s, z): the entropy term is missing."),
    (dict(value_target="q+logp"), "the value target is Q̃ - log π(ã | s, z): minus log π (an entropy bonus), not plus."),
    (dict(policy="q-logp"), "the policy loss is minimised: L_π = mean(log π - Q̃) (the sign is flipped)."),
    (dict(policy="-q"), "the policy loss is mean(log π - Q̃): without log π there is no entropy bonus."),
    (dict(deterministic=True), "ã must be *sampled* from the policy (agent.policy(x), not deterministic=True): SAC's "
                               "losses are expectations over the stochastic policy."),
]


def _count_policy_calls(agent: pearl.PEARLAgent) -> list[tuple[int, ...]]:
    """Record the input shape of every agent.policy call (the instance's forward is wrapped)."""
    calls: list[tuple[int, ...]] = []
    original = type(agent.policy).forward

    def counting_forward(x, *args, **kwargs):
        calls.append(tuple(x.shape))
        return original(agent.policy, x, *args, **kwargs)

    agent.policy.forward = counting_forward
    return calls


def _actor_call(policy_and_value_losses: Callable, agent, obs, z, torch_seed: int, where: str):
    calls = _count_policy_calls(agent)
    obs_in = obs.clone()
    torch.manual_seed(torch_seed)
    try:
        result = call_student(policy_and_value_losses, agent, obs_in, z, name="policy_and_value_losses")
    finally:
        del agent.policy.forward
    if not torch.equal(obs_in, obs):
        fail(f"{where}: the observations were changed in place.", hint="build new tensors.")
    pi, v = _pair(result, where, ("policy_loss", "value_loss"), "return policy_loss, value_loss: two scalar tensors.")
    for name, value in (("policy loss", pi), ("value loss", v)):
        if value is not None and np.prod(_shape(value), dtype=int) != 1:
            fail(f"{where}: the {name} must be one number.", expected="a scalar",
                 got=f"shape {_shape(value)}", hint="average over every task and transition, .mean().")
    return pi, v, calls


def _check_actor_values(policy_and_value_losses: Callable, seed: int) -> None:
    agent, obs, z = actor_problem(seed)
    torch_seed = 1000 + seed
    where = f"policy_and_value_losses on a small PEARL agent, observations (3, 5, 2), z (3, 3), seed {seed}"
    pi, v, calls = _actor_call(policy_and_value_losses, agent, obs, z, torch_seed, where)
    got = (float(tensor_as_array(pi, f"{where}: the policy loss").reshape(())), float(tensor_as_array(v, f"{where}: the value loss").reshape(())))
    expected = actor_variant(agent, obs, z, torch_seed)
    if np.allclose(got, expected, rtol=1e-6, atol=1e-8):
        return
    if len(calls) != 1:
        fail(f"{where}: agent.policy was called {len(calls)} times; the losses are wrong.", expected=expected, got=got,
             hint="call agent.policy once, on [s, z], and use the same ã and log π(ã | s, z) in both losses (that is "
                  "also what the reference's random numbers assume).")
    if calls[0] != (*obs.shape[:-1], obs.shape[-1] + z.shape[-1]):
        fail(f"{where}: agent.policy was called on an input of shape {calls[0]}; the losses are wrong.",
             expected=expected, got=got,
             hint="the policy reads [s, z]: z (T, latent_dim) appended to every one of its task's B observations, "
                  "with_task(obs, z), shape (T, B, obs_dim + latent_dim).")
    hint = _ACTOR_FORMULA
    for kwargs, text in _ACTOR_VARIANTS:
        if np.allclose(got, actor_variant(agent, obs, z, torch_seed, **kwargs), rtol=1e-6, atol=1e-8):
            hint = text
            break
    fail(f"{where}: (policy loss, value loss) are wrong.", expected=expected, got=got, hint=hint)


def _parameters(module: torch.nn.Module) -> list[torch.Tensor]:
    return list(module.parameters())


def _check_actor_gradients(policy_and_value_losses: Callable, seed: int) -> None:
    agent, obs, z = actor_problem(seed)
    torch_seed = 2000 + seed
    where = f"policy_and_value_losses on a small PEARL agent (seed {seed}), with z straight out of the encoder"
    pi, v, _ = _actor_call(policy_and_value_losses, agent, obs, z, torch_seed, where)
    for name, loss in (("policy loss", pi), ("value loss", v)):
        if not (isinstance(loss, torch.Tensor) and loss.requires_grad):
            fail(f"{where}: the {name} carries no gradient.", hint="compute it with torch operations on the networks' "
                 "outputs (no .item(), .numpy() or torch.no_grad()): it trains the " + name.split()[0] + " network.")
    pi, v = pi.reshape(()), v.reshape(())
    encoder = _parameters(agent.encoder)
    if not _no_gradient(torch.autograd.grad(pi + v, [z, *encoder], retain_graph=True, allow_unused=True)):
        fail(f"{where}: a gradient flows from the policy or value loss back into z and the encoder.",
             hint="start with z = z.detach(): the task belief may be shaped only by the critic loss and the KL; the "
                  "policy must not push z towards whatever makes its own loss small.")
    critics_and_policy = _parameters(agent.q1) + _parameters(agent.q2) + _parameters(agent.policy)
    if not _no_gradient(torch.autograd.grad(v, critics_and_policy, retain_graph=True, allow_unused=True)):
        fail(f"{where}: the value loss sends a gradient into the critics or the policy.",
             hint="the value target Q̃ - log π is a constant for V: detach it, ((V - (Q̃ - log π).detach())²).mean().")
    got_pi = [g if g is not None else torch.zeros_like(p) for g, p in
              zip(torch.autograd.grad(pi, _parameters(agent.policy), retain_graph=True, allow_unused=True),
                  _parameters(agent.policy))]
    got_v = torch.autograd.grad(v, _parameters(agent.value), allow_unused=True)
    torch.manual_seed(torch_seed)
    ref_pi, ref_v = pearl.policy_and_value_losses(agent, obs, z)
    exp_pi = torch.autograd.grad(ref_pi, _parameters(agent.policy), retain_graph=True)
    exp_v = torch.autograd.grad(ref_v, _parameters(agent.value))
    for got, exp, (name, _) in zip(got_pi, exp_pi, agent.policy.named_parameters()):
        if not np.allclose(got.numpy(), exp.numpy(), rtol=1e-5, atol=1e-8):
            fail(f"{where}: the gradient of the policy loss with respect to policy.{name} is wrong (the value is right).",
                 expected=exp.numpy().ravel()[:4], got=got.numpy().ravel()[:4],
                 hint="ã must stay differentiable (the reparameterisation trick): do not detach the action or compute "
                      "Q̃ under torch.no_grad(); the policy learns through Q̃(s, ã(θ), z) and log π.")
    for got, exp, (name, _) in zip(got_v, exp_v, agent.value.named_parameters()):
        got = torch.zeros_like(exp) if got is None else got
        if not np.allclose(got.numpy(), exp.numpy(), rtol=1e-5, atol=1e-8):
            fail(f"{where}: the gradient of the value loss with respect to value.{name} is wrong.",
                 expected=exp.numpy().ravel()[:4], got=got.numpy().ravel()[:4], hint=_ACTOR_FORMULA)


def check_policy_and_value_losses(policy_and_value_losses: Callable, seeds: Sequence[int] = (0,)) -> None:
    for seed in seeds:
        _check_actor_values(policy_and_value_losses, seed)
        _check_actor_gradients(policy_and_value_losses, seed)
    passed("policy_and_value_losses matches SAC's actor and value losses, with z detached, a reparameterised ã and a "
           "constant value target")


def hidden_check_policy_and_value_losses(policy_and_value_losses: Callable) -> None:
    check_policy_and_value_losses(policy_and_value_losses, seeds=(1, 2))


# -- exercise 5: online adaptation at meta-test -----------------------------------------------------
ADAPT_GOALS = np.array([[0.5, 0.3], [-0.4, 0.2], [0.1, -0.6]])
NEAR_GOALS = np.array([[0.1, 0.1], [-0.12, 0.05], [0.0, 0.15], [0.08, -0.1]])  # within 0.2 of the start: sparse rewards > 0


def adapt_problem(seed: int, goals: np.ndarray = ADAPT_GOALS, horizon: int = 5, sparse: bool = False):
    """An untrained PEARL agent (its actions depend on z, so every z shows in the returns) and a batched env."""
    torch.manual_seed(seed)
    agent = pearl.PEARLAgent(2, 2, latent_dim=3, net_hidden=(16, 16), encoder_hidden=(16,))
    env = TensorNavigation2D(goals, 1, horizon, sparse=sparse, goal_radius=0.2, action_scale=0.1)
    return agent, env


def _record_encoder(agent: pearl.PEARLAgent) -> list[tuple[int, ...]]:
    seen: list[tuple[int, ...]] = []
    original = type(agent.encoder).forward

    def recording_forward(context, *args, **kwargs):
        seen.append(tuple(context.shape))
        return original(agent.encoder, context, *args, **kwargs)

    agent.encoder.forward = recording_forward
    return seen


@torch.no_grad()
def meta_test_variant(agent: pearl.PEARLAgent, env, n_trajectories: int, n_exploration: int = 1,
                      deterministic: bool = True, generator: torch.Generator | None = None, *, sample: bool = True,
                      fresh_prior: bool = True, posterior_from_start: bool = False,
                      reward: str = "rewards") -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """``pearl.meta_test`` with one ingredient switched (the defaults are the reference, for a non-terminating env)."""
    M = env.goals.shape[0]
    context, returns, prior_z = None, [], None
    for k in range(n_trajectories):
        if k < n_exploration and not (posterior_from_start and k > 0):
            mean, variance = pearl.prior_belief((M,), agent.encoder.latent_dim, env.goals)
            if prior_z is None or fresh_prior:
                prior_z = pearl.sample_z(mean, variance, generator)
            z = prior_z
        else:
            mean, variance = pearl.infer_posterior(agent.encoder, agent.context(context))
            z = pearl.sample_z(mean, variance, generator) if sample else mean
        trajectory = pearl.collect_trajectories(agent, env, z, deterministic)
        returns.append(trajectory[reward][..., 0].sum(dim=1))
        context = trajectory if context is None else {f: torch.cat([context[f], trajectory[f]], dim=1) for f in context}
    return torch.stack(returns), context


def _adapt_run(fn: Callable, agent, env, n: int, n_exploration: int, deterministic: bool, seed: int, student: bool):
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed + 1)
    kwargs = dict(n_exploration=n_exploration, deterministic=deterministic, generator=generator)
    if student:
        return call_student(fn, agent, env, n, **kwargs, name="adapt_online")
    return fn(agent, env, n, **kwargs)


def _sizes_hint(seen: list[tuple[int, ...]], M: int, H: int, n: int, n_exploration: int) -> str | None:
    """What the encoder's inputs say about the context, or None if they look right."""
    expected = [H * k for k in range(n_exploration, n)]
    if any(len(shape) != 3 or shape[0] != M for shape in seen):
        return ("the encoder was called on a context of shape " + str(next(s for s in seen if len(s) != 3 or s[0] != M))
                + f": it takes (M, N, s + a + r), one row per task; concatenate trajectories along the transitions "
                  f"axis (dim=1), not the tasks axis.")
    sizes = [shape[1] for shape in seen]
    it = iter(sizes)
    if all(any(size == want for size in it) for want in expected):
        return None
    if expected and not sizes:
        return ("the encoder was never called: after the exploration trajectories, z must be drawn from the posterior "
                "q(z | c) of the context collected so far, infer_posterior(agent.encoder, agent.context(context)).")
    if any(size % H for size in sizes):
        return (f"the encoder saw {sizes} transitions: the context must hold all H = {H} transitions of every "
                "trajectory so far (dropping a transition is a known trap of PEARL ports).")
    if len(sizes) > 1 and all(size == H for size in sizes):
        return (f"the encoder saw only the last trajectory each time ({sizes} transitions): the context must "
                f"accumulate every trajectory so far, H·k = {expected} transitions, concatenated along dim=1.")
    if sizes and sizes[-1] < expected[-1] and len(sizes) < len(expected):
        return (f"the encoder was called {len(sizes)} time(s), on {sizes} transitions: the posterior must be "
                f"re-inferred before every trajectory after the exploration ones, from all transitions so far "
                f"(H·k = {expected}).")
    return (f"the encoder saw contexts of {sizes} transitions; expected {expected}: after the {n_exploration} "
            f"exploration trajectories, trajectory k (from 0) draws z from the posterior of the k·H transitions before it.")


def _adapt_case(adapt_online: Callable, seed: int, n: int, n_exploration: int, deterministic: bool,
                goals: np.ndarray = ADAPT_GOALS, sparse: bool = False) -> None:
    H, M = 5, len(goals)
    where = (f"adapt_online on {M} {'sparse' if sparse else 'dense'} navigation tasks (H = {H}), an untrained agent "
             f"(seed {seed}), n_trajectories = {n}, n_exploration = {n_exploration}, deterministic = {deterministic}")
    agent, env = adapt_problem(seed, goals, H, sparse)
    exp_returns, exp_context = _adapt_run(pearl.meta_test, agent, env, n, n_exploration, deterministic, seed, False)
    seen = _record_encoder(agent)
    try:
        result = _adapt_run(adapt_online, agent, env, n, n_exploration, deterministic, seed, True)
    finally:
        del agent.encoder.forward
    returns, context = _pair(result, where, ("returns", "context"),
                             "return returns, context: the (n_trajectories, M) returns and the dict of all transitions.")
    shape = _shape(returns) if returns is not None else None
    if shape == (M, n) and M != n:
        fail(f"{where}: the returns have the wrong shape.", expected=(n, M), got=shape,
             hint="one row per trajectory: torch.stack(returns_per_trajectory), shape (n_trajectories, M).")
    got = tensor_as_array(returns, f"{where}: the returns", shape=(n, M))
    if not isinstance(context, dict) or not set(FIELDS) <= set(context):
        fail(f"{where}: the context must be a dict with the fields {', '.join(FIELDS)} (as collect_trajectories "
             f"returns them); got {type(context).__name__}"
             + (f" with keys {sorted(context)}" if isinstance(context, dict) else "") + ".",
             hint="concatenate each new trajectory's dict into the context, field by field, along dim=1.")
    hint = _sizes_hint(seen, M, H, n, n_exploration)
    if hint is not None:
        fail(f"{where}: the posterior was inferred from the wrong context.", hint=hint)
    for field in FIELDS:
        value = context[field]
        want = tuple(exp_context[field].shape)
        if _shape(value) != want:
            fail(f"{where}: context[{field!r}] has the wrong shape.", expected=want, got=_shape(value),
                 hint="every transition of every trajectory, per task: (M, n_trajectories·H, ...), concatenated on dim=1.")
    exp = exp_returns.numpy()
    if np.allclose(got, exp, rtol=1e-4, atol=1e-5) and all(
            np.allclose(_raw(context[f]), exp_context[f].numpy(), rtol=1e-4, atol=1e-5) for f in FIELDS):
        return
    fail(f"{where}: the returns (rows: trajectories, columns: tasks) are not those of PEARL's meta-test with the "
         f"same random numbers.", expected=exp, got=got,
         hint=_adapt_hint(adapt_online, got, seen, seed, n, n_exploration, deterministic, goals, sparse, H))


def _adapt_hint(adapt_online, got, seen, seed, n, n_exploration, deterministic, goals, sparse, H) -> str:
    if any(shape[1] < n_exploration * H for shape in seen):
        return (f"the first n_exploration = {n_exploration} trajectories must each act with a fresh z from the prior "
                f"N(0, I), whatever the context holds: only trajectory {n_exploration} (from 0) on uses the posterior.")
    variants = [
        (dict(fresh_prior=False), "each exploration trajectory draws its own z from the prior (one hypothesis per "
                                  "trajectory), not one z for all of them."),
        (dict(sample=False), "z must be *sampled* from the posterior, z = μ + σ ε (sample_z), not set to its mean: "
                             "posterior sampling is what makes the agent explore."),
        (dict(generator=None), "draw z with the generator passed in, sample_z(mean, variance, generator), so that the "
                               "run is reproducible."),
        (dict(deterministic=not deterministic), "pass `deterministic` on to collect_trajectories (PEARL evaluates with "
                                                "the policy's mean action)."),
        (dict(reward="dense_rewards"), "the return of a trajectory is the sum of the env's rewards, trajectory['rewards'] "
                                       "(the sparse ones on the sparse task), not the dense rewards."),
    ]
    for kwargs, text in variants:
        agent, env = adapt_problem(seed, goals, H, sparse)
        torch.manual_seed(seed)
        generator = torch.Generator().manual_seed(seed + 1)
        options = dict(n_exploration=n_exploration, deterministic=deterministic, generator=generator)
        options.update({k: kwargs.pop(k) for k in ("generator", "deterministic") if k in kwargs})
        returns, _ = meta_test_variant(agent, env, n, **options, **kwargs)
        if np.allclose(got, returns.numpy(), rtol=1e-4, atol=1e-5):
            return text
    return ("for k = 0 .. n-1: z ~ N(0, I) while k < n_exploration, else z ~ q(z | c) with c all transitions so far "
            "(sample_z with the generator); collect one trajectory with collect_trajectories(agent, env, z, "
            "deterministic); its return is the sum of its rewards; append it to the context.")


def check_adapt_online(adapt_online: Callable, seeds: Sequence[int] = (0,)) -> None:
    for seed in seeds:
        _adapt_case(adapt_online, seed, n=4, n_exploration=1, deterministic=True)
        _adapt_case(adapt_online, seed, n=5, n_exploration=2, deterministic=False)
        _adapt_case(adapt_online, seed, n=3, n_exploration=1, deterministic=True, goals=NEAR_GOALS, sparse=True)
    passed("adapt_online explores with the prior, then samples z from the posterior of everything seen so far, "
           "exactly as PEARL's meta-test")


def hidden_check_adapt_online(adapt_online: Callable) -> None:
    check_adapt_online(adapt_online, seeds=(1,))
    _adapt_case(adapt_online, 2, n=6, n_exploration=3, deterministic=True)
    _adapt_case(adapt_online, 3, n=3, n_exploration=3, deterministic=False, goals=NEAR_GOALS, sparse=True)
