"""Classical agents for random tabular MDPs: the non-learned rows of RL² Table 2.

Setting (``metarl_course.envs.tabular_mdp``): |S| = 10, |A| = 5, episodes of T = 10
steps from state 0, a trial is n episodes on one MDP drawn from p(MDP).

Every agent here is *model based*. It keeps the exact Bayesian posterior of the MDP
under the prior the tasks are drawn from (``TabularPosterior``):

- transitions: P(· | s, a) ~ Dirichlet(α₀ + N(s, a, ·)), α₀ = 1;
- mean rewards (noise variance 1 known): μ(s, a) ~ N(m, 1/τ) with
  τ = τ₀ + N(s, a) and m = (τ₀ μ₀ + Σ r) / τ, prior precision τ₀ = 1.

The prior mean μ₀ is a parameter. μ₀ = 1 is the prior the tasks are drawn from (the
agents are then exactly Bayesian); μ₀ = 0 is the default of Osband's TabulaRL code, from
which the RL² authors adopted their baselines, and it reproduces their Table 2 (greedy
≈ 135 and PSRL ≈ 137 at n = 10, against ≈ 154 and ≈ 132 with μ₀ = 1: a pessimistic prior
makes greedy play explore less and posterior sampling explore less wildly).

At the start of every episode the agent *plans*: it turns the posterior into
time-dependent action values Q_h(s, a), h = 0..T-1, by finite-horizon value iteration
on some MDP, and then acts greedily on them for the T steps of the episode (ties broken
at random). The agents differ only in the MDP they plan in:

- ``plan_random``: none (all Q equal, so every action is a random tie);
- ``plan_greedy``: the posterior-mean MDP (ε-greedy adds random actions when acting);
- ``plan_psrl``: one MDP sampled from the posterior (PSRL, Osband et al. 2013);
- ``plan_opsrl``: the elementwise max of Q over several sampled MDPs (optimistic PSRL,
  as in Osband's TabulaRL);
- ``plan_beb``: the posterior-mean MDP with the reward bonus β / (1 + N(s, a)) (BEB,
  Kolter & Ng 2009);
- ``plan_ucrl2``: the most optimistic MDP in confidence sets around the estimates, by
  extended value iteration (UCRL2, Jaksch et al. 2010, in finite-horizon form).

The oracle knows the MDP: ``optimal_q`` is exact value iteration on the true model.
"""

from __future__ import annotations

import math
from functools import partial
from typing import Callable

import numpy as np

from metarl_course.baselines.bandits import argmax_random_ties
from metarl_course.envs.tabular_mdp import HORIZON, START_STATE, BatchedTabularMDP, sample_mdps

ALPHA0 = 1.0  # Dirichlet prior concentration per next state
MU0 = 1.0  # prior mean of μ(s, a): the task distribution's
PAPER_MU0 = 0.0  # the prior mean that reproduces RL² Table 2 (TabulaRL's default)
TAU0 = 1.0  # prior precision of μ(s, a)
TAU = 1.0  # precision of the reward noise (variance 1)


# -- value iteration ----------------------------------------------------------------
def finite_horizon_q(transitions: np.ndarray, mean_rewards: np.ndarray, horizon: int = HORIZON) -> np.ndarray:
    """Optimal time-dependent action values of a known MDP, by backward induction.

        Q_h(s, a) = μ(s, a) + Σ_s' P(s' | s, a) max_a' Q_{h+1}(s', a'),   Q_T = 0.

    ``transitions`` (..., S, A, S), ``mean_rewards`` (..., S, A); returns Q with shape
    (..., T, S, A), where Q[..., h] is the value with T − h steps to go.
    """
    q = np.zeros(mean_rewards.shape[:-2] + (horizon,) + mean_rewards.shape[-2:])
    v = np.zeros(mean_rewards.shape[:-1])
    for h in range(horizon - 1, -1, -1):
        q[..., h, :, :] = mean_rewards + np.einsum("...sat,...t->...sa", transitions, v)
        v = q[..., h, :, :].max(axis=-1)
    return q


def optimal_episode_return(
    transitions: np.ndarray, mean_rewards: np.ndarray, horizon: int = HORIZON, start_state: int = START_STATE
) -> np.ndarray:
    """Expected return of one episode under the optimal policy of the known MDP: V*_0(s₀)."""
    return finite_horizon_q(transitions, mean_rewards, horizon)[..., 0, start_state, :].max(axis=-1)


