"""The unit-02 checks accept correct code and name the mistake in wrong code."""

from __future__ import annotations

import numpy as np
import pytest

from metarl_course.baselines import tabular_mdp as baselines
from metarl_course.checks import CheckFailure
from metarl_course.checks import unit02 as checks
from metarl_course.rl2 import MDPTrials


# -- exercise 1: finite_horizon_q -------------------------------------------------------
def correct_q(transitions, mean_rewards, horizon):
    return baselines.finite_horizon_q(transitions, mean_rewards, horizon)


def q_with(value=lambda q: q.max(-1), expectation="...sat,...t->...sa", reverse=False, extra=0):
    def finite_horizon_q(transitions, mean_rewards, horizon):
        steps = horizon + extra
        q = np.zeros(mean_rewards.shape[:-2] + (steps,) + mean_rewards.shape[-2:])
        v = np.zeros(mean_rewards.shape[:-1])
        for h in range(steps - 1, -1, -1):
            q[..., h, :, :] = mean_rewards + np.einsum(expectation, transitions, v)
            v = value(q[..., h, :, :])
        return q[..., ::-1, :, :] if reverse else q
    return finite_horizon_q


def test_the_hand_solved_mdp_is_right():
    transitions, mean_rewards, horizon, expected = checks.tiny_mdp()
    np.testing.assert_allclose(baselines.finite_horizon_q(transitions, mean_rewards, horizon), expected)


def test_correct_q_passes_all_cases():
    checks.check_finite_horizon_q(correct_q, seeds=[0, 1, 2, 3], batched=True)
    checks.check_finite_horizon_q(q_with(), seeds=[0, 1], batched=True)


def unbatched_q(transitions, mean_rewards, horizon):
    q = np.zeros((horizon,) + mean_rewards.shape)
    v = np.zeros(mean_rewards.shape[0])
    for h in reversed(range(horizon)):
        q[h] = mean_rewards + transitions @ v
        v = q[h].max(axis=1)
    return q


@pytest.mark.parametrize("student, hint", [
    (q_with(value=lambda q: q.mean(-1)), "max over the next actions"),
    (q_with(value=lambda q: q.sum(-1)), "max over the next actions"),
    (q_with(reverse=True), "time axis is reversed"),
    (q_with(expectation="...tas,...t->...sa"), "wrong axis of P"),
    (q_with(extra=1), "do not return the extra Q_T"),
    (lambda p, mu, T: q_with(extra=1)(p, mu, T)[..., :T, :, :], "off by one"),
    (lambda p, mu, T: correct_q(p, mu, T)[..., 0, :, :], "not only the first step"),
    (lambda p, mu, T: correct_q(p, mu, T) - mu[..., None, :, :], "immediate mean reward"),
    (lambda p, mu, T: None, "returned None"),
])
def test_q_mistakes_are_named(student, hint):
    with pytest.raises(CheckFailure, match=hint):
        checks.check_finite_horizon_q(student)


def test_q_for_one_mdp_only_fails_on_batches_with_a_hint():
    checks.check_finite_horizon_q(unbatched_q, seeds=[0, 1])
    with pytest.raises(CheckFailure, match="leading batch dimensions"):
        checks.check_finite_horizon_q(unbatched_q, seeds=[0], batched=True)


def test_reference_and_unimplemented_are_refused():
    with pytest.raises(CheckFailure, match="reference implementation"):
        checks.check_finite_horizon_q(baselines.finite_horizon_q)

    def todo(transitions, mean_rewards, horizon):
        raise NotImplementedError()
    with pytest.raises(CheckFailure, match="not implemented yet"):
        checks.check_finite_horizon_q(todo)


