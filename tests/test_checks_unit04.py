"""The unit-04 checks accept correct code and name the mistake in wrong code."""

from __future__ import annotations

import time

import numpy as np
import pytest
import torch

from metarl_course import pearl, sac
from metarl_course.checks import CheckFailure
from grading_harness import assert_refuses_reference_and_unimplemented
from metarl_course.checks import unit04 as checks
from metarl_course.pearl import collect_trajectories, infer_posterior, prior_belief, sample_z, with_task


# -- exercise 1: product_of_gaussians ------------------------------------------------------------
def pog_with(clamp=True, mean="precision", variance="precision", dim=-2, swap=False):
    """A student's product of Gaussians, with one ingredient switched to a common mistake."""
    def product_of_gaussians(means, variances):
        v = variances.clamp_min(1e-7) if clamp else variances
        var = {"precision": 1.0 / (1.0 / v).sum(dim=dim), "sum": v.sum(dim=dim), "mean": v.mean(dim=dim)}[variance]
        m = {"precision": var * (means / v).sum(dim=dim), "average": means.mean(dim=dim),
             "unnormalised": (means / v).sum(dim=dim), "by_variance": (means * v).sum(dim=dim) / v.sum(dim=dim)}[mean]
        return (var, m) if swap else (m, var)
    return product_of_gaussians


def numpy_loop_pog(means, variances):
    """A different, equally correct route: log-space precisions, one task at a time."""
    out_m, out_v = [], []
    for m, v in zip(means, variances):
        log_precision = -torch.log(v.clamp_min(1e-7))
        precision = log_precision.exp().sum(0)
        out_v.append(1 / precision)
        out_m.append((m * log_precision.exp()).sum(0) / precision)
    return torch.stack(out_m), torch.stack(out_v)


def test_the_hand_pog_case_is_right():
    means, variances, mean, variance = checks.pog_hand_case()
    got = pearl.product_of_gaussians(means, variances)
    np.testing.assert_allclose(got[0].numpy(), mean, atol=1e-12)
    np.testing.assert_allclose(got[1].numpy(), variance, atol=1e-12)


@pytest.mark.parametrize("student", [pog_with(), numpy_loop_pog, pog_with(dim=1),
                                     lambda m, v: pearl.product_of_gaussians(m, v)])
def test_correct_products_pass(student):
    checks.check_product_of_gaussians(student)
    checks.hidden_check_product_of_gaussians(student)


@pytest.mark.parametrize("student, hint", [
    (pog_with(mean="average"), "plain average of the factors' means"),
    (pog_with(mean="unnormalised"), "must still be multiplied by the product's variance"),
    (pog_with(mean="by_variance"), "weighted by their variance"),
    (pog_with(variance="sum"), "the variances were added"),
    (pog_with(variance="mean"), "the variances were averaged"),
    (pog_with(clamp=False), "clamp the variances"),
    (pog_with(dim=-1), "not over the latent dimensions"),
    (pog_with(dim=0), "not over the tasks"),
    (pog_with(swap=True), "swapped"),
    (lambda m, v: pog_with()(m, v)[0], "must return two things"),
    (lambda m, v: tuple(x.detach() for x in pog_with()(m, v)), "carries no gradient"),
    (lambda m, v: None, "returned None"),
])
def test_pog_mistakes_are_named(student, hint):
    with pytest.raises(CheckFailure, match=hint):
        checks.check_product_of_gaussians(student)


def test_pog_that_clamps_in_place_is_refused():
    def in_place(means, variances):
        variances.clamp_(min=1e-7)
        return pog_with()(means, variances)
    with pytest.raises(CheckFailure, match="in place"):
        checks.check_product_of_gaussians(in_place)


