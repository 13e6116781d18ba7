"""Checks for unit 02, RL² on random tabular MDPs."""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

from metarl_course.baselines import tabular_mdp as baselines
from metarl_course.checks._core import CheckFailure, as_array, call_student, fail, passed
from metarl_course.envs.tabular_mdp import START_STATE, BatchedTabularMDP, sample_mdps


# -- exercise 1: finite-horizon value iteration ----------------------------------------
def tiny_mdp() -> tuple[np.ndarray, np.ndarray, int, np.ndarray]:
    """Two states, two actions, T = 2: an MDP small enough to solve by hand.

    P(. | s, a):                     mu(s, a):
      s=0, a=0: stay in 0               mu(0, 0) = 1,  mu(0, 1) = -1
      s=0, a=1: go to 1                 mu(1, 0) = 0,  mu(1, 1) = 2
      s=1, a=0: 0 or 1, 50/50
      s=1, a=1: stay in 1

    One step to go (h = 1): Q_1 = mu = [[1, -1], [0, 2]], so V_1 = max_a Q_1 = [1, 2].
    Two steps to go (h = 0): Q_0(s, a) = mu(s, a) + sum_s' P(s' | s, a) V_1(s'):
      Q_0(0, 0) = 1 + V_1(0)                   = 2
      Q_0(0, 1) = -1 + V_1(1)                  = 1
      Q_0(1, 0) = 0 + 0.5 V_1(0) + 0.5 V_1(1)  = 1.5
      Q_0(1, 1) = 2 + V_1(1)                   = 4
    Returns (transitions, mean_rewards, horizon, expected Q of shape (T, S, A)).
    """
    transitions = np.array([[[1.0, 0.0], [0.0, 1.0]],
                            [[0.5, 0.5], [0.0, 1.0]]])
    mean_rewards = np.array([[1.0, -1.0], [0.0, 2.0]])
    expected = np.array([[[2.0, 1.0], [1.5, 4.0]],
                         [[1.0, -1.0], [0.0, 2.0]]])
    return transitions, mean_rewards, 2, expected


def _backward(transitions, mean_rewards, horizon, value=lambda q: q.max(axis=-1), expectation="...sat,...t->...sa"):
    """Backward induction with a swappable backup; the reference when the defaults are kept."""
    q = np.zeros(mean_rewards.shape[:-2] + (horizon,) + mean_rewards.shape[-2:])
    v = np.zeros(mean_rewards.shape[:-1])
    for h in range(horizon - 1, -1, -1):
        q[..., h, :, :] = mean_rewards + np.einsum(expectation, transitions, v)
        v = value(q[..., h, :, :])
    return q


def _q_mistake(got: np.ndarray, transitions, mean_rewards, horizon) -> str:
    """Name the likely mistake by recomputing Q the wrong ways a student might."""
    expected = _backward(transitions, mean_rewards, horizon)

    def same(a):
        return a.shape == got.shape and np.allclose(got, a, atol=1e-6)

    if same(expected[..., ::-1, :, :]):
        return ("the time axis is reversed: Q[0] must be the values with T steps to go (the first step of "
                "the episode) and Q[T-1] the last step, where Q = mu. Fill h = T-1 first and go backwards.")
    if same(_backward(transitions, mean_rewards, horizon, value=lambda q: q.mean(axis=-1))) or \
            same(_backward(transitions, mean_rewards, horizon, value=lambda q: q.sum(axis=-1))):
        return "the next state's value is V_{h+1}(s') = max_a' Q_{h+1}(s', a'): take the max over the next actions."
    if got.shape[-1] == got.shape[-2] and same(_backward(transitions, mean_rewards, horizon,
                                                         value=lambda q: q.max(axis=-2))):
        return ("the max is over the wrong axis: V_{h+1}(s') = max_a' Q_{h+1}(s', a') takes the max over the LAST "
                "axis (the actions), q[..., h + 1, :, :].max(axis=-1), not over the states.")
    if same(_backward(transitions, mean_rewards, horizon, expectation="...tas,...t->...sa")):
        return ("the expectation sums over the wrong axis of P: transitions[..., s, a, s'] is P(s' | s, a), "
                "so sum over the LAST axis: (transitions * V[..., None, None, :]).sum(-1).")
    too_many = _backward(transitions, mean_rewards, horizon + 1)[..., :horizon, :, :]
    too_few = np.concatenate([expected[..., 1:, :, :], np.zeros_like(expected[..., :1, :, :])], axis=-3)
    if same(too_many) or same(too_few):
        return ("off by one step: Q[T-1] (the last step of the episode) is just mu, and Q[h] adds "
                "T-1-h future steps; start from V = 0 after the last step.")
    if same(expected - mean_rewards[..., None, :, :]):
        return "each Q_h(s, a) starts with the immediate mean reward mu(s, a)."
    return "Q_h(s, a) = mu(s, a) + sum_s' P(s' | s, a) max_a' Q_{h+1}(s', a'), with Q_T = 0, filled from h = T-1 down to 0."


