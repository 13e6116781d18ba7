"""Checks for unit 03, MAML with policy gradients.

Exercises: rllab's linear feature baseline, the per-task VPG loss, the differentiable
inner step, conjugate gradient, and TRPO's importance-weighted surrogate. Each check runs
the student's function on seeded inputs (and on problems small enough to solve by hand),
compares with the reference in ``metarl_course.policy_gradient``, ``maml`` and ``trpo``,
and names the likely mistake by recomputing the common wrong versions.
"""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np
import torch

from metarl_course import maml, policy_gradient, trpo
from metarl_course.checks._core import CheckFailure, call_student, fail, passed, tensor_as_array


# -- exercise 1: the linear feature baseline -------------------------------------------------
def baseline_variant(observations: torch.Tensor, returns: torch.Tensor, mask: torch.Tensor, *, per_task: bool = True,
                     time: bool = True, time_scale: float = 100.0, time_offset: int = 0, reg: float = 1e-5,
                     clip: float | None = 10.0,
                     mask_features: bool = True, mask_returns: bool = True, lstsq: bool = False) -> np.ndarray:
    """rllab's baseline with every ingredient switchable, to name a student's mistake; with the defaults it
    equals ``policy_gradient.fit_linear_baseline`` (tested), which is what the checks compare against.

    Returns the fitted values at every step, shape (M, N, T) (0 at masked steps).
    """
    obs = observations.detach().to(torch.float64)
    ret = returns.detach().to(torch.float64)
    m = mask.detach().to(torch.float64)
    M, N, T, _ = obs.shape
    if clip is not None:
        obs = obs.clamp(-clip, clip)
    t = ((torch.arange(T, dtype=torch.float64) + time_offset) / time_scale).expand(M, N, T)[..., None]
    columns = [obs, obs**2] + ([t, t**2, t**3] if time else []) + [torch.ones_like(t)]
    phi = torch.cat(columns, dim=-1)
    if mask_features:
        phi = phi * m[..., None]
    g = ret * m if mask_returns else ret
    groups = M if per_task else 1
    P = phi.reshape(groups, -1, phi.shape[-1])
    G = g.reshape(groups, -1, 1)
    A = P.transpose(1, 2) @ P + reg * torch.eye(P.shape[-1], dtype=torch.float64)
    try:
        w = torch.linalg.pinv(P) @ G if lstsq else torch.linalg.solve(A, P.transpose(1, 2) @ G)
    except RuntimeError:  # singular without the ridge
        return np.full((M, N, T), np.nan)
    values = (phi.reshape(groups, -1, phi.shape[-1]) @ w).reshape(M, N, T)
    return values.numpy()