# -- exercise 2: kl_to_standard_normal -------------------------------------------------------------
def kl_with(kind="right"):
    def kl_to_standard_normal(mean, variance):
        terms = {"right": variance + mean**2 - 1 - variance.log(),
                 "std": variance.sqrt() + mean**2 - 1 - variance.log(),
                 "var_as_std": variance**2 + mean**2 - 1 - 2 * variance.log(),
                 "no_minus_one": variance + mean**2 - variance.log(),
                 "reverse": 1 / variance + mean**2 / variance - 1 + variance.log()}.get(kind)
        if kind == "no_half":
            return (variance + mean**2 - 1 - variance.log()).sum(-1)
        if kind == "mean_dims":
            return 0.5 * (variance + mean**2 - 1 - variance.log()).mean(-1)
        if kind == "scalar":
            return 0.5 * (variance + mean**2 - 1 - variance.log()).sum()
        return 0.5 * terms.sum(-1)
    return kl_to_standard_normal


def test_the_hand_kl_case_is_right():
    mean, variance, expected = checks.kl_hand_case()
    np.testing.assert_allclose(pearl.kl_to_standard_normal(mean, variance).numpy(), expected, atol=1e-12)


def test_correct_kls_pass():
    by_distributions = lambda m, v: torch.distributions.kl_divergence(  # noqa: E731
        torch.distributions.Normal(m, v.sqrt()), torch.distributions.Normal(0.0, 1.0)).sum(-1)
    for student in (kl_with(), by_distributions):
        checks.check_kl_to_standard_normal(student)
        checks.hidden_check_kl_to_standard_normal(student)


@pytest.mark.parametrize("student, hint", [
    (kl_with("std"), "σ \\(the standard deviation\\) was used where σ² belongs"),
    (kl_with("var_as_std"), "treated as a standard deviation"),
    (kl_with("no_half"), "the ½ is missing"),
    (kl_with("mean_dims"), "latent dimensions were averaged"),
    (kl_with("no_minus_one"), "the -1 is missing"),
    (kl_with("reverse"), "the other direction"),
    (kl_with("scalar"), "one value per task"),
    (lambda m, v: kl_with()(m, v).detach(), "carries no gradient"),
])
def test_kl_mistakes_are_named(student, hint):
    with pytest.raises(CheckFailure, match=hint):
        checks.check_kl_to_standard_normal(student)


# -- exercise 3: critic_loss -------------------------------------------------------------------
def critic_with(scale=True, mask="1-d", detach=True, combine="sum", reduce="mean"):
    def critic_loss(q1, q2, rewards, dones, target_next_value, gamma, reward_scale):
        s = reward_scale if scale else 1.0
        m = {"1-d": 1.0 - dones, "none": torch.ones_like(dones), "d": dones}[mask]
        target = s * rewards + gamma * m * target_next_value
        target = target.detach() if detach else target
        red = (lambda e: e.mean()) if reduce == "mean" else (lambda e: e.sum())
        e1, e2 = red((q1 - target) ** 2), red((q2 - target) ** 2)
        return {"sum": e1 + e2, "mean": (e1 + e2) / 2, "q1": e1}[combine]
    return critic_loss


def test_the_hand_critic_case_is_right():
    x, gamma, scale, expected = checks.critic_hand_case()
    got = sac.q_loss(*(x[k] for k in ("q1", "q2", "rewards", "dones", "target_next_value")), gamma, scale)
    assert float(got) == pytest.approx(expected)


def test_correct_critic_losses_pass():
    def under_no_grad(q1, q2, rewards, dones, target_next_value, gamma, reward_scale):
        with torch.no_grad():
            y = reward_scale * rewards + gamma * (1 - dones) * target_next_value
        return torch.nn.functional.mse_loss(q1, y) + torch.nn.functional.mse_loss(q2, y)
    def detaches_only_the_value(q1, q2, rewards, dones, target_next_value, gamma, reward_scale):
        # rewards and done flags are data without a gradient: detaching V̄(s') makes y a constant
        y = reward_scale * rewards + gamma * (1.0 - dones) * target_next_value.detach()
        return ((q1 - y) ** 2).mean() + ((q2 - y) ** 2).mean()
    for student in (critic_with(), under_no_grad, detaches_only_the_value, lambda *a: sac.q_loss(*a)):
        checks.check_critic_loss(student)
        checks.hidden_check_critic_loss(student)