# -- exercise 2: sample_posterior_mdp --------------------------------------------------------
def sampler(prior=1.0, mu0=0.0, std=lambda tau: 1 / np.sqrt(tau), axis=-1, mean_only=False, global_rng=False):
    def sample_posterior_mdp(transition_counts, visits, reward_sums, rng):
        source = np.random if global_rng else rng
        g = source.standard_gamma(prior + transition_counts)
        transitions = g / g.sum(axis=axis, keepdims=True)
        tau = 1.0 + visits
        mean = (mu0 + reward_sums) / tau
        if mean_only:
            return (1.0 + transition_counts) / (1.0 + transition_counts).sum(-1, keepdims=True), mean
        return transitions, mean + std(tau) * source.standard_normal(visits.shape)
    return sample_posterior_mdp


def dirichlet_loop_sampler(transition_counts, visits, reward_sums, rng):
    """A different, equally correct sampling route: rng.dirichlet row by row."""
    transitions = np.zeros_like(transition_counts)
    for index in np.ndindex(transition_counts.shape[:-1]):
        transitions[index] = rng.dirichlet(1.0 + transition_counts[index])
    tau = 1.0 + visits
    return transitions, rng.normal(reward_sums / tau, 1.0 / np.sqrt(tau))


def test_the_moments_are_the_posterior_of_the_package():
    counts, visits, reward_sums = checks.posterior_case(0)
    posterior = baselines.TabularPosterior(1, 3, 2, prior_mean=baselines.PAPER_MU0)
    posterior.transition_counts[0], posterior.visits[0], posterior.reward_sums[0] = counts, visits, reward_sums
    p_mean, _, m_mean, m_var = checks.posterior_moments(counts, visits, reward_sums)
    np.testing.assert_allclose(p_mean, posterior.mean_transitions()[0])
    np.testing.assert_allclose(m_mean, posterior.mean_rewards()[0])
    np.testing.assert_allclose(m_var, 1 / posterior.reward_precision()[0])


@pytest.mark.parametrize("student", [sampler(), dirichlet_loop_sampler,
                                     lambda c, v, r, rng: baselines.TabularPosterior.sample(_posterior(c, v, r), rng)])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_correct_samplers_pass_with_any_sampling_route_and_seed(student, seed):
    checks.check_sample_posterior_mdp(student, cases=[0, 1, 2, 3], seed=seed)


def _posterior(counts, visits, reward_sums):
    posterior = baselines.TabularPosterior(1, counts.shape[-3], counts.shape[-2], prior_mean=baselines.PAPER_MU0)
    posterior.transition_counts, posterior.visits, posterior.reward_sums = counts, visits, reward_sums
    return posterior


@pytest.mark.parametrize("student, hint", [
    (sampler(mean_only=True), "all 4000 draws are the same MDP"),
    (sampler(prior=0.0), "NaN"),
    (sampler(std=lambda tau: 1 / tau), "variance 1 / \\(1 \\+ N\\) as the standard deviation"),
    (sampler(std=lambda tau: np.ones_like(tau)), "does not shrink with N"),
    (sampler(mu0=1.0), "prior mean mu_0 = 0"),
    (lambda c, v, r, rng: (sampler()(c, v, r, rng)[0], r / np.maximum(v, 1) + rng.standard_normal(v.shape) / np.sqrt(1 + v)),
     "plain average"),
    (sampler(axis=-2), "do not sum to 1"),
    (sampler(global_rng=True), "seeded alike gave different"),
    (lambda c, v, r, rng: (sampler()(c, v, r, rng)[0] * 0 + 1 / c.shape[-1] + 0 * rng.random(), sampler()(c, v, r, rng)[1]),
     "every draw has the same transition probabilities P"),
    (lambda c, v, r, rng: sampler()(c, v, r, rng)[0], "must return a tuple"),
    (lambda c, v, r, rng: (sampler()(c, v, r, rng)[0][..., 0, :], sampler()(c, v, r, rng)[1]), "wrong shape"),
])
def test_sampler_mistakes_are_named(student, hint):
    with pytest.raises(CheckFailure, match=hint):
        checks.check_sample_posterior_mdp(student)