def _baseline_inputs(seed: int, M: int = 3, N: int = 4, T: int = 20, d: int = 2, scale: float = 1.0,
                     dtype=torch.float64, ragged: bool = False):
    """Random observations and returns; with ``ragged``, trajectories end early (mask 0 afterwards)
    and the steps after the end hold garbage, as a padded batch does."""
    gen = torch.Generator().manual_seed(seed)
    obs = torch.randn(M, N, T, d, generator=gen, dtype=torch.float64) * scale
    returns = torch.randn(M, N, T, generator=gen, dtype=torch.float64) * 3.0 + torch.linspace(8.0, 0.0, T, dtype=torch.float64)
    mask = torch.ones(M, N, T, dtype=torch.float64)
    if ragged:
        lengths = torch.randint(T // 3, T + 1, (M, N), generator=gen)
        mask = (torch.arange(T)[None, None, :] < lengths[..., None]).to(torch.float64)
        obs = torch.where(mask[..., None] > 0, obs, 5.0 + 3.0 * torch.rand(obs.shape, generator=gen, dtype=torch.float64))
        returns = torch.where(mask > 0, returns, 100.0 + 50.0 * torch.rand(returns.shape, generator=gen, dtype=torch.float64))
    return obs.to(dtype), returns.to(dtype), mask.to(dtype)


def exact_baseline_inputs(seed: int = 0, M: int = 2, N: int = 3, T: int = 100, d: int = 2):
    """Returns that are exactly φ(s, t)·w_i with a different w_i for every task."""
    gen = torch.Generator().manual_seed(seed)
    obs = torch.randn(M, N, T, d, generator=gen, dtype=torch.float64)
    mask = torch.ones(M, N, T, dtype=torch.float64)
    phi = policy_gradient.baseline_features(obs)
    w = torch.randn(M, phi.shape[-1], generator=gen, dtype=torch.float64) * 2.0
    returns = torch.einsum("mntf,mf->mnt", phi, w)
    return obs, returns, mask


_SCALE_OR_RIDGE = ("t = step / 100 and the ridge: w = (ΦᵀΦ + 1e-5·I)⁻¹ ΦᵀG. Your fit is what raw step numbers "
                   "(t not divided by 100) or a missing ridge give: both leave the time features unregularised, which "
                   "shows where they are tiny (short episodes).")
_BASELINE_FORMULA = ("for each task i separately: φ(s, t) = [s, s², t, t², t³, 1] (s clipped to ±10, t = step / 100), "
                     "w_i = (ΦᵀΦ + 1e-5·I)⁻¹ ΦᵀG over the steps with mask 1, values = φ·w_i.")


def _baseline_hint(got: np.ndarray, obs, returns, mask) -> str:
    keep = mask.detach().cpu().numpy() > 0

    def same(variant: np.ndarray, rtol: float = 1e-5) -> bool:
        scale = max(1.0, float(np.abs(variant[keep]).max())) if np.all(np.isfinite(variant[keep])) else 1.0
        return variant.shape == got.shape and bool(np.allclose(got[keep], variant[keep], rtol=rtol, atol=1e-6 * scale))

    candidates = [
        (dict(per_task=False), "one regression was fitted to all tasks together; fit a separate w_i for each task "
                               "(batch the solve over the first axis: Φ of shape (M, N·T, F))."),
        (dict(time=False), "the time features are missing: φ must include t, t² and t³ (t = step / 100), because the "
                           "return-to-go shrinks as the episode runs out, whatever the state."),
        (dict(mask_features=False, mask_returns=False), "the padded steps (mask 0) were used in the fit; leave them out, "
                                                        "e.g. multiply the rows of Φ and G by the mask."),
        (dict(mask_features=False), "the padded steps (mask 0) were fitted as returns of 0: multiply the features by the "
                                    "mask as well, so those rows drop out of ΦᵀΦ and ΦᵀG."),
        (dict(clip=None), "clip the observations to [-10, 10] before building the features."),
        (dict(time_offset=1), "the time feature is one step late: t = step / 100 with step = 0, 1, ..., T - 1 "
                              "(the first step is t = 0)."),
        (dict(time_scale=1.0), _SCALE_OR_RIDGE),
        (dict(reg=0.0), _SCALE_OR_RIDGE),
        (dict(reg=0.0, lstsq=True), _SCALE_OR_RIDGE),
    ]
    for kwargs, hint in candidates:
        if same(baseline_variant(obs, returns, mask, **kwargs)):
            return hint
    if same(baseline_variant(obs, returns, mask), rtol=1e-2):
        return ("close, but not to 5 digits. If you solved in float32, do the solve in float64 "
                "(observations.double() ...) and return values.to(returns.dtype): the normal equations of the t³ "
                "features are badly conditioned in float32. If you already did, compare your features and ridge "
                "with the formula: " + _BASELINE_FORMULA)
    return _BASELINE_FORMULA


def _call_baseline(fit_linear_baseline: Callable, obs, returns, mask, where: str) -> np.ndarray:
    inputs = (obs.clone(), returns.clone(), mask.clone())
    try:
        result = call_student(fit_linear_baseline, *inputs, name="fit_linear_baseline")
    except CheckFailure as error:
        if "raised" in str(error) and "singular" in str(error).lower():
            fail(f"{where}:\n{error}", hint="ΦᵀΦ is singular here (with constant observations s and s² are multiples "
                                            "of the constant feature): add the ridge, solve (ΦᵀΦ + 1e-5·I) w = ΦᵀG.")
        raise
    if not all(torch.equal(a, b) for a, b in zip(inputs, (obs, returns, mask))):
        fail(f"{where}: fit_linear_baseline changed its inputs in place.",
             hint="build new tensors (x = x * mask, not x *= mask).")
    expected_shape = tuple(returns.shape)
    if result is not None and hasattr(result, "shape") and tuple(result.shape) != expected_shape:
        M, N, T = expected_shape
        if tuple(result.shape) in ((M, N * T), (M * N * T,), (M, N * T, 1), (M, N, T, 1)):
            hint = "reshape the fitted values back to the shape of returns, (M, N, T)."
        elif tuple(result.shape) in ((M, 2 * obs.shape[-1] + 4), (M, 2 * obs.shape[-1] + 4, 1)):
            hint = "return the fitted values φ(s, t)·w_i at every step, not the weights w_i."
        else:
            hint = "one value per step: the same shape as returns, (M, N, T)."
        fail(f"{where}: the values have the wrong shape.", expected=expected_shape, got=tuple(result.shape), hint=hint)
    got = tensor_as_array(result, f"{where}: the values", shape=expected_shape) if not _has_nan(result) else None
    if got is None:
        hint = ("a plain least-squares solve breaks down when ΦᵀΦ is (nearly) singular, as it is when the "
                "observations are constant: add the ridge, (ΦᵀΦ + 1e-5·I) w = ΦᵀG, and solve in float64.")
        fail(f"{where}: the values contain NaN or infinite values.", hint=hint)
    return got


def _has_nan(value) -> bool:
    if value is None:
        return False
    try:
        array = value.detach().cpu().to(torch.float64).numpy() if isinstance(value, torch.Tensor) else np.asarray(value, float)
    except (TypeError, ValueError):
        return False
    return not bool(np.all(np.isfinite(array)))


def _expect_baseline(fit_linear_baseline: Callable, obs, returns, mask, where: str, rtol: float = 1e-5) -> np.ndarray:
    got = _call_baseline(fit_linear_baseline, obs, returns, mask, where)
    expected = policy_gradient.fit_linear_baseline(obs.double(), returns.double(), mask.double()).numpy()
    keep = mask.detach().cpu().numpy() > 0
    scale = max(1.0, float(np.abs(expected[keep]).max()))
    if not np.allclose(got[keep], expected[keep], rtol=rtol, atol=rtol * scale):
        index = np.unravel_index(np.argmax(np.where(keep, np.abs(got - expected), -1.0)), got.shape)
        fail(f"{where}: the fitted values are wrong at the steps with mask 1 (worst: task {index[0]}, trajectory "
             f"{index[1]}, step {index[2]}); the first steps of that trajectory:",
             expected=expected[index[0], index[1], :5], got=got[index[0], index[1], :5],
             hint=_baseline_hint(got, obs, returns, mask))
    return got


def check_fit_linear_baseline(fit_linear_baseline: Callable, seeds: Sequence[int] = (0,), hidden: bool = False) -> None:
    """Exact recovery, per-task fits, masked steps ignored, constant observations, random data."""
    # 1. returns that ARE a linear function of the features, with a different w_i per task
    obs, returns, mask = exact_baseline_inputs(seed=seeds[0])
    where = ("fit_linear_baseline on returns that are exactly φ(s, t)·w_i (a different w_i for each of M = 2 tasks, "
             "N = 3, T = 100): the fit must give them back")
    got = _expect_baseline(fit_linear_baseline, obs, returns, mask, where)
    if not np.allclose(got, returns.numpy(), rtol=1e-3, atol=1e-3):  # the ridge's effect is far smaller
        fail(f"{where}.", expected=returns.numpy()[0, 0, :5], got=got[0, 0, :5], hint=_BASELINE_FORMULA)
    # 2. task i's values depend on task i's data only
    obs, returns, mask = _baseline_inputs(seeds[0] + 1, M=3, N=4, T=20)
    where = "fit_linear_baseline on random data (M = 3 tasks, N = 4, T = 20)"
    before = _expect_baseline(fit_linear_baseline, obs, returns, mask, where)
    obs2, returns2 = obs.clone(), returns.clone()
    obs2[1:] = obs2[1:] * 3.0 + 1.0
    returns2[1:] = -2.0 * returns2[1:] + 7.0
    after = _call_baseline(fit_linear_baseline, obs2, returns2, mask, where + ", tasks 1 and 2 changed")
    if not np.allclose(before[0], after[0], rtol=1e-6, atol=1e-6):
        fail(f"{where}: changing the data of tasks 1 and 2 changed the values of task 0.",
             expected=before[0, 0, :5], got=after[0, 0, :5],
             hint="each task gets its own baseline, fitted on its own trajectories: one w_i per task, not one for all.")
    # 3. padded steps (mask 0, holding garbage) are left out
    obs, returns, mask = _baseline_inputs(seeds[0] + 2, M=2, N=5, T=30, ragged=True)
    _expect_baseline(fit_linear_baseline, obs, returns, mask,
                     "fit_linear_baseline on trajectories that end early (mask 0 after the end, where the "
                     "observations and returns are padding with large values)")
    # 4. constant observations: ΦᵀΦ is singular, only the ridge makes the solve well defined
    obs, returns, _ = _baseline_inputs(seeds[0] + 3, M=2, N=3, T=10)
    obs = torch.zeros_like(obs) + torch.tensor([0.3, -0.2], dtype=obs.dtype)
    mask = torch.ones_like(returns)
    _expect_baseline(fit_linear_baseline, obs, returns, mask,
                     "fit_linear_baseline with the same observation s = (0.3, -0.2) at every step (M = 2, N = 3, "
                     "T = 10), where ΦᵀΦ is singular without the ridge")
    # 5. the float32 tensors of a real batch: a random walk of positions and discounted returns
    gen = torch.Generator().manual_seed(seeds[0] + 4)
    steps = torch.randn(4, 10, 100, 2, generator=gen) * 0.05
    positions = steps.cumsum(dim=2)
    rewards = -positions.norm(dim=-1)
    mask = torch.ones(4, 10, 100)
    disc = policy_gradient.discounted_returns(rewards, mask, 0.99)
    _expect_baseline(fit_linear_baseline, positions, disc, mask,
                     "fit_linear_baseline on a float32 batch like the ones MAML trains on (M = 4, N = 10, T = 100)",
                     rtol=1e-3)
    cases = 5
    if hidden:
        for seed in seeds:
            for kwargs in (dict(M=1, N=6, T=50, d=3), dict(M=4, N=2, T=15, d=1, ragged=True),
                           dict(M=2, N=4, T=25, d=2, scale=8.0, ragged=True)):
                obs, returns, mask = _baseline_inputs(100 + seed, **kwargs)
                shape = f"M = {kwargs['M']}, N = {kwargs['N']}, T = {kwargs['T']}, d = {kwargs['d']}"
                extra = ", some observations beyond ±10" if kwargs.get("scale", 1.0) > 1 else ""
                extra += ", trajectories of different lengths" if kwargs.get("ragged") else ""
                _expect_baseline(fit_linear_baseline, obs, returns, mask,
                                 f"fit_linear_baseline on random data, seed {seed} ({shape}{extra})")
                cases += 1
    passed(f"fit_linear_baseline matches rllab's per-task ridge fit on {cases} batches "
           "(exact recovery, one fit per task, padding ignored, constant observations)")


def hidden_check_fit_linear_baseline(fit_linear_baseline: Callable) -> None:
    check_fit_linear_baseline(fit_linear_baseline, seeds=(1, 2, 3), hidden=True)


# -- exercise 2: the VPG loss -------------------------------------------------------------
def vpg_hand_case():
    """M = 2 tasks, N = 1 trajectory, T = 3 steps; task 1's last step is padding.

    task 0: Σ logπ·Â = (-1)(1) + (-2)(-1) + (-0.25)(2) = 0.5 over 3 steps  → L_0 = -0.5 / 3
    task 1: Σ mask·logπ·Â = (-1)(0.5) + (-1)(1) = -1.5 over 2 steps        → L_1 = 0.75
    """
    log_probs = torch.tensor([[[-1.0, -2.0, -0.25]], [[-1.0, -1.0, -3.0]]], dtype=torch.float64)
    advantages = torch.tensor([[[1.0, -1.0, 2.0]], [[0.5, 1.0, 4.0]]], dtype=torch.float64)
    mask = torch.tensor([[[1.0, 1.0, 1.0]], [[1.0, 1.0, 0.0]]], dtype=torch.float64)
    return log_probs, advantages, mask, np.array([-0.5 / 3.0, 0.75])


def _vpg_variants(log_probs: torch.Tensor, advantages: torch.Tensor, mask: torch.Tensor, expected: np.ndarray) -> dict:
    """Common wrong versions of -Σ mask·logπ·Â / Σ mask (over every axis but the task axis)."""
    dims = tuple(range(1, log_probs.dim()))
    per_step = log_probs * advantages
    return {
        "the sign: this is a loss to *minimise*, L = -Σ mask·logπ·Â / Σ mask, so that gradient descent on it "
        "raises the probability of actions with a positive advantage": -expected,
        "the padded steps count: multiply by the mask before summing, and divide by Σ mask":
            (-per_step.mean(dim=dims)).numpy(),
        "divide by the number of real steps of each task, Σ mask, not by N·T":
            (-(per_step * mask).sum(dim=dims) / per_step[0].numel()).numpy(),
        "average, not sum: divide by Σ mask": (-(per_step * mask).sum(dim=dims)).numpy(),
    }


def _expect_per_task(got, expected: np.ndarray, where: str, variants: dict, formula: str) -> None:
    if got is not None and hasattr(got, "shape") and tuple(got.shape) != expected.shape:
        hint = (f"return one loss per task, shape (M,) = {expected.shape}: reduce over every axis but the first "
                "(dim=(1, 2)), not over the tasks too." if tuple(got.shape) in ((), (1,)) else
                "one loss per task: sum over the trajectories and steps (dim=(1, 2)), keep the task axis.")
        fail(f"{where}: the loss has the wrong shape.", expected=expected.shape, got=tuple(got.shape), hint=hint)
    value = tensor_as_array(got, f"{where}: the loss", shape=expected.shape)
    if np.allclose(value, expected, rtol=1e-6, atol=1e-8):
        return
    hint = next((h for h, v in variants.items() if np.allclose(value, v, rtol=1e-6, atol=1e-8)), formula)
    fail(f"{where} is wrong.", expected=expected, got=value, hint=hint)


_VPG_FORMULA = "L_i = -Σ_{n,t} mask·logπ·Â / Σ_{n,t} mask, one value per task i."


def _vpg_case(vpg_loss: Callable, log_probs, advantages, mask, expected: np.ndarray, where: str) -> None:
    got = call_student(vpg_loss, log_probs.clone(), advantages.clone(), mask.clone(), name="vpg_loss")
    _expect_per_task(got, expected, where, _vpg_variants(log_probs, advantages, mask, expected),
                     _VPG_FORMULA)


def check_vpg_loss(vpg_loss: Callable, seeds: Sequence[int] = (0,)) -> None:
    log_probs, advantages, mask, expected = vpg_hand_case()
    _vpg_case(vpg_loss, log_probs, advantages, mask, expected,
              "vpg_loss on the hand-computed case (M = 2, N = 1, T = 3, task 1's last step padded)")
    for seed in seeds:
        gen = torch.Generator().manual_seed(seed)
        M, N, T = 3, 4, 6
        log_probs = torch.randn(M, N, T, generator=gen, dtype=torch.float64) - 1.0
        advantages = torch.randn(M, N, T, generator=gen, dtype=torch.float64)
        mask = (torch.rand(M, N, T, generator=gen, dtype=torch.float64) < 0.8).to(torch.float64)
        mask[:, :, 0] = 1.0
        _vpg_case(vpg_loss, log_probs, advantages, mask, policy_gradient.vpg_loss(log_probs, advantages, mask).numpy(),
                  f"vpg_loss on random (3, 4, 6) inputs, seed {seed}")
    # the gradient: into log π only, -mask·Â / Σ mask; none into the advantages
    log_probs, advantages, mask, _ = vpg_hand_case()
    log_probs.requires_grad_()
    advantages.requires_grad_()
    loss = call_student(vpg_loss, log_probs, advantages, mask, name="vpg_loss")
    if not (isinstance(loss, torch.Tensor) and loss.requires_grad):
        fail("vpg_loss on the hand-computed case: the loss carries no gradient to log_probs.",
             hint="compute it with torch operations on log_probs (no .item(), .numpy() or .detach() of log_probs): "
                  "its gradient is the policy gradient the inner step follows.")
    grad_lp, grad_adv = torch.autograd.grad(loss.sum(), [log_probs, advantages], allow_unused=True)
    if grad_adv is not None and float(grad_adv.abs().max()) > 0:
        fail("vpg_loss on the hand-computed case: a gradient flows into the advantages.",
             hint="the advantages are constants of the estimator (the returns and the baseline were computed from "
                  "the data): use advantages.detach() in the loss, so only log π is differentiated.")
    expected_grad = (-(advantages * mask) / mask.sum(dim=(1, 2), keepdim=True)).detach().numpy()
    got_grad = tensor_as_array(grad_lp if grad_lp is not None else torch.zeros_like(log_probs), "the gradient")
    if not np.allclose(got_grad, expected_grad, atol=1e-8):
        fail("vpg_loss on the hand-computed case: the gradient with respect to log_probs is wrong.",
             expected=expected_grad, got=got_grad, hint=_VPG_FORMULA)
    passed("vpg_loss gives one masked mean per task, in value and gradient, with the advantages held constant")


def hidden_check_vpg_loss(vpg_loss: Callable) -> None:
    check_vpg_loss(vpg_loss, seeds=(1, 2, 3))


# -- exercise 3: the inner step ---------------------------------------------------------------
# L_in(θ) = Σ a θ², so ∇L_in = 2 a θ and θ' = θ - 2 α a θ = (1 - 2 α a) θ.
# L_out(θ') = Σ c θ'² / 2, so ∇_θ' L_out = c θ' and, through the step, ∇_θ L_out = c θ' (1 - 2 α a).
HAND_THETA = {"w": [1.0, -2.0], "b": [0.5]}
HAND_A = {"w": [3.0, 0.5], "b": [2.0]}
HAND_C = {"w": [1.0, 2.0], "b": [-1.0]}
HAND_ALPHA = 0.1


def hand_inner_problem(alpha: float = HAND_ALPHA, tasks: int | None = None):
    """θ (leaves, or M per-task rows expanded from leaves as MAML does), and the losses' coefficients."""
    leaves = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in HAND_THETA.items()}
    a = {k: torch.tensor(v, dtype=torch.float64) for k, v in HAND_A.items()}
    c = {k: torch.tensor(v, dtype=torch.float64) for k, v in HAND_C.items()}
    if tasks is None:
        return leaves, leaves, a, c
    scale = torch.arange(1, tasks + 1, dtype=torch.float64)[:, None]  # task i's curvature is (i + 1)·a
    params = maml.per_task(leaves, tasks)
    return leaves, params, {k: v * scale for k, v in a.items()}, {k: v.expand(tasks, -1) for k, v in c.items()}


