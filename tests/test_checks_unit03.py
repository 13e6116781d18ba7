"""The unit-03 checks accept correct code and name the mistake in wrong code."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from metarl_course import maml, policy_gradient, trpo
from metarl_course.checks import CheckFailure
from grading_harness import assert_refuses_reference_and_unimplemented
from metarl_course.checks import unit03 as checks


# -- exercise 1: fit_linear_baseline ------------------------------------------------------------
def baseline_with(per_task=True, time=True, time_scale=100.0, reg=1e-5, clip=10.0, mask_features=True,
                  mask_returns=True, dtype=torch.float64, solver="solve"):
    """A student's baseline, with one ingredient switched to a common mistake."""
    def fit_linear_baseline(observations, returns, mask):
        M, N, T, _ = observations.shape
        obs = observations.to(dtype)
        if clip is not None:
            obs = obs.clamp(-clip, clip)
        t = (torch.arange(T, dtype=dtype) / time_scale).expand(M, N, T)[..., None]
        columns = [obs, obs**2] + ([t, t**2, t**3] if time else []) + [torch.ones_like(t)]
        phi = torch.cat(columns, dim=-1)
        m = mask.to(dtype)[..., None]
        phi_fit = phi * m if mask_features else phi
        g = (returns.to(dtype) * mask.to(dtype) if mask_returns else returns.to(dtype))
        groups = M if per_task else 1
        P, G = phi_fit.reshape(groups, -1, phi.shape[-1]), g.reshape(groups, -1, 1)
        if solver == "solve":
            w = torch.linalg.solve(P.transpose(1, 2) @ P + reg * torch.eye(P.shape[-1], dtype=dtype), P.transpose(1, 2) @ G)
        elif solver == "lstsq":  # ridge as extra rows: [Φ; √reg I] w ≈ [G; 0]
            F = P.shape[-1]
            P_aug = torch.cat([P, (reg ** 0.5) * torch.eye(F, dtype=dtype).expand(groups, F, F)], dim=1)
            G_aug = torch.cat([G, torch.zeros(groups, F, 1, dtype=dtype)], dim=1)
            w = torch.linalg.lstsq(P_aug, G_aug).solution
        else:  # plain least squares, no ridge
            w = torch.linalg.pinv(P) @ G
        return (phi.reshape(groups, -1, phi.shape[-1]) @ w).reshape(M, N, T).to(returns.dtype)
    return fit_linear_baseline


def numpy_loop_baseline(observations, returns, mask):
    """A different, equally correct route: numpy, one task at a time, only the real steps."""
    obs, ret, m = observations.numpy().astype(float), returns.numpy().astype(float), mask.numpy() > 0
    M, N, T, _ = obs.shape
    values = np.zeros((M, N, T))
    t = np.broadcast_to(np.arange(T) / 100.0, (N, T))[..., None]
    for i in range(M):
        s = np.clip(obs[i], -10, 10)
        phi = np.concatenate([s, s**2, t, t**2, t**3, np.ones_like(t)], axis=-1)
        X, y = phi[m[i]], ret[i][m[i]]
        w = np.linalg.solve(X.T @ X + 1e-5 * np.eye(X.shape[1]), X.T @ y)
        values[i] = phi @ w
    return torch.as_tensor(values, dtype=returns.dtype)


def test_the_exact_case_is_exact_and_the_reference_recovers_it():
    obs, returns, mask = checks.exact_baseline_inputs()
    np.testing.assert_allclose(policy_gradient.fit_linear_baseline(obs, returns, mask).numpy(), returns.numpy(), rtol=1e-3, atol=1e-3)
    ragged = checks._baseline_inputs(2, ragged=True)
    np.testing.assert_allclose(checks.baseline_variant(*ragged), policy_gradient.fit_linear_baseline(*ragged).numpy(), atol=1e-9)


@pytest.mark.parametrize("student", [baseline_with(), baseline_with(solver="lstsq"), numpy_loop_baseline,
                                     lambda o, r, m: policy_gradient.fit_linear_baseline(o, r, m)])