@pytest.mark.parametrize("student, hint", [
    (critic_with(scale=False), "reward scale is missing"),
    (critic_with(mask="none"), "\\(1 - done\\) mask is missing"),
    (critic_with(mask="d"), "done mask is inverted"),
    (critic_with(detach=False), "gradient flows into target_next_value"),
    (critic_with(combine="q1"), "only Q_1 is trained"),
    (critic_with(combine="mean"), "averaged; PEARL sums them"),
    (critic_with(reduce="sum"), "summed over the batch"),
    (lambda *a: ((a[0] - a[2]) ** 2), "must be one number"),
])
def test_critic_mistakes_are_named(student, hint):
    with pytest.raises(CheckFailure, match=hint):
        checks.check_critic_loss(student)


# -- exercise 4: policy_and_value_losses -----------------------------------------------------------
def actor_with(detach_z=True, q="min", value_target="q-logp", detach_target=True, detach_action=False,
               two_policy_calls=False, deterministic=False):
    def policy_and_value_losses(agent, obs, z):
        z = z.detach() if detach_z else z
        s_z = with_task(obs, z)
        actions, log_prob = agent.policy(s_z, deterministic=deterministic)
        q_actions = actions.detach() if detach_action else actions
        q_in = with_task(torch.cat([obs, q_actions], dim=-1), z)
        q1, q2 = agent.q1(q_in).squeeze(-1), agent.q2(q_in).squeeze(-1)
        q_new = {"min": torch.min(q1, q2), "q1": q1, "mean": (q1 + q2) / 2}[q]
        policy_loss = (log_prob - q_new).mean()
        if two_policy_calls:
            actions, log_prob = agent.policy(s_z)
            q_in = with_task(torch.cat([obs, actions], dim=-1), z)
            q_new = torch.min(agent.q1(q_in), agent.q2(q_in)).squeeze(-1)
        target = {"q-logp": q_new - log_prob, "q": q_new}[value_target]
        target = target.detach() if detach_target else target
        return policy_loss, ((agent.value(s_z).squeeze(-1) - target) ** 2).mean()
    return policy_and_value_losses


def test_correct_actor_losses_pass():
    def with_sac_helpers(agent, obs, z):
        z = z.detach()
        x = torch.cat([obs, z[:, None, :].expand(-1, obs.shape[1], -1)], dim=-1)
        a, logp = agent.policy(x)
        q_in = torch.cat([obs, a, z[:, None, :].expand(-1, obs.shape[1], -1)], dim=-1)
        q = torch.min(agent.q1(q_in), agent.q2(q_in)).squeeze(-1)
        return sac.policy_loss(q, logp), sac.value_loss(agent.value(x).squeeze(-1), q, logp)
    for student in (actor_with(), with_sac_helpers, lambda *a: pearl.policy_and_value_losses(*a)):
        checks.check_policy_and_value_losses(student)
        checks.hidden_check_policy_and_value_losses(student)


@pytest.mark.parametrize("student, hint", [
    (actor_with(detach_z=False), "gradient flows from the policy or value loss back into z"),
    (actor_with(detach_target=False), "value loss sends a gradient into the critics or the policy"),
    (actor_with(detach_action=True), "ã must stay differentiable"),
    (actor_with(q="q1"), "not Q_1 alone"),
    (actor_with(q="mean"), "not their mean"),
    (actor_with(value_target="q"), "entropy term is missing"),
    (actor_with(two_policy_calls=True), "agent.policy was called 2 times"),
    (actor_with(deterministic=True), "must be \\*sampled\\*"),
    (lambda agent, obs, z: actor_with()(agent, obs, z)[0], "must return two things"),
])
def test_actor_mistakes_are_named(student, hint):
    with pytest.raises(CheckFailure, match=hint):
        checks.check_policy_and_value_losses(student)