def _hand_expected(alpha: float, a: dict, c: dict) -> tuple[dict, dict, dict]:
    theta = {k: np.asarray(v) for k, v in HAND_THETA.items()}
    a = {k: v.numpy() for k, v in a.items()}
    c = {k: v.numpy() for k, v in c.items()}
    new = {k: (1 - 2 * alpha * a[k]) * theta[k] for k in theta}
    first = {k: c[k] * new[k] for k in theta}
    second = {k: first[k] * (1 - 2 * alpha * a[k]) for k in theta}
    return new, first, second


def _inner_call(inner_step: Callable, params: dict, loss: torch.Tensor, alpha: float, first_order: bool, where: str) -> dict:
    before = {k: v.detach().clone() for k, v in params.items()}
    try:
        result = call_student(inner_step, params, loss, alpha, first_order, name="inner_step")
    except CheckFailure as error:
        text = str(error)
        if "in-place" in text or "inplace" in text:
            hint = "build new tensors, θ' = {name: p - step_size * g ...}; do not modify params in place (p -= ...)."
        elif "NoneType" in text or ".grad" in text:
            hint = ("read the gradient with torch.autograd.grad(loss, list(params.values()), create_graph=...), not from "
                    "p.grad after loss.backward(): MAML's per-task parameters are not leaf tensors, so p.grad is None.")
        elif "does not require grad" in text:
            hint = "keep θ in the graph: do not detach the parameters before taking the gradient."
        else:
            raise
        fail(f"{where}:\n{text}", hint=hint)
    if not isinstance(result, dict):
        fail(f"{where}: inner_step must return a dict {{name: θ'}} like params; got {type(result).__name__}.",
             hint="return {name: p - step_size * g for (name, p), g in zip(params.items(), grads)}.")
    if set(result) != set(params):
        fail(f"{where}: the returned dict has the wrong keys.", expected=sorted(params), got=sorted(result),
             hint="keep the parameter names: θ' must plug into the policy exactly where θ was.")
    for k in params:
        if not torch.equal(params[k].detach(), before[k]):
            fail(f"{where}: params[{k!r}] was modified in place.",
                 hint="return new tensors θ - α∇L; the meta-gradient needs θ itself unchanged.")
        if not isinstance(result[k], torch.Tensor):
            fail(f"{where}: θ'[{k!r}] is a {type(result[k]).__name__}, not a tensor.",
                 hint="compute θ' with torch operations, so that it stays differentiable.")
    return result