def test_correct_baselines_pass(student):
    checks.check_fit_linear_baseline(student)
    checks.hidden_check_fit_linear_baseline(student)


@pytest.mark.parametrize("student, hint", [
    (baseline_with(per_task=False), "one regression was fitted to all tasks"),
    (baseline_with(time=False), "time features are missing"),
    (baseline_with(mask_features=False, mask_returns=False), "padded steps \\(mask 0\\) were used"),
    (baseline_with(mask_features=False), "fitted as returns of 0"),
    (baseline_with(reg=0.0), "ridge"),
    (baseline_with(solver="pinv"), "ridge"),
    (baseline_with(time_scale=1.0), "t = step / 100"),
    (lambda o, r, m: baseline_with()(o, r, m).reshape(r.shape[0], -1), "reshape the fitted values back"),
    (lambda o, r, m: None, "returned None"),
])
def test_baseline_mistakes_are_named(student, hint):
    with pytest.raises(CheckFailure, match=hint):
        checks.check_fit_linear_baseline(student)


def test_no_clipping_is_caught_by_the_hidden_check_only():
    checks.check_fit_linear_baseline(baseline_with(clip=None))
    with pytest.raises(CheckFailure, match="clip the observations"):
        checks.hidden_check_fit_linear_baseline(baseline_with(clip=None))


def test_a_float32_solve_passes_on_these_well_conditioned_batches():
    checks.check_fit_linear_baseline(baseline_with(dtype=torch.float32))


def test_baseline_that_changes_its_inputs_is_refused():
    def in_place(observations, returns, mask):
        values = baseline_with()(observations, returns, mask)
        returns.mul_(mask)
        returns += 1.0
        return values
    with pytest.raises(CheckFailure, match="in place"):
        checks.check_fit_linear_baseline(in_place)


# -- exercise 2: vpg_loss ---------------------------------------------------------------------
def vpg_with(sign=-1.0, reduce="masked", detach=True):
    def vpg_loss(log_probs, advantages, mask):
        adv = advantages.detach() if detach else advantages
        terms = log_probs * adv
        if reduce == "masked":
            return sign * (terms * mask).sum(dim=(1, 2)) / mask.sum(dim=(1, 2))
        if reduce == "all_tasks":
            return sign * (terms * mask).sum() / mask.sum()
        if reduce == "no_mask":
            return sign * terms.mean(dim=(1, 2))
        if reduce == "n_t":
            return sign * (terms * mask).sum(dim=(1, 2)) / terms[0].numel()
        if reduce == "sum":
            return sign * (terms * mask).sum(dim=(1, 2))
    return vpg_loss


def test_the_hand_vpg_case_is_right():
    log_probs, advantages, mask, expected = checks.vpg_hand_case()
    np.testing.assert_allclose(policy_gradient.vpg_loss(log_probs, advantages, mask).numpy(), expected)


def test_correct_vpg_losses_pass():
    for student in (vpg_with(), lambda lp, a, m: policy_gradient.vpg_loss(lp, a, m)):
        checks.check_vpg_loss(student)
        checks.hidden_check_vpg_loss(student)


@pytest.mark.parametrize("student, hint", [
    (vpg_with(sign=1.0), "the sign"),
    (vpg_with(reduce="all_tasks"), "one loss per task"),
    (vpg_with(reduce="no_mask"), "padded steps count"),
    (vpg_with(reduce="n_t"), "not by N·T"),
    (vpg_with(reduce="sum"), "average, not sum"),
    (vpg_with(detach=False), "gradient flows into the advantages"),
    (lambda lp, a, m: vpg_with()(lp.detach(), a, m), "no gradient to log_probs"),
    (lambda lp, a, m: None, "returned None"),
])
def test_vpg_mistakes_are_named(student, hint):
    with pytest.raises(CheckFailure, match=hint):
        checks.check_vpg_loss(student)