# -- exercise 5: adapt_online --------------------------------------------------------------------
def adapt_with(context_from="all", prior="each", z="sample", use_generator=True, infer_once=False,
               pass_deterministic=True, reward="rewards", drop_last=False):
    @torch.no_grad()
    def adapt_online(agent, env, n_trajectories, n_exploration=1, deterministic=True, generator=None):
        M = env.goals.shape[0]
        gen = generator if use_generator else None
        context, last, returns, prior_z, belief = None, None, [], None, None
        for k in range(n_trajectories):
            use_prior = k < n_exploration if prior != "never" else context is None
            if use_prior:
                mean, variance = prior_belief((M,), agent.encoder.latent_dim, env.goals)
                if prior_z is None or prior == "each":
                    prior_z = sample_z(mean, variance, gen)
                zk = prior_z
            else:
                if belief is None or not infer_once:
                    source = context if context_from == "all" else last
                    c = agent.context(source)
                    belief = infer_posterior(agent.encoder, c[:, :-1] if drop_last else c)
                zk = sample_z(*belief, gen) if z == "sample" else belief[0]
            trajectory = collect_trajectories(agent, env, zk, deterministic if pass_deterministic else True)
            returns.append(trajectory[reward][..., 0].sum(dim=1))
            last = trajectory
            context = trajectory if context is None else {f: torch.cat([context[f], trajectory[f]], 1) for f in context}
        return torch.stack(returns), context
    return adapt_online


def test_the_variant_with_defaults_is_the_reference():
    agent, env = checks.adapt_problem(0)
    torch.manual_seed(0)
    a, ca = pearl.meta_test(agent, env, 4, 2, False, torch.Generator().manual_seed(1))
    torch.manual_seed(0)
    b, cb = checks.meta_test_variant(agent, env, 4, 2, False, torch.Generator().manual_seed(1))
    assert torch.equal(a, b) and all(torch.equal(ca[k], cb[k]) for k in ca)


def test_the_sparse_case_has_rewards_that_differ_between_trajectories():
    agent, env = checks.adapt_problem(0, checks.NEAR_GOALS, sparse=True)
    returns, _ = pearl.meta_test(agent, env, 3, generator=torch.Generator().manual_seed(1))
    assert torch.all(returns > 0) and len(set(returns.flatten().tolist())) > 3


def test_correct_adaptation_passes():
    for student in (adapt_with(), lambda *a, **k: pearl.meta_test(*a, **k)):
        checks.check_adapt_online(student)
        checks.hidden_check_adapt_online(student)


@pytest.mark.parametrize("student, hint", [
    (adapt_with(context_from="last"), "only the last trajectory"),
    (adapt_with(infer_once=True), "must be re-inferred before every trajectory"),
    (adapt_with(prior="never"), "must each act with a fresh z from the prior"),
    (adapt_with(prior="once"), "each exploration trajectory draws its own z"),
    (adapt_with(z="mean"), "not set to its mean"),
    (adapt_with(use_generator=False), "with the generator passed in"),
    (adapt_with(pass_deterministic=False), "pass `deterministic` on"),
    (adapt_with(reward="dense_rewards"), "not the dense rewards"),
    (adapt_with(drop_last=True), "all H = 5 transitions"),
    (lambda *a, **k: (adapt_with()(*a, **k)[0].T, adapt_with()(*a, **k)[1]), "one row per trajectory"),
    (lambda *a, **k: (adapt_with()(*a, **k)[0], None), "the context must be a dict"),
])
def test_adaptation_mistakes_are_named(student, hint):
    with pytest.raises(CheckFailure, match=hint):
        checks.check_adapt_online(student)


# -- every check refuses the reference and an unimplemented function --------------------------------
@pytest.mark.parametrize("check, reference", [
    (checks.check_product_of_gaussians, pearl.product_of_gaussians),
    (checks.check_kl_to_standard_normal, pearl.kl_to_standard_normal),
    (checks.check_critic_loss, sac.q_loss),
    (checks.check_policy_and_value_losses, pearl.policy_and_value_losses),
    (checks.check_adapt_online, pearl.meta_test),
])
def test_reference_and_unimplemented_are_refused(check, reference):
    assert_refuses_reference_and_unimplemented(check, reference)


def test_checks_are_fast():
    """The planted-bug tests and the grader run every check many times."""
    start = time.perf_counter()
    checks.hidden_check_policy_and_value_losses(actor_with())
    checks.hidden_check_adapt_online(adapt_with())
    assert time.perf_counter() - start < 5.0