def _check_hand_step(inner_step: Callable, alpha: float, tasks: int | None) -> None:
    shape = "θ = {w: (1, -2), b: (0.5)}" if tasks is None else f"θ expanded to {tasks} per-task rows (as MAML does)"
    where = f"inner_step on L(θ) = Σ a·θ² with a = {{w: (3, 0.5), b: (2)}}, {shape}, step size α = {alpha}"
    for first_order in (False, True):
        leaves, params, a, c = hand_inner_problem(alpha, tasks)
        new_exp, first_exp, second_exp = _hand_expected(alpha, a, c)
        inner_loss = sum((a[k] * params[k] ** 2).sum() for k in params)
        new = _inner_call(inner_step, params, inner_loss, alpha, first_order, f"{where}, first_order={first_order}")
        for k in params:
            got = tensor_as_array(new[k], f"{where}: θ'[{k!r}]", shape=tuple(params[k].shape))
            expected = np.broadcast_to(new_exp[k], got.shape)
            if np.allclose(got, expected, atol=1e-10):
                continue
            theta = np.broadcast_to(np.asarray(HAND_THETA[k]), got.shape)
            grad = 2 * a[k].numpy() * theta
            variants = {
                "the sign: a gradient step goes *down* the loss, θ' = θ - α∇L (you added the gradient)": theta + alpha * grad,
                "the step size is missing: θ' = θ - α∇L with α = step_size": theta - grad,
                "θ' must be the stepped parameters θ - α∇L, not θ": theta,
                "return θ' = θ - α∇L, not the step α∇L": alpha * grad,
                "return θ' = θ - α∇L, not the step -α∇L": -alpha * grad,
            }
            hint = next((h for h, v in variants.items() if np.allclose(got, v, atol=1e-10)), "θ' = θ - α ∇_θ L(θ).")
            fail(f"{where}, first_order={first_order}: θ'[{k!r}] is wrong (∇L = 2aθ, so θ' = (1 - 2αa)θ).",
                 expected=expected, got=got, hint=hint)
        # the meta-gradient of L_out(θ') = Σ c θ'² / 2 with respect to θ, through the step
        outer = sum((c[k] * new[k] ** 2 / 2).sum() for k in new)
        if not (isinstance(outer, torch.Tensor) and outer.requires_grad):
            hint = ("with first_order=True only the *gradient* is a constant: θ' = θ - α·(∇L, detached) still depends on "
                    "θ through θ itself (∂θ'/∂θ = I), so do not detach θ'." if first_order else
                    "θ' must stay a differentiable function of θ: do not detach θ' or the gradient, and "
                    "use torch.autograd.grad(..., create_graph=True).")
            fail(f"{where}, first_order={first_order}: no gradient flows from θ' back to θ.", hint=hint)
        grads = torch.autograd.grad(outer, [leaves[k] for k in HAND_THETA], allow_unused=True)
        for k, g in zip(HAND_THETA, grads):
            got = tensor_as_array(g if g is not None else torch.zeros_like(leaves[k]), f"{where}: the meta-gradient of {k!r}")
            exp_first, exp_second = first_exp[k], second_exp[k]
            if tasks is not None:
                exp_first, exp_second = exp_first.sum(0), exp_second.sum(0)
            expected = exp_first if first_order else exp_second
            if np.allclose(got, expected, atol=1e-10):
                continue
            what = (f"{where}, first_order={first_order}: the gradient of L_out(θ') = Σ c·θ'²/2 (c = {{w: (1, 2), b: (-1)}}) "
                    f"with respect to θ[{k!r}] through your step is wrong")
            if not first_order and np.allclose(got, exp_first, atol=1e-10):
                hint = ("this is the first-order gradient ∇L_out(θ'): the second-order term is lost. The inner gradient "
                        "must itself be differentiable, torch.autograd.grad(loss, ..., create_graph=not first_order), "
                        "so that ∂θ'/∂θ = I - α∇²L(θ) = 1 - 2αa here.")
            elif first_order and np.allclose(got, exp_second, atol=1e-10):
                hint = ("with first_order=True the gradient ∇L(θ) must be a constant (create_graph=False, or detach it), "
                        "so that ∂θ'/∂θ = I and the meta-gradient is ∇L_out(θ') alone.")
            elif np.allclose(got, 0.0):
                hint = "no gradient reaches θ: θ' must be computed from θ (do not detach it)."
            else:
                hint = "θ' = θ - α∇L(θ); the meta-gradient is ∇L_out(θ')·(I - α∇²L(θ)), or ∇L_out(θ') when first_order."
            fail(f"{what}.", expected=expected, got=got, hint=hint)