def _check_q_case(finite_horizon_q: Callable, transitions, mean_rewards, horizon, where, expected=None) -> None:
    if expected is None:
        expected = _backward(transitions, mean_rewards, horizon)
    try:
        result = call_student(finite_horizon_q, transitions.copy(), mean_rewards.copy(), horizon, name="finite_horizon_q")
    except CheckFailure as error:
        if transitions.ndim == 3 or "raised" not in str(error):
            raise
        fail(f"{where}:\n{error}", hint="the inputs can have leading batch dimensions (one MDP per row): write the "
                                          "expectation with np.einsum('...sat,...t->...sa', P, V) or "
                                          "(P * V[..., None, None, :]).sum(-1), and index time as q[..., h, :, :].")
    got = np.asarray(result, dtype=np.float64) if result is not None else None
    if got is None:
        fail(f"{where}: finite_horizon_q returned None; return the array Q.")
    if got.shape != expected.shape:
        lead = expected.shape[:-3]
        if got.shape == lead + (horizon + 1,) + expected.shape[-2:]:
            hint = "Q has T entries along its time axis (h = 0..T-1); do not return the extra Q_T = 0."
        elif got.shape == lead + expected.shape[-2:]:
            hint = "return Q for every step h = 0..T-1 (shape (..., T, S, A)), not only the first step."
        else:
            hint = ("the shape is (..., T, S, A): any leading batch dimensions of the inputs, then the "
                    "time step h, the state and the action.")
        fail(f"{where}: Q has the wrong shape.", expected=expected.shape, got=got.shape, hint=hint)
    as_array(got, f"{where}: Q", shape=expected.shape)
    if not np.allclose(got, expected, atol=1e-6, rtol=1e-6):
        fail(f"{where}: Q is wrong.", expected=expected, got=got,
             hint=_q_mistake(got, transitions, mean_rewards, horizon))