# -- exercise 3: inner_step ----------------------------------------------------------------------
def inner_with(sign=-1.0, create_graph="second", step=True, detach=False, via_backward=False, in_place=False):
    def inner_step(params, loss, step_size, first_order=False):
        graph = {"second": not first_order, "never": False, "always": True}[create_graph]
        if via_backward:
            loss.backward(create_graph=graph)
            grads = [p.grad for p in params.values()]
        else:
            grads = torch.autograd.grad(loss, list(params.values()), create_graph=graph)
        alpha = step_size if step else 1.0
        if in_place:
            for p, g in zip(params.values(), grads):
                p.sub_(alpha * g)
            return params
        new = {name: p + sign * alpha * g for (name, p), g in zip(params.items(), grads)}
        return {k: v.detach() for k, v in new.items()} if detach else new
    return inner_step


def test_the_hand_inner_problem_is_right():
    leaves, params, a, c = checks.hand_inner_problem()
    new = maml.inner_step(params, sum((a[k] * params[k] ** 2).sum() for k in params), 0.1)
    np.testing.assert_allclose(new["w"].detach().numpy(), [0.4, -1.8])
    np.testing.assert_allclose(new["b"].detach().numpy(), [0.3])
    outer = sum((c[k] * new[k] ** 2 / 2).sum() for k in new)
    grads = torch.autograd.grad(outer, [leaves["w"], leaves["b"]])
    np.testing.assert_allclose(grads[0].numpy(), [0.4 * 0.4, -3.6 * 0.9])  # c θ' (1 - 2αa)
    np.testing.assert_allclose(grads[1].numpy(), [-0.3 * 0.6])


def first_order_by_detaching_the_gradient(params, loss, step_size, first_order=False):
    grads = torch.autograd.grad(loss, list(params.values()), create_graph=True)
    if first_order:
        grads = [g.detach() for g in grads]
    return {name: p - step_size * g for (name, p), g in zip(params.items(), grads)}


def test_correct_inner_steps_pass():
    for student in (inner_with(), first_order_by_detaching_the_gradient, lambda *a: maml.inner_step(*a)):
        checks.check_inner_step(student)
        checks.hidden_check_inner_step(student)


@pytest.mark.parametrize("student, hint", [
    (inner_with(sign=1.0), "you added the gradient"),
    (inner_with(step=False), "step size is missing"),
    (inner_with(create_graph="never"), "second-order term is lost"),
    (inner_with(create_graph="always"), "with first_order=True the gradient"),
    (inner_with(detach=True), "no gradient flows from θ' back to θ"),
    (inner_with(via_backward=True), "not leaf tensors"),
    (inner_with(in_place=True), "in place"),
    (lambda params, loss, step_size, first_order=False: list(inner_with()(params, loss, step_size, first_order).values()),
     "must return a dict"),
    (lambda params, loss, step_size, first_order=False: {k + "_new": v for k, v in inner_with()(params, loss, step_size, first_order).items()},
     "wrong keys"),
])
@pytest.mark.filterwarnings("ignore::UserWarning")  # torch warns about loss.backward(create_graph=True) and .grad
def test_inner_step_mistakes_are_named(student, hint):
    with pytest.raises(CheckFailure, match=hint):
        checks.check_inner_step(student)


# -- exercise 4: conjugate_gradient ---------------------------------------------------------------
def cg_with(out="x", start="zero", beta="fr", alpha="rr/pHp", stop=True, recompute_residual=False):
    def conjugate_gradient(hvp, b, iters):
        x = b.clone() if start == "b" else torch.zeros_like(b)
        r, p = b.clone(), b.clone()
        rr = r @ r
        for _ in range(iters):
            if stop and rr < 1e-10:
                break
            hp = hvp(p)
            a = {"rr/pHp": rr / (p @ hp), "rr/pp": rr / (p @ p)}[alpha]
            x = x + a * p
            r = b - hvp(x) if recompute_residual else r - a * hp
            rr_new = r @ r
            p = r + {"fr": rr_new / rr, "zero": 0.0, "inverse": rr / rr_new}[beta] * p
            rr = rr_new
        return {"x": x, "r": r, "p": p}[out]
    return conjugate_gradient