def _check_policy_step(inner_step: Callable, seed: int, tasks: int = 3) -> None:
    """A Gaussian MLP policy on random steps: θ' and the meta-gradient against the reference, both orders."""
    torch.manual_seed(seed)
    policy = maml.GaussianMLPPolicy(2, 2, hidden=(8, 8)).double()
    gen = torch.Generator().manual_seed(seed)
    obs = torch.randn(tasks, 4, 5, 2, generator=gen, dtype=torch.float64)
    actions = torch.randn(tasks, 4, 5, 2, generator=gen, dtype=torch.float64)
    advantages = torch.randn(tasks, 4, 5, generator=gen, dtype=torch.float64)
    mask = torch.ones(tasks, 4, 5, dtype=torch.float64)
    episodes = policy_gradient.Episodes(obs, actions, torch.zeros_like(mask), mask)
    post_adv = torch.randn(tasks, 4, 5, generator=gen, dtype=torch.float64)
    where = f"inner_step on the VPG loss of a small Gaussian MLP policy, {tasks} tasks, seed {seed}"
    for first_order in (False, True):
        results = []
        for step in (maml.inner_step, inner_step):
            theta = {k: v for k, v in policy.named_parameters()}
            params = maml.per_task(theta, tasks)
            loss = policy_gradient.vpg_loss(maml.log_probs(policy, params, episodes), advantages, mask).sum()
            if step is maml.inner_step:
                new = step(params, loss, 0.1, first_order)
            else:
                new = _inner_call(step, params, loss, 0.1, first_order, f"{where}, first_order={first_order}")
            outer = policy_gradient.vpg_loss(maml.log_probs(policy, new, episodes), post_adv, mask).sum()
            grads = torch.autograd.grad(outer, list(theta.values()), allow_unused=True)
            results.append((new, grads))
        (ref_new, ref_grads), (new, grads) = results
        for (k, v), ref_v in zip(new.items(), ref_new.values()):
            got = tensor_as_array(new[k], f"{where}: θ'[{k!r}]", shape=tuple(ref_new[k].shape))
            if not np.allclose(got, ref_new[k].detach().numpy(), atol=1e-8):
                fail(f"{where}, first_order={first_order}: θ'[{k!r}] is wrong.", expected=ref_new[k].detach().numpy().ravel()[:4],
                     got=got.ravel()[:4], hint="θ' = θ - α ∇_θ L(θ), with α = step_size.")
        for (k, _), g, ref_g in zip(policy.named_parameters(), grads, ref_grads):
            got = tensor_as_array(g if g is not None else torch.zeros_like(ref_g), f"{where}: the meta-gradient of {k!r}")
            if not np.allclose(got, ref_g.numpy(), rtol=1e-6, atol=1e-9):
                fail(f"{where}, first_order={first_order}: the meta-gradient with respect to {k!r} is wrong.",
                     expected=ref_g.numpy().ravel()[:4], got=got.ravel()[:4],
                     hint="create_graph=not first_order in torch.autograd.grad, and no detach of θ'.")