def check_finite_horizon_q(finite_horizon_q: Callable, seeds: Sequence[int] = (0,), batched: bool = False) -> None:
    """The hand-solved 2-state MDP, then random MDPs against the reference (batched: leading dims)."""
    transitions, mean_rewards, horizon, expected = tiny_mdp()
    _check_q_case(finite_horizon_q, transitions, mean_rewards, horizon,
                  "finite_horizon_q on the 2-state, 2-action MDP with T = 2 (solved by hand in the text)", expected)
    # a square MDP (S = A) first: a max over the wrong axis then gives wrong numbers, which can be named,
    # instead of an error about shapes
    transitions, mean_rewards = sample_mdps(1, seed=seeds[0] + 50, n_states=3, n_actions=3)
    _check_q_case(finite_horizon_q, transitions[0], mean_rewards[0], 4,
                  "finite_horizon_q on a random MDP with as many states as actions (S = A = 3, T = 4)",
                  baselines.finite_horizon_q(transitions[0], mean_rewards[0], 4))
    cases = 2
    for seed in seeds:
        n_states, n_actions, horizon = (4, 3, 5) if seed % 2 == 0 else (10, 5, 10)
        transitions, mean_rewards = sample_mdps(1, seed=seed, n_states=n_states, n_actions=n_actions)
        _check_q_case(finite_horizon_q, transitions[0], mean_rewards[0], horizon,
                      f"finite_horizon_q on a random MDP (S={n_states}, A={n_actions}, T={horizon}, seed {seed})",
                      baselines.finite_horizon_q(transitions[0], mean_rewards[0], horizon))
        cases += 1
        if batched:
            for lead in ((3,), (2, 3)):
                size = int(np.prod(lead))
                transitions, mean_rewards = sample_mdps(size, seed=seed + 100, n_states=n_states, n_actions=n_actions)
                transitions = transitions.reshape(lead + transitions.shape[1:])
                mean_rewards = mean_rewards.reshape(lead + mean_rewards.shape[1:])
                _check_q_case(finite_horizon_q, transitions, mean_rewards, horizon,
                              f"finite_horizon_q on a batch of random MDPs, transitions of shape {transitions.shape}",
                              baselines.finite_horizon_q(transitions, mean_rewards, horizon))
                cases += 1
    passed(f"finite_horizon_q matches backward induction on {cases} MDPs" + (" (batched inputs too)" if batched else ""))