def test_the_hand_cg_case_is_right():
    H, b = torch.tensor(checks.HAND_H, dtype=torch.float64), torch.tensor(checks.HAND_B, dtype=torch.float64)
    np.testing.assert_allclose(trpo.conjugate_gradient(H.__matmul__, b, 1).numpy(), [0.25, 0.5])
    np.testing.assert_allclose(trpo.conjugate_gradient(H.__matmul__, b, 2).numpy(), [1 / 11, 7 / 11])


def test_correct_cg_passes():
    for student in (cg_with(), lambda hvp, b, iters: trpo.conjugate_gradient(hvp, b, iters)):
        checks.check_conjugate_gradient(student)
        checks.hidden_check_conjugate_gradient(student)


@pytest.mark.parametrize("student, hint", [
    (cg_with(out="r"), "that is the residual"),
    (cg_with(start="b"), "start from x = 0"),
    (cg_with(beta="zero"), "steepest descent"),
    (cg_with(beta="inverse"), "not the inverse"),
    (cg_with(alpha="rr/pp"), "not rᵀr / pᵀp"),
    (cg_with(stop=False), "stop early when the residual vanishes"),
    (cg_with(recompute_residual=True), "hvp was called"),
    (lambda hvp, b, iters: None, "returned None"),
])
def test_cg_mistakes_are_named(student, hint):
    with pytest.raises(CheckFailure, match=hint):
        checks.check_conjugate_gradient(student)


# -- exercise 5: trpo_surrogate --------------------------------------------------------------------
def surrogate_with(ratio="ratio", sign=-1.0, reduce="masked"):
    def trpo_surrogate(new_log_probs, old_log_probs, advantages, mask):
        r = {"ratio": torch.exp(new_log_probs - old_log_probs), "log": new_log_probs - old_log_probs,
             "swapped": torch.exp(old_log_probs - new_log_probs)}[ratio]
        terms = r * advantages
        if reduce == "masked":
            return sign * (terms * mask).sum(dim=(1, 2)) / mask.sum(dim=(1, 2))
        if reduce == "all_tasks":
            return sign * (terms * mask).sum() / mask.sum()
        if reduce == "no_mask":
            return sign * terms.mean(dim=(1, 2))
    return trpo_surrogate


def test_the_hand_surrogate_case_is_right():
    new, old, adv, mask, expected = checks.surrogate_hand_case()
    np.testing.assert_allclose(maml.trpo_surrogate(new, old, adv, mask).numpy(), expected)


def test_correct_surrogates_pass():
    for student in (surrogate_with(), lambda *a: maml.trpo_surrogate(*a)):
        checks.check_trpo_surrogate(student)
        checks.hidden_check_trpo_surrogate(student)


@pytest.mark.parametrize("student, hint", [
    (surrogate_with(ratio="log"), "not the difference of log-probabilities"),
    (surrogate_with(ratio="swapped"), "old and new are swapped"),
    (surrogate_with(sign=1.0), "the sign"),
    (surrogate_with(reduce="no_mask"), "padded steps count"),
    (surrogate_with(reduce="all_tasks"), "one loss per task"),
    (lambda n, o, a, m: surrogate_with()(n.detach(), o, a, m), "no gradient to new_log_probs"),
])
def test_surrogate_mistakes_are_named(student, hint):
    with pytest.raises(CheckFailure, match=hint):
        checks.check_trpo_surrogate(student)


# -- every check refuses the reference and an unimplemented function -------------------------------
@pytest.mark.parametrize("check, reference", [
    (checks.check_fit_linear_baseline, policy_gradient.fit_linear_baseline),
    (checks.check_vpg_loss, policy_gradient.vpg_loss),
    (checks.check_inner_step, maml.inner_step),
    (checks.check_conjugate_gradient, trpo.conjugate_gradient),
    (checks.check_trpo_surrogate, maml.trpo_surrogate),
])
def test_reference_and_unimplemented_are_refused(check, reference):
    assert_refuses_reference_and_unimplemented(check, reference)