def check_inner_step(inner_step: Callable, seeds: Sequence[int] = (0,), step_sizes: Sequence[float] = (HAND_ALPHA,)) -> None:
    for alpha in step_sizes:
        _check_hand_step(inner_step, alpha, tasks=None)
    _check_hand_step(inner_step, HAND_ALPHA, tasks=2)
    for seed in seeds:
        _check_policy_step(inner_step, seed)
    passed("inner_step gives θ' = θ - α∇L, differentiable through the gradient (second order) unless first_order")


def hidden_check_inner_step(inner_step: Callable) -> None:
    check_inner_step(inner_step, seeds=(1, 2), step_sizes=(0.05, 0.3))


# -- exercise 4: conjugate gradient ---------------------------------------------------------------
HAND_H = [[4.0, 1.0], [1.0, 3.0]]
HAND_B = [1.0, 2.0]


class CountingHVP:
    """v ↦ H v for a fixed matrix, counting the calls."""

    def __init__(self, H: torch.Tensor) -> None:
        self.H = H
        self.calls = 0

    def __call__(self, v: torch.Tensor) -> torch.Tensor:
        self.calls += 1
        return self.H @ v


def cg_variant(H: torch.Tensor, b: torch.Tensor, iters: int, *, beta: str = "fr", alpha: str = "rr/pHp",
               start: str = "zero", out: str = "x", stop: bool = True) -> np.ndarray:
    """Conjugate gradient with switchable parts; the defaults are the reference."""
    x = b.clone() if start == "b" else torch.zeros_like(b)
    r, p = b.clone(), b.clone()
    rr = r @ r
    for _ in range(iters):
        if stop and rr < 1e-10:
            break
        hp = H @ p
        a = {"rr/pHp": rr / (p @ hp), "rr/pp": rr / (p @ p), "pHp/rr": (p @ hp) / rr}[alpha]
        x = x + a * p
        r = r - a * hp
        rr_new = r @ r
        b_coef = {"fr": rr_new / rr, "zero": torch.zeros(()), "inverse": rr / rr_new, "plus_one": 1.0 + rr_new / rr}[beta]
        p = r + b_coef * p
        rr = rr_new
    return {"x": x, "r": r, "p": p}[out].numpy()