# -- exercise 3: trial_step ---------------------------------------------------------------
def reference_step(mdp, actions):
    return checks.reference_trial_step(mdp, actions)


def trial_step_like_mdp_trials(mdp, actions):
    """MDPTrials.step, borrowed: the package's trial environment is the reference."""
    trials = MDPTrials.__new__(MDPTrials)
    trials.mdp, trials.obs_dim = mdp, mdp.n_states
    return MDPTrials.step(trials, actions)


def test_correct_trial_steps_pass():
    checks.check_trial_step(reference_step)
    checks.check_trial_step(trial_step_like_mdp_trials, seed=3, batch_size=8, n_states=6, n_actions=2, horizon=10)


def never_reset(mdp, actions):
    states, rewards, _, truncated, _ = mdp.step(actions)
    return np.eye(mdp.n_states)[states], rewards, truncated.astype(float)


def reset_every_step(mdp, actions):
    states, rewards, _, truncated, _ = mdp.step(actions)
    states = mdp.reset()
    return np.eye(mdp.n_states)[states], rewards, truncated.astype(float)


def states_only_reset(mdp, actions):
    states, rewards, _, truncated, _ = mdp.step(actions)
    if truncated.all():
        mdp.states[:] = 0
        states = mdp.states.copy()
    return np.eye(mdp.n_states)[states], rewards, truncated.astype(float)


def terminated_as_done(mdp, actions):
    states, rewards, terminated, truncated, _ = mdp.step(actions)
    if truncated.all():
        states = mdp.reset()
    return np.eye(mdp.n_states)[states], rewards, terminated.astype(float)


def terminal_state_returned(mdp, actions):
    states, rewards, _, truncated, _ = mdp.step(actions)
    if truncated.all():
        mdp.reset()
    return np.eye(mdp.n_states)[states], rewards, truncated.astype(float)


def fancy_index_one_hot(mdp, actions):
    states, rewards, _, truncated, _ = mdp.step(actions)
    if truncated.all():
        states = mdp.reset()
    obs = np.zeros((len(states), mdp.n_states))
    obs[:, states] = 1.0
    return obs, rewards, truncated.astype(float)


def state_numbers(mdp, actions):
    states, rewards, _, truncated, _ = mdp.step(actions)
    if truncated.all():
        states = mdp.reset()
    return states, rewards, truncated.astype(float)


def double_step(mdp, actions):
    mdp.step(actions)
    return reference_step(mdp, actions)


@pytest.mark.parametrize("student, hint", [
    (never_reset, "go back to the start state with mdp.reset"),
    (reset_every_step, "reset only when the episode ends"),
    (states_only_reset, "setting the states to 0 is not enough"),
    (terminated_as_done, "the done flag must be 1"),
    (terminal_state_returned, "returned the state the episode ended in"),
    (fancy_index_one_hot, "not one-hot"),
    (state_numbers, "not the state numbers"),
    (double_step, "called 2 times"),
    (lambda mdp, actions: reference_step(mdp, actions)[:2], "must return a tuple"),
])
def test_trial_step_mistakes_are_named(student, hint):
    with pytest.raises(CheckFailure, match=hint):
        checks.check_trial_step(student)


def test_a_sampler_for_one_trial_only_gets_a_batch_hint():
    def one_trial_only(transition_counts, visits, reward_sums, rng):
        n_states, n_actions = visits.shape
        transitions = np.zeros((n_states, n_actions, n_states))
        for s in range(n_states):
            for a in range(n_actions):
                transitions[s, a] = rng.dirichlet(1.0 + transition_counts[s, a])
        tau = 1.0 + visits
        return transitions, reward_sums / tau + rng.standard_normal(visits.shape) / np.sqrt(tau)
    with pytest.raises(CheckFailure, match="leading batch dimensions"):
        checks.check_sample_posterior_mdp(one_trial_only)