def policy_episode_return(
    transitions: np.ndarray,
    mean_rewards: np.ndarray,
    policy: np.ndarray,
    horizon: int = HORIZON,
    start_state: int = START_STATE,
) -> np.ndarray:
    """Expected return of one episode under a time-dependent stochastic policy.

    ``policy`` (..., T, S, A) holds π_h(a | s). Evaluation by the same backward
    induction with an average instead of a max:
    V_h(s) = Σ_a π_h(a | s) [μ(s, a) + Σ_s' P(s' | s, a) V_{h+1}(s')].
    """
    v = np.zeros(mean_rewards.shape[:-1])
    for h in range(horizon - 1, -1, -1):
        q = mean_rewards + np.einsum("...sat,...t->...sa", transitions, v)
        v = (policy[..., h, :, :] * q).sum(axis=-1)
    return v[..., start_state]


# -- the posterior ------------------------------------------------------------------
class TabularPosterior:
    """Conjugate posterior of B tabular MDPs (one per trial), from the counts of a trial."""

    def __init__(self, batch_size: int, n_states: int, n_actions: int, prior_mean: float = MU0) -> None:
        self.prior_mean = prior_mean
        self.transition_counts = np.zeros((batch_size, n_states, n_actions, n_states))
        self.visits = np.zeros((batch_size, n_states, n_actions))
        self.reward_sums = np.zeros((batch_size, n_states, n_actions))

    def update(self, states: np.ndarray, actions: np.ndarray, rewards: np.ndarray, next_states: np.ndarray) -> None:
        """Add one observed transition (s, a, r, s') per row."""
        rows = np.arange(len(states))
        self.transition_counts[rows, states, actions, next_states] += 1.0
        self.visits[rows, states, actions] += 1.0
        self.reward_sums[rows, states, actions] += rewards

    def mean_transitions(self) -> np.ndarray:
        """E[P(s' | s, a)] = (α₀ + N(s, a, s')) / (S α₀ + N(s, a))."""
        alpha = ALPHA0 + self.transition_counts
        return alpha / alpha.sum(axis=-1, keepdims=True)

    def reward_precision(self) -> np.ndarray:
        """τ(s, a) = τ₀ + τ N(s, a): the precision of the posterior of μ(s, a)."""
        return TAU0 + TAU * self.visits

    def mean_rewards(self) -> np.ndarray:
        """E[μ(s, a)] = (τ₀ μ₀ + τ Σ r) / (τ₀ + τ N(s, a))."""
        return (TAU0 * self.prior_mean + TAU * self.reward_sums) / self.reward_precision()

    def sample(self, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """One MDP per row from the posterior: Dirichlet transitions, Normal mean rewards."""
        gamma = rng.standard_gamma(ALPHA0 + self.transition_counts)
        transitions = gamma / gamma.sum(axis=-1, keepdims=True)
        mean_rewards = self.mean_rewards() + rng.standard_normal(self.visits.shape) / np.sqrt(self.reward_precision())
        return transitions, mean_rewards


# -- the planners: posterior -> Q (B, T, S, A) for the next episode -------------------
Planner = Callable[[TabularPosterior, int, np.random.Generator], np.ndarray]


def plan_random(posterior: TabularPosterior, horizon: int, rng: np.random.Generator) -> np.ndarray:
    """All actions equal: acting greedily with random ties is uniform random play."""
    return np.zeros(posterior.visits.shape[:1] + (horizon,) + posterior.visits.shape[1:])


def plan_greedy(posterior: TabularPosterior, horizon: int, rng: np.random.Generator) -> np.ndarray:
    """Plan in the posterior-mean MDP (certainty equivalence)."""
    return finite_horizon_q(posterior.mean_transitions(), posterior.mean_rewards(), horizon)


def plan_psrl(posterior: TabularPosterior, horizon: int, rng: np.random.Generator) -> np.ndarray:
    """PSRL: plan in one MDP drawn from the posterior (a new draw every episode)."""
    return finite_horizon_q(*posterior.sample(rng), horizon)


def plan_opsrl(posterior: TabularPosterior, horizon: int, rng: np.random.Generator, n_samples: int = 10) -> np.ndarray:
    """Optimistic PSRL: Q_h(s, a) = max over ``n_samples`` posterior MDPs of their Q_h(s, a)."""
    q = finite_horizon_q(*posterior.sample(rng), horizon)
    for _ in range(n_samples - 1):
        q = np.maximum(q, finite_horizon_q(*posterior.sample(rng), horizon))
    return q


def plan_beb(posterior: TabularPosterior, horizon: int, rng: np.random.Generator, beta: float = 1.0) -> np.ndarray:
    """BEB: the posterior-mean MDP with the exploration bonus β / (1 + N(s, a)) added to μ."""
    bonus = beta / (1.0 + posterior.visits)
    return finite_horizon_q(posterior.mean_transitions(), posterior.mean_rewards() + bonus, horizon)


def plan_ucrl2(
    posterior: TabularPosterior, horizon: int, rng: np.random.Generator, scale: float = 1.0, delta: float = 0.05
) -> np.ndarray:
    """UCRL2 in finite-horizon form: extended value iteration over confidence sets.

    With N⁺ = max(1, N(s, a)) and t the number of steps taken so far in the trial
    (Jaksch et al. 2010, eq. 3-4, both widths multiplied by ``scale``):

        |μ(s, a) − μ̂(s, a)| ≤ β_r = scale · sqrt(7 ln(2 S A t / δ) / (2 N⁺)),
        ‖P(· | s, a) − P̂(· | s, a)‖₁ ≤ β_p = scale · sqrt(14 S ln(2 A t / δ) / N⁺),

    and Q_h(s, a) = μ̂ + β_r + max over P in the L1 ball of Σ_s' P(s') V_{h+1}(s')
    (``optimistic_expectation``). The estimates μ̂, P̂ are the posterior means.
    """
    batch, n_states, n_actions = posterior.visits.shape
    t = max(float(posterior.visits.sum(axis=(1, 2)).max()), 1.0)
    n_plus = np.maximum(posterior.visits, 1.0)
    beta_r = scale * np.sqrt(7.0 * math.log(2 * n_states * n_actions * t / delta) / (2.0 * n_plus))
    beta_p = scale * np.sqrt(14.0 * n_states * math.log(2 * n_actions * t / delta) / n_plus)
    rewards = posterior.mean_rewards() + beta_r
    transitions = posterior.mean_transitions()
    q = np.zeros((batch, horizon, n_states, n_actions))
    v = np.zeros((batch, n_states))
    for h in range(horizon - 1, -1, -1):
        q[:, h] = rewards + optimistic_expectation(transitions, beta_p, v)
        v = q[:, h].max(axis=-1)
    return q


def optimistic_expectation(transitions: np.ndarray, radius: np.ndarray, values: np.ndarray) -> np.ndarray:
    """max Σ_s' p(s') V(s') over distributions p with ‖p − P̂‖₁ ≤ radius (Jaksch et al., Fig. 2).

    Move up to radius / 2 of probability onto the best next state, taken from the worst
    next states first. ``transitions`` (B, S, A, S), ``radius`` (B, S, A), ``values`` (B, S).
    """
    order = np.argsort(-values, axis=-1)  # next states, best first
    v_sorted = np.take_along_axis(values, order, axis=-1)[:, None, None, :]
    p = np.take_along_axis(transitions, order[:, None, None, :], axis=-1)
    added = np.minimum(1.0, p[..., 0] + radius / 2.0) - p[..., 0]
    worse_mass = np.cumsum(p[..., ::-1], axis=-1)[..., ::-1] - p  # Σ of p over strictly worse states
    removed = np.minimum(p, np.maximum(0.0, added[..., None] - worse_mass))  # 0 for the best: added ≤ 1 − p[0]
    p = p - removed
    p[..., 0] += added
    return (p * v_sorted).sum(axis=-1)


# -- running and tabulating ---------------------------------------------------------
def run_mdp_agent(
    plan: Planner,
    transitions: np.ndarray,
    mean_rewards: np.ndarray,
    n_episodes: int,
    seed: int | None,
    epsilon: float = 0.0,
    horizon: int = HORIZON,
    prior_mean: float = MU0,
) -> np.ndarray:
    """Play one trial of ``n_episodes`` episodes on each MDP; total reward per trial, (B,).

    Each episode: plan once from the current posterior, then for T steps take the
    greedy action of Q_h (random ties), or with probability ``epsilon`` a random one,
    updating the posterior after every step. ``prior_mean`` is μ₀ of the reward prior.
    """
    env_seed, agent_seed = np.random.SeedSequence(seed).spawn(2)
    env = BatchedTabularMDP(transitions, mean_rewards, horizon, seed=env_seed)
    rng = np.random.default_rng(agent_seed)
    posterior = TabularPosterior(env.batch_size, env.n_states, env.n_actions, prior_mean)
    rows = np.arange(env.batch_size)
    total = np.zeros(env.batch_size)
    for _ in range(n_episodes):
        q = plan(posterior, horizon, rng)
        states = env.reset()
        for h in range(horizon):
            actions = argmax_random_ties(q[rows, h, states], rng)
            if epsilon > 0:
                explore = rng.random(env.batch_size) < epsilon
                actions = np.where(explore, rng.integers(0, env.n_actions, env.batch_size), actions)
            next_states, rewards, _, _, _ = env.step(actions)
            posterior.update(states, actions, rewards, next_states)
            total += rewards
            states = next_states
    return total


# Hyperparameters per horizon n, tuned as the RL² appendix did but on MDPs disjoint from
# the evaluation ones: ``tune(..., n_trials=500, seed=12345)`` with the paper's prior
# μ₀ = 0, over ε ∈ {.01, .05, .1, .2}, β ∈ {.1, .3, 1, 3, 10}, UCRL2 scale ∈ {.01, .03,
# .1, .3, 1} and OPSRL samples ∈ {2, 5, 10, 20} (20 wins by < 1 reward over 10).
TUNED: dict[int, dict[str, float]] = {
    10: {"epsilon": 0.05, "beb_beta": 1.0, "ucrl2_scale": 0.3, "opsrl_samples": 20},
    25: {"epsilon": 0.1, "beb_beta": 3.0, "ucrl2_scale": 0.3, "opsrl_samples": 20},
    50: {"epsilon": 0.1, "beb_beta": 3.0, "ucrl2_scale": 0.3, "opsrl_samples": 20},
    75: {"epsilon": 0.1, "beb_beta": 3.0, "ucrl2_scale": 0.3, "opsrl_samples": 20},
    100: {"epsilon": 0.1, "beb_beta": 3.0, "ucrl2_scale": 0.3, "opsrl_samples": 20},
}
DEFAULTS = {"epsilon": 0.1, "opsrl_samples": 10, "beb_beta": 3.0, "ucrl2_scale": 0.3}


def agents(n_episodes: int) -> dict[str, tuple[Planner, float]]:
    """The table's agents for one horizon: name -> (planner, ε)."""
    h = {**DEFAULTS, **TUNED.get(n_episodes, {})}
    return {
        "random": (plan_random, 0.0),
        "psrl": (plan_psrl, 0.0),
        "opsrl": (partial(plan_opsrl, n_samples=int(h["opsrl_samples"])), 0.0),
        "ucrl2": (partial(plan_ucrl2, scale=h["ucrl2_scale"]), 0.0),
        "beb": (partial(plan_beb, beta=h["beb_beta"]), 0.0),
        "epsilon_greedy": (plan_greedy, h["epsilon"]),
        "greedy": (plan_greedy, 0.0),
    }


def tune(
    make: Callable[[float], tuple[Planner, float]],
    values: list[float],
    n_episodes: int,
    n_trials: int = 500,
    seed: int = 12345,
    prior_mean: float = PAPER_MU0,
) -> tuple[float, list[float]]:
    """Pick the hyperparameter value with the best mean total reward (common random MDPs)."""
    transitions, mean_rewards = sample_mdps(n_trials, seed)
    scores = []
    for value in values:
        plan, epsilon = make(value)
        totals = run_mdp_agent(plan, transitions, mean_rewards, n_episodes, seed + 1, epsilon, prior_mean=prior_mean)
        scores.append(float(totals.mean()))
    return values[int(np.argmax(scores))], scores


def mdp_table(n_episodes: int, n_trials: int, seed: int, prior_mean: float = PAPER_MU0) -> list[dict]:
    """Rows ``{"method", "episodes", "mean", "stderr", "n"}`` for every agent.

    ``episodes`` is the paper's n (episodes per trial); ``n`` the number of trials averaged.

    All agents play the same MDPs. The ``oracle`` row is exact per MDP (n · V*_0(s₀),
    the optimal policy of the known MDP); its stderr is over the sampled MDPs. The
    agents' reward prior mean defaults to the one that reproduces the paper (μ₀ = 0,
    see the module docstring); pass ``prior_mean=MU0`` for the matched, exact prior.
    """
    transitions, mean_rewards = sample_mdps(n_trials, seed)
    rows = []
    for name, (plan, epsilon) in agents(n_episodes).items():
        totals = run_mdp_agent(plan, transitions, mean_rewards, n_episodes, seed + 1, epsilon, prior_mean=prior_mean)
        rows.append(_row(name, n_episodes, totals))
    rows.append(_row("oracle", n_episodes, n_episodes * optimal_episode_return(transitions, mean_rewards)))
    return rows


def _row(method: str, n_episodes: int, totals: np.ndarray) -> dict:
    return {
        "method": method,
        "episodes": n_episodes,
        "mean": float(totals.mean()),
        "stderr": float(totals.std(ddof=1) / math.sqrt(len(totals))),
        "n": len(totals),
    }