def _cg_hint(got: np.ndarray, H, b, iters: int) -> str:
    candidates = [
        (dict(out="r"), "that is the residual r = b - Hx; return the solution x."),
        (dict(out="p"), "that is the search direction p; return the solution x."),
        (dict(start="b"), "start from x = 0 (then the residual is r = b and the first direction p = b), not from x = b."),
        (dict(beta="zero"), "the new direction must be H-conjugate to the old one: p ← r + β p with β = r_newᵀr_new / rᵀr "
                            "(β = 0 is steepest descent, which does not finish in n steps)."),
        (dict(beta="inverse"), "β = r_newᵀr_new / rᵀr: the new residual's squared norm over the old one, not the inverse."),
        (dict(alpha="rr/pp"), "the step along p is α = rᵀr / pᵀHp (the exact line minimum of the quadratic), not rᵀr / pᵀp."),
        (dict(alpha="pHp/rr"), "the step along p is α = rᵀr / pᵀHp, not its inverse."),
    ]
    for kwargs, hint in candidates:
        variant = cg_variant(H, b, iters, **kwargs)
        if variant.shape == got.shape and np.allclose(got, variant, rtol=1e-6, atol=1e-9):
            return hint
    return ("from x = 0, r = p = b: α = rᵀr / pᵀHp, x ← x + αp, r ← r - αHp, β = r_newᵀr_new / rᵀr, p ← r + βp; "
            "stop early when rᵀr < 1e-10.")


def _cg_case(conjugate_gradient: Callable, H: torch.Tensor, b: torch.Tensor, iters: int, where: str,
             expected: np.ndarray | None = None) -> np.ndarray:
    hvp = CountingHVP(H)
    b_in = b.clone()
    result = call_student(conjugate_gradient, hvp, b_in, iters, name="conjugate_gradient")
    if not torch.equal(b_in, b):
        fail(f"{where}: b was modified in place.", hint="work on copies: r = b.clone(), p = b.clone().")
    if hvp.calls > iters:
        fail(f"{where}: hvp was called {hvp.calls} times for iters = {iters}.",
             hint="one Hessian-vector product per iteration, Hp (each costs a backward pass through the meta-objective): "
                  "update the residual as r ← r - αHp instead of recomputing b - Hx.")
    if result is not None and _has_nan(result):
        fail(f"{where}: the solution contains NaN or infinite values (rᵀr reached 0 and was divided by).",
             hint="stop early when the residual vanishes: `if r @ r < 1e-10: break` at the top of each iteration.")
    got = tensor_as_array(result, f"{where}: x", shape=tuple(b.shape))
    if expected is None:
        expected = trpo.conjugate_gradient(H.__matmul__, b.clone(), iters).numpy()
    if not np.allclose(got, expected, rtol=1e-6, atol=1e-9):
        fail(f"{where}: x is wrong.", expected=expected, got=got, hint=_cg_hint(got, H, b, iters))
    return got