# -- exercise 2: PSRL's posterior draw ---------------------------------------------------
def posterior_case(case: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Counts of a small trial (S = 3, A = 2): some pairs never tried, some tried often."""
    if case == 0:
        counts = np.array([[[0, 0, 0], [2, 0, 1]],
                           [[5, 1, 0], [0, 0, 0]],
                           [[1, 1, 1], [0, 7, 2]]], dtype=np.float64)
        reward_sums = np.array([[0.0, 3.5], [-2.0, 0.0], [1.2, 10.0]])
    else:
        rng = np.random.default_rng(case)
        counts = rng.poisson(1.5, size=(4, 3, 4)).astype(np.float64)
        counts[rng.random((4, 3)) < 0.3] = 0.0
        reward_sums = np.where(counts.sum(-1) > 0, rng.normal(1.0, 2.0, size=(4, 3)) * counts.sum(-1), 0.0)
    return counts, counts.sum(-1), reward_sums


def posterior_moments(counts: np.ndarray, visits: np.ndarray, reward_sums: np.ndarray):
    """Exact means and variances of the posterior (alpha_0 = 1, mu_0 = 0, tau_0 = 1, noise variance 1)."""
    alpha = 1.0 + counts
    total = alpha.sum(-1, keepdims=True)
    p_mean = alpha / total
    p_var = alpha * (total - alpha) / (total ** 2 * (total + 1.0))
    precision = 1.0 + visits
    return p_mean, p_var, reward_sums / precision, 1.0 / precision


def _draw(sample_posterior_mdp: Callable, counts, visits, reward_sums, n_draws: int, seed: int, where: str):
    """n_draws independent draws in one call, as a leading batch dimension of copies."""
    tile = (n_draws,) + (1,) * counts.ndim
    try:
        result = call_student(sample_posterior_mdp, np.tile(counts, tile), np.tile(visits, tile[:-1]),
                              np.tile(reward_sums, tile[:-1]), np.random.default_rng(seed), name="sample_posterior_mdp")
    except CheckFailure as error:
        if "raised" not in str(error):
            raise
        fail(f"{where} (the counts of {n_draws} trials stacked along a leading batch dimension):\n{error}",
             hint="the inputs can have leading batch dimensions (one trial per row): work on whole arrays, e.g. "
                  "rng.standard_gamma(1 + transition_counts) and a sum over axis=-1.")
    if not (isinstance(result, (tuple, list)) and len(result) == 2):
        fail(f"{where}: sample_posterior_mdp must return a tuple (transitions, mean_rewards); got {type(result).__name__}.")
    transitions, mean_rewards = result
    transitions = np.asarray(transitions, dtype=np.float64)
    mean_rewards = np.asarray(mean_rewards, dtype=np.float64)
    if transitions.shape != (n_draws,) + counts.shape:
        fail(f"{where}: the sampled transitions have the wrong shape.", expected=(n_draws,) + counts.shape,
             got=transitions.shape, hint="one distribution P(. | s, a) per row of transition_counts: the same shape as the counts.")
    if mean_rewards.shape != (n_draws,) + visits.shape:
        fail(f"{where}: the sampled mean rewards have the wrong shape.", expected=(n_draws,) + visits.shape,
             got=mean_rewards.shape, hint="one mean reward mu(s, a) per entry of visits: the same shape as visits.")
    if not np.all(np.isfinite(transitions)) or not np.all(np.isfinite(mean_rewards)):
        fail(f"{where}: the draw contains NaN or infinite values (a pair never tried has 0 counts).",
             hint="the posterior includes the prior: Dirichlet(1 + counts) and precision 1 + N(s, a), "
                  "so unvisited pairs still get a proper distribution.")
    return transitions, mean_rewards


def _within(got, expected, stderr, n_se: float = 6.0, floor: float = 1e-9) -> np.ndarray:
    return np.abs(got - expected) <= n_se * stderr + floor


def check_sample_posterior_mdp(sample_posterior_mdp: Callable, cases: Sequence[int] = (0,), n_draws: int = 4000,
                               seed: int = 0) -> None:
    """Statistical: the moments of many seeded draws against the exact posterior moments."""
    for case in cases:
        counts, visits, reward_sums = posterior_case(case)
        where = f"sample_posterior_mdp on the counts of case {case} ({n_draws} draws)"
        transitions, mean_rewards = _draw(sample_posterior_mdp, counts, visits, reward_sums, n_draws, seed + case, where)
        if np.any(transitions < 0):
            fail(f"{where}: a sampled probability is negative.", hint="normalise positive Gamma draws; they are never negative.")
        sums = transitions.sum(-1)
        if not np.allclose(sums, 1.0, atol=1e-6):
            fail(f"{where}: the sampled P(. | s, a) do not sum to 1 over the next states.", expected=1.0,
                 got=sums[0], hint="normalise the Gamma draws over the LAST axis (the next state s'): "
                                   "g / g.sum(axis=-1, keepdims=True).")
        p_mean, p_var, m_mean, m_var = posterior_moments(counts, visits, reward_sums)
        got_p_var, got_m_var = transitions.var(0, ddof=1), mean_rewards.var(0, ddof=1)
        if np.all(got_p_var < 1e-12) and np.all(got_m_var < 1e-12):
            fail(f"{where}: all {n_draws} draws are the same MDP.",
                 hint="PSRL plans in a random MDP drawn from the posterior; returning the posterior mean (or one "
                      "draw shared by every row) is the greedy agent. Draw new random numbers for every entry.")
        for name, spread, shape in (("mean rewards mu", got_m_var, "mean_rewards' shape, leading dimensions included"),
                                    ("transition probabilities P", got_p_var, "transition_counts' shape, leading "
                                                                              "dimensions included")):
            if np.all(spread < 1e-12):
                fail(f"{where}: every draw has the same {name} (the other part does vary).",
                     hint=f"the inputs have a leading batch dimension (one trial per row): draw the random numbers with "
                          f"the full shape ({shape}), not one draw shared by every row.")
        again = call_student(sample_posterior_mdp, counts.copy(), visits.copy(), reward_sums.copy(),
                             np.random.default_rng(123), name="sample_posterior_mdp")
        twice = call_student(sample_posterior_mdp, counts.copy(), visits.copy(), reward_sums.copy(),
                             np.random.default_rng(123), name="sample_posterior_mdp")
        if not (np.allclose(np.asarray(again[0], float), np.asarray(twice[0], float))
                and np.allclose(np.asarray(again[1], float), np.asarray(twice[1], float))):
            fail(f"{where}: two calls with generators seeded alike gave different MDPs.",
                 hint="draw every random number from the `rng` argument (rng.standard_gamma, rng.standard_normal), "
                      "not from np.random, so that runs are reproducible.")
        # transition probabilities: mean and variance of each P(s' | s, a)
        p_se = np.sqrt(p_var / n_draws)
        got_p = transitions.mean(0)
        if not np.all(_within(got_p, p_mean, p_se)):
            bad = np.unravel_index(np.argmax(np.abs(got_p - p_mean) / p_se), p_mean.shape)
            s, a = bad[0], bad[1]
            alpha_wrong = counts[s, a] / max(counts[s, a].sum(), 1.0)
            if np.allclose(got_p[s, a], alpha_wrong, atol=6 * p_se[s, a].max() + 1e-9):
                hint = "the Dirichlet prior adds alpha_0 = 1 to every count: Dirichlet(1 + N(s, a, .))."
            else:
                hint = ("P(. | s, a) ~ Dirichlet(1 + N(s, a, .)): draw g ~ Gamma(1 + N(s, a, s')) for every next "
                        "state s' and normalise over s'.")
            fail(f"{where}: the average of the sampled P(. | s={s}, a={a}) is not the posterior mean "
                 f"(1 + N(s, a, s')) / (S + N(s, a)).", expected=p_mean[s, a], got=got_p[s, a], hint=hint)
        p_fourth = ((transitions - got_p) ** 4).mean(0)
        p_var_se = np.sqrt(np.maximum(p_fourth - got_p_var ** 2, 0.0) / n_draws) + 1e-12
        if not np.all(_within(got_p_var, p_var, p_var_se, n_se=8.0)):
            bad = np.unravel_index(np.argmax(np.abs(got_p_var - p_var) / p_var_se), p_var.shape)
            fail(f"{where}: the spread of the sampled P(s'={bad[2]} | s={bad[0]}, a={bad[1]}) is not the posterior's.",
                 expected=float(p_var[bad]), got=float(got_p_var[bad]),
                 hint="draw the Gamma variables with shape 1 + N(s, a, s') and scale 1, then normalise; do not "
                      "rescale or smooth the draws.")
        # mean rewards: Normal with mean sum(r) / (1 + N) and variance 1 / (1 + N)
        m_se = np.sqrt(m_var / n_draws)
        got_m = mean_rewards.mean(0)
        if not np.all(_within(got_m, m_mean, m_se)):
            s, a = np.unravel_index(np.argmax(np.abs(got_m - m_mean) / m_se), m_mean.shape)
            n_sa, sum_sa = visits[s, a], reward_sums[s, a]
            if n_sa > 0 and abs(got_m[s, a] - sum_sa / n_sa) < 6 * m_se[s, a]:
                hint = ("that is the plain average of the rewards; the posterior mean shrinks it toward the prior "
                        "mean mu_0 = 0: (tau_0 * mu_0 + sum r) / (tau_0 + N) with tau_0 = 1.")
            elif abs(got_m[s, a] - (1.0 + sum_sa) / (1.0 + n_sa)) < 6 * m_se[s, a]:
                hint = "use the prior mean mu_0 = 0 of the paper's baselines (not the task distribution's 1)."
            else:
                hint = "posterior mean of mu(s, a): (tau_0 * mu_0 + sum r) / (tau_0 + N(s, a)) with mu_0 = 0, tau_0 = 1."
            fail(f"{where}: the average of the sampled mu(s={s}, a={a}) (N = {int(n_sa)}, sum r = {sum_sa}) "
                 f"is not the posterior mean.", expected=float(m_mean[s, a]), got=float(got_m[s, a]), hint=hint)
        m_var_se = m_var * np.sqrt(2.0 / (n_draws - 1))
        if not np.all(_within(got_m_var, m_var, m_var_se)):
            s, a = np.unravel_index(np.argmax(np.abs(got_m_var - m_var) / m_var_se), m_var.shape)
            ratio = got_m_var[s, a] / m_var[s, a]
            if abs(got_m_var[s, a] - m_var[s, a] ** 2) < 6 * m_var_se[s, a] * m_var[s, a] + 1e-9 and visits[s, a] > 0:
                hint = ("you used the variance 1 / (1 + N) as the standard deviation: the noise to add is "
                        "rng.standard_normal(...) / sqrt(1 + N(s, a)).")
            elif abs(got_m_var[s, a] - 1.0) < 6 * np.sqrt(2.0 / n_draws) and visits[s, a] > 0:
                hint = ("the spread does not shrink with N: that is the spread of one reward (variance 1), not of "
                        "the unknown mean mu(s, a), whose posterior variance is 1 / (1 + N(s, a)).")
            else:
                hint = f"the posterior variance of mu(s, a) is 1 / (1 + N(s, a)); yours is {ratio:.2f} times that."
            fail(f"{where}: the spread of the sampled mu(s={s}, a={a}) (N = {int(visits[s, a])}) is not the "
                 f"posterior's.", expected=float(m_var[s, a]), got=float(got_m_var[s, a]), hint=hint)
        passed(f"{where}: rows sum to 1; means and variances of P and mu match the posterior")


# -- exercise 3: one step of an MDP trial ---------------------------------------------------
class _SpyMDP(BatchedTabularMDP):
    """A ``BatchedTabularMDP`` that counts its resets and steps."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.resets = 0
        self.steps = 0

    def reset(self) -> np.ndarray:
        self.resets += 1
        return super().reset()

    def step(self, actions):
        self.steps += 1
        return super().step(actions)


def reference_trial_step(mdp: BatchedTabularMDP, actions: np.ndarray):
    """What ``MDPTrials.step`` does: step, and at an episode's end go back to the start state."""
    states, rewards, _, truncated, _ = mdp.step(actions)
    if truncated.all():
        states = mdp.reset()
    return np.eye(mdp.n_states)[states], rewards, truncated.astype(np.float64)


def check_trial_step(trial_step: Callable, seed: int = 0, batch_size: int = 4, n_states: int = 10, n_actions: int = 5,
                     horizon: int = 4, n_episodes: int = 3) -> None:
    """Play ``n_episodes`` episodes through the student's function and the reference with the same seeds."""
    transitions, mean_rewards = sample_mdps(batch_size, seed=seed, n_states=n_states, n_actions=n_actions)
    actions = np.random.default_rng(seed + 1).integers(0, n_actions, size=(n_episodes * horizon, batch_size))
    student = _SpyMDP(transitions, mean_rewards, horizon=horizon, seed=seed + 2)
    reference = BatchedTabularMDP(transitions, mean_rewards, horizon=horizon, seed=seed + 2)
    student.reset()
    reference.reset()
    student.resets = 0
    where = (f"trial_step on {batch_size} MDPs (S={n_states}, A={n_actions}, T={horizon} steps per episode), "
             f"{n_episodes} episodes")
    for t in range(n_episodes * horizon):
        steps_before, resets_before = student.steps, student.resets
        result = call_student(trial_step, student, actions[t].copy(), name="trial_step")
        exp_obs, exp_rewards, exp_dones = reference_trial_step(reference, actions[t])
        episode, step = divmod(t, horizon)
        at = f"{where}: step {step + 1} of episode {episode + 1}"
        if not (isinstance(result, (tuple, list)) and len(result) == 3):
            fail(f"{at}: trial_step must return a tuple (observations, rewards, dones); got {type(result).__name__}.")
        if student.steps - steps_before != 1:
            fail(f"{at}: mdp.step was called {student.steps - steps_before} times in one call of trial_step.",
                 hint="step the MDP exactly once per call: one action per row, one transition.")
        obs, rewards, dones = result
        obs = np.asarray(obs, dtype=np.float64)
        if obs.shape != exp_obs.shape:
            if obs.shape == (batch_size,):
                hint = "return the one-hot encoding of the states, np.eye(mdp.n_states)[states], not the state numbers."
            elif obs.shape == (batch_size, n_actions):
                hint = "one-hot over the STATES: np.eye(mdp.n_states)[states] (n_states columns), not over the actions."
            else:
                hint = "observations are one-hot states, one row per MDP: shape (B, n_states)."
            fail(f"{at}: the observations have the wrong shape.", expected=exp_obs.shape, got=obs.shape, hint=hint)
        if not (np.all((obs == 0) | (obs == 1)) and np.all(obs.sum(-1) == 1)):
            fail(f"{at}: the observations are not one-hot (one 1 per row, 0 elsewhere); the first two rows:",
                 expected=exp_obs[:2], got=obs[:2],
                 hint="np.eye(mdp.n_states)[states] gives one one-hot row per state.")
        rewards = as_array(rewards, f"{at}: the rewards", shape=exp_rewards.shape)
        dones = as_array(dones, f"{at}: the done flags", shape=exp_dones.shape)
        last = step == horizon - 1
        resets = student.resets - resets_before
        if last and not np.allclose(dones, 1.0):
            fail(f"{at} (the last step of the episode): the done flag must be 1.", expected=exp_dones, got=dones,
                 hint="done = 1 exactly where the episode ended (truncated is True after T steps): it is the only "
                      "way the recurrent policy learns that an episode is over.")
        if not last and not np.allclose(dones, 0.0):
            if episode > 0 and step == 0 and resets == 0:
                hint = ("the episode did not restart: call mdp.reset() when the episode ends, which also restarts "
                        "the step counter (setting the states to 0 is not enough).")
            elif episode > 0 and resets == 0:
                hint = "the episode did not restart: call mdp.reset() when the episode ends (truncated is True)."
            else:
                hint = "done = 1 only on the last step of an episode (where truncated is True), 0 elsewhere."
            fail(f"{at}: the done flag must be 0 in the middle of an episode.", expected=exp_dones, got=dones, hint=hint)
        if not np.allclose(rewards, exp_rewards):
            fail(f"{at}: the rewards are not those of the MDP's step.", expected=exp_rewards, got=rewards,
                 hint="return the rewards mdp.step(actions) gives, for the step just taken.")
        if not np.allclose(obs, exp_obs):
            got_states, exp_states = obs.argmax(-1), exp_obs.argmax(-1)
            if last and resets == 0:
                hint = ("after the last step of an episode, go back to the start state with mdp.reset() and return "
                        "its one-hot: the policy's next action is taken from the start state of the next episode.")
            elif last and resets and np.all(exp_states == START_STATE):
                hint = ("you reset the MDP but returned the state the episode ended in; return the one-hot of the "
                        "start state mdp.reset() gives, where the next action is taken.")
            elif not last and np.all(got_states == START_STATE):
                hint = "reset only when the episode ends (truncated is True), not after every step."
            else:
                hint = "return the one-hot of the states mdp.step(actions) moved to (or of the start state after a reset)."
            fail(f"{at}: wrong observations (states shown as numbers).", expected=exp_states, got=got_states, hint=hint)
        if not last and resets:
            fail(f"{at}: mdp.reset() was called in the middle of an episode.",
                 hint="reset only when the episode ends (truncated is True), not after every step.")
    passed(f"{where}: observations, rewards and done flags exact, reset at every episode's end")