def _spd(n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    A = torch.randn(n, n, generator=gen, dtype=torch.float64)
    H = A @ A.T / n + 0.2 * torch.eye(n, dtype=torch.float64)
    return H, torch.randn(n, generator=gen, dtype=torch.float64)


def check_conjugate_gradient(conjugate_gradient: Callable, seeds: Sequence[int] = (0,), sizes: Sequence[int] = (6,)) -> None:
    H, b = torch.tensor(HAND_H, dtype=torch.float64), torch.tensor(HAND_B, dtype=torch.float64)
    _cg_case(conjugate_gradient, H, b, 1, "conjugate_gradient on H = [[4, 1], [1, 3]], b = (1, 2), iters = 1 "
             "(one step from x = 0: α = bᵀb / bᵀHb = 5/20, x = αb)", np.array([0.25, 0.5]))
    _cg_case(conjugate_gradient, H, b, 2, "conjugate_gradient on H = [[4, 1], [1, 3]], b = (1, 2), iters = 2 "
             "(exact after n = 2 steps: x = H⁻¹b = (1/11, 7/11))", np.array([1 / 11, 7 / 11]))
    _cg_case(conjugate_gradient, H, b, 10, "conjugate_gradient on the same 2x2 system with iters = 10 (the residual "
             "is 0 after 2 steps)", np.array([1 / 11, 7 / 11]))
    _cg_case(conjugate_gradient, H, torch.zeros(2, dtype=torch.float64), 5,
             "conjugate_gradient with b = 0 (the solution is x = 0)", np.zeros(2))
    cases = 4
    for seed in seeds:
        for n in sizes:
            H, b = _spd(n, seed)
            exact = torch.linalg.solve(H, b).numpy()
            _cg_case(conjugate_gradient, H, b, n, f"conjugate_gradient on a random {n}x{n} SPD system, seed {seed}, "
                     f"iters = {n} (exact after n steps)", exact)
            k = max(1, n // 2)
            _cg_case(conjugate_gradient, H, b, k, f"conjugate_gradient on a random {n}x{n} SPD system, seed {seed}, "
                     f"stopped after iters = {k} steps")
            cases += 2
    passed(f"conjugate_gradient matches CG's iterates on {cases} systems, with one hvp per iteration")


def hidden_check_conjugate_gradient(conjugate_gradient: Callable) -> None:
    check_conjugate_gradient(conjugate_gradient, seeds=(1, 2), sizes=(3, 10))


# -- exercise 5: TRPO's surrogate ------------------------------------------------------------------
def surrogate_hand_case():
    """M = 2, N = 1, T = 3, old log π = 0 so the ratios are exp(new log π); task 1's last step is padding.

    task 0: ratios (2, 1, 0.5), Â = (1, -1, 2): Σ ratio·Â = 2 - 1 + 1 = 2 over 3 steps → -2/3
    task 1: ratios (1, 3, ·),   Â = (0.5, 1, ·): Σ = 0.5 + 3 = 3.5 over 2 steps        → -1.75
    """
    new = torch.log(torch.tensor([[[2.0, 1.0, 0.5]], [[1.0, 3.0, 1.0]]], dtype=torch.float64))
    old = torch.zeros_like(new)
    advantages = torch.tensor([[[1.0, -1.0, 2.0]], [[0.5, 1.0, 4.0]]], dtype=torch.float64)
    mask = torch.tensor([[[1.0, 1.0, 1.0]], [[1.0, 1.0, 0.0]]], dtype=torch.float64)
    return new, old, advantages, mask, np.array([-2.0 / 3.0, -1.75])


_SURROGATE_FORMULA = "L_i = -Σ_{n,t} mask·exp(new_log_probs - old_log_probs)·Â / Σ_{n,t} mask, one value per task i."


def _surrogate_case(trpo_surrogate: Callable, new, old, advantages, mask, where: str) -> None:
    expected = maml.trpo_surrogate(new, old, advantages, mask).detach().numpy()
    got = call_student(trpo_surrogate, new.clone(), old.clone(), advantages.clone(), mask.clone(), name="trpo_surrogate")
    dims = (1, 2)
    ratio = torch.exp(new - old)
    count = mask.sum(dim=dims)
    variants = {
        "the ratio of probabilities π/π_old = exp(new_log_probs - old_log_probs), not the difference of "
        "log-probabilities": (-((new - old) * advantages * mask).sum(dim=dims) / count).numpy(),
        "old and new are swapped: the ratio is π_new/π_old = exp(new_log_probs - old_log_probs)":
            (-(torch.exp(old - new) * advantages * mask).sum(dim=dims) / count).numpy(),
        "the sign: this is a loss to *minimise*, the negative of the surrogate advantage": -expected,
        "the padded steps count: multiply by the mask and divide by Σ mask": (-(ratio * advantages).mean(dim=dims)).numpy(),
        "divide by the number of real steps of each task, Σ mask, not by N·T":
            (-(ratio * advantages * mask).sum(dim=dims) / new[0].numel()).numpy(),
    }
    _expect_per_task(got, expected, where, variants, _SURROGATE_FORMULA)


def check_trpo_surrogate(trpo_surrogate: Callable, seeds: Sequence[int] = (0,)) -> None:
    new, old, advantages, mask, expected = surrogate_hand_case()
    assert np.allclose(maml.trpo_surrogate(new, old, advantages, mask).numpy(), expected)
    _surrogate_case(trpo_surrogate, new, old, advantages, mask,
                    "trpo_surrogate on the hand-computed case (M = 2, N = 1, T = 3, old log π = 0, task 1's last step padded)")
    for seed in seeds:
        gen = torch.Generator().manual_seed(seed)
        shape = (3, 4, 6)
        old = torch.randn(shape, generator=gen, dtype=torch.float64) - 1.0
        new = old + 0.3 * torch.randn(shape, generator=gen, dtype=torch.float64)
        advantages = torch.randn(shape, generator=gen, dtype=torch.float64)
        mask = (torch.rand(shape, generator=gen, dtype=torch.float64) < 0.8).to(torch.float64)
        mask[:, :, 0] = 1.0
        _surrogate_case(trpo_surrogate, new, old, advantages, mask, f"trpo_surrogate on random (3, 4, 6) inputs, seed {seed}")
    # the gradient with respect to the new log-probabilities: -mask·ratio·Â / Σ mask
    new, old, advantages, mask, _ = surrogate_hand_case()
    new.requires_grad_()
    loss = call_student(trpo_surrogate, new, old, advantages, mask, name="trpo_surrogate")
    if not (isinstance(loss, torch.Tensor) and loss.requires_grad):
        fail("trpo_surrogate on the hand-computed case: the loss carries no gradient to new_log_probs.",
             hint="compute it with torch operations on new_log_probs: TRPO differentiates it through the adapted "
                  "policy back to θ.")
    (grad,) = torch.autograd.grad(loss.sum(), [new], allow_unused=True)
    expected_grad = (-(torch.exp(new - old) * advantages * mask) / mask.sum(dim=(1, 2), keepdim=True)).detach().numpy()
    got_grad = tensor_as_array(grad if grad is not None else torch.zeros_like(new), "the gradient")
    if not np.allclose(got_grad, expected_grad, atol=1e-8):
        fail("trpo_surrogate on the hand-computed case: the gradient with respect to new_log_probs is wrong.",
             expected=expected_grad, got=got_grad, hint=_SURROGATE_FORMULA)
    passed("trpo_surrogate gives -E[π/π_old · Â] per task (masked mean), in value and gradient")


def hidden_check_trpo_surrogate(trpo_surrogate: Callable) -> None:
    check_trpo_surrogate(trpo_surrogate, seeds=(1, 2, 3))

