"""Classical strategies for Bernoulli bandits: the non-learned rows of RL² Table 1.

Setting (RL² §4.1): a task is k arm means p_a ~ U[0, 1]; a trial is n pulls of one
task; the score is the total reward of the trial, averaged over tasks.

Every strategy here sees only the *posterior counts* of the current trial: arrays
``successes`` and ``failures`` of shape (B, k), one row per trial of a batch. With the
uniform prior Beta(1, 1) the posterior of arm a is Beta(1 + s_a, 1 + f_a), with mean

    p̄_a = (s_a + 1) / (s_a + f_a + 2).

A strategy is a plain function ``strategy(successes, failures, rng) -> arms`` (arms has
shape (B,)); hyperparameters are keyword arguments, bound with ``functools.partial``
(``partial(epsilon_greedy, epsilon=0.1)``). Ties are always broken uniformly at random
(``argmax_random_ties``): ``np.argmax`` picks the first maximum, which favours low arm
indices within a task.

The module ends with two exact references:

- ``gittins_index_table``: the Gittins index of a Beta arm for a discount γ, by the
  calibration (retirement) equation solved on the lattice of posterior states;
- ``bayes_optimal_value``: the Bayes-optimal expected total reward for horizon n, by
  dynamic programming over posterior states, exact (with ``exact=True``, as a Fraction).
"""

from __future__ import annotations

import math
import sys
from bisect import bisect_right
from fractions import Fraction
from functools import lru_cache, partial
from typing import Callable

import numpy as np

from metarl_course.envs.bandits import BatchedBernoulliBandit, sample_arm_means

Strategy = Callable[[np.ndarray, np.ndarray, np.random.Generator], np.ndarray]
"""``strategy(successes, failures, rng) -> arms``; counts (B, k), arms (B,)."""


# -- helpers ------------------------------------------------------------------------
def argmax_random_ties(values: np.ndarray, rng: np.random.Generator, atol: float = 0.0) -> np.ndarray:
    """Row-wise argmax of ``values`` (B, k); among maxima (within ``atol``) pick uniformly."""
    values = np.asarray(values, dtype=np.float64)
    is_max = values >= values.max(axis=1, keepdims=True) - atol
    noise = rng.random(values.shape)
    return np.where(is_max, noise, -1.0).argmax(axis=1)


def posterior_mean(successes: np.ndarray, failures: np.ndarray) -> np.ndarray:
    """Mean of the Beta(1 + s, 1 + f) posterior: (s + 1) / (s + f + 2)."""
    return (successes + 1.0) / (successes + failures + 2.0)


# -- the strategies -----------------------------------------------------------------
def random_arm(successes: np.ndarray, failures: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Pull an arm uniformly at random; expected total reward n · mean(p)."""
    batch, k = successes.shape
    return rng.integers(0, k, size=batch)


def greedy(successes: np.ndarray, failures: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Pull the arm with the highest posterior mean p̄_a (no deliberate exploration)."""
    return argmax_random_ties(posterior_mean(successes, failures), rng)


def epsilon_greedy(
    successes: np.ndarray, failures: np.ndarray, rng: np.random.Generator, epsilon: float = 0.1
) -> np.ndarray:
    """With probability ε pull a uniformly random arm, otherwise the greedy arm."""
    arms = greedy(successes, failures, rng)
    explore = rng.random(len(arms)) < epsilon
    return np.where(explore, random_arm(successes, failures, rng), arms)


def ucb1(
    successes: np.ndarray,
    failures: np.ndarray,
    rng: np.random.Generator,
    c: float = 1.0,
    prior_pulls: float = 0.0,
) -> np.ndarray:
    """UCB1 (Auer et al. 2002): pull argmax_a  p̂_a + c · sqrt(2 ln t / n_a).

    n_a is the number of pulls of arm a, p̂_a its empirical mean, t the number of pulls
    so far (at least 1). With ``prior_pulls = 0`` (the textbook algorithm) every arm with
    n_a = 0 is pulled first, so the first k pulls try each arm once. With
    ``prior_pulls = 2`` the Beta(1, 1) prior counts as one success and one failure:
    p̂_a = p̄_a and n_a = s_a + f_a + 2, which is what the RL² authors' baseline did (it
    never spends k pulls on a round of initial tries, which matters when k ≥ n).
    """
    t = max(float((successes + failures).sum(axis=1).max()), 1.0)
    pulls = successes + failures + prior_pulls
    if prior_pulls == 0 and np.any(pulls == 0):
        untried = (pulls == 0).astype(np.float64)
        first_round = untried.max(axis=1) > 0
        arms = _ucb1_index_arms(successes, pulls, t, rng, c)
        return np.where(first_round, argmax_random_ties(untried, rng), arms)
    return _ucb1_index_arms(successes + prior_pulls / 2.0, pulls, t, rng, c)


def _ucb1_index_arms(wins: np.ndarray, pulls: np.ndarray, t: float, rng: np.random.Generator, c: float) -> np.ndarray:
    safe = np.maximum(pulls, 1e-12)
    index = wins / safe + c * np.sqrt(2.0 * math.log(t) / safe)
    return argmax_random_ties(index, rng)


def thompson(successes: np.ndarray, failures: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Thompson sampling: draw θ_a ~ Beta(1 + s_a, 1 + f_a), pull argmax_a θ_a."""
    return argmax_random_ties(rng.beta(successes + 1.0, failures + 1.0), rng)


def optimistic_thompson(successes: np.ndarray, failures: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Optimistic Thompson sampling (May et al. 2012): θ_a = max(sample, p̄_a).

    A sample below the posterior mean is replaced by the mean, so uncertainty can only
    make an arm look better, never worse.
    """
    theta = np.maximum(rng.beta(successes + 1.0, failures + 1.0), posterior_mean(successes, failures))
    return argmax_random_ties(theta, rng)


def thompson_most_probable(
    successes: np.ndarray, failures: np.ndarray, rng: np.random.Generator, n_samples: int = 7
) -> np.ndarray:
    """The "OTS" of the RL² authors' baseline code: the most probable of several samples.

    Draw ``n_samples`` joint samples θ ~ Π_a Beta(1 + s_a, 1 + f_a), keep the one with
    the highest posterior density  Σ_a s_a ln θ_a + f_a ln(1 − θ_a), pull its argmax.
    More samples move the kept one towards the posterior mode, i.e. towards greedy.
    This is not May et al.'s OTS (``optimistic_thompson``), but it is what the RL² authors'
    public baseline script calls OTS, and it reproduces the OTS column of RL² Table 1 far
    better than May et al.'s rule does (``bandit_table`` reports both).
    """
    samples = rng.beta(successes + 1.0, failures + 1.0, size=(n_samples,) + successes.shape)
    clipped = np.clip(samples, 1e-300, 1.0 - 1e-16)  # keep 0 · ln 0 out of the density
    log_density = (successes * np.log(clipped) + failures * np.log1p(-clipped)).sum(axis=-1)
    kept = samples[log_density.argmax(axis=0), np.arange(successes.shape[0])]
    return argmax_random_ties(kept, rng)


# -- Gittins index ------------------------------------------------------------------
def gittins(
    successes: np.ndarray, failures: np.ndarray, rng: np.random.Generator, discount: float = 0.9
) -> np.ndarray:
    """Pull the arm with the highest Gittins index ν_γ(s_a, f_a) (see ``gittins_index_table``).

    The Gittins index is optimal for the *infinite-horizon discounted* problem; here it
    is used, as in RL², as a heuristic for the finite, undiscounted trial, with the
    discount γ as the knob that sets how far ahead exploration pays (γ = 1 - 1/n is a
    natural guess; ``TUNED`` holds the values tuned per cell).
    """
    needed = int((successes + failures).max()) + 1
    table = gittins_index_table(discount, max(16, 1 << (needed - 1).bit_length()))
    s, f = successes.astype(np.int64), failures.astype(np.int64)
    return argmax_random_ties(table[s, f], rng)


@lru_cache(maxsize=16)
def gittins_index_table(discount: float, max_pulls: int, lookahead: int | None = None, grid: int = 257) -> np.ndarray:
    """Gittins indices ν_γ(s, f) of a Beta(1 + s, 1 + f) Bernoulli arm, for s + f < max_pulls.

    Calibration (retirement) form: offered a fixed payment λ per step for retiring, the
    advantage of pulling once more and then acting optimally is

        W_λ(s, f) = p − λ + γ [p · V_λ(s + 1, f) + (1 − p) · V_λ(s, f + 1)],
        V_λ = max(0, W_λ),   p = (s + 1) / (s + f + 2),

    and the index is the payment that makes one indifferent: W_ν(s, f) = 0.

    Computation: one backward pass over the lattice of posterior states, vectorised over
    a grid of ``grid`` payments λ in [0, 1]; the root is then interpolated linearly
    between the two grid payments that bracket it (W is convex and decreasing in λ).
    The lattice is cut at depth D = max_pulls + lookahead pulls, where the posterior is
    treated as exact: V_λ = max(0, p − λ) / (1 − γ). ``lookahead`` defaults to
    min(4 / (1 − γ), 3000). Returns an array (max_pulls, max_pulls), NaN where s + f ≥
    max_pulls.
    """
    if not 0.0 < discount < 1.0:
        raise ValueError(f"the discount must lie in (0, 1), got {discount}")
    if lookahead is None:
        lookahead = int(min(4.0 / (1.0 - discount), 3000))
    depth = max_pulls + lookahead
    lam = ((1.0 - np.cos(np.linspace(0.0, np.pi, grid))) / 2.0)[:, None]  # dense near 0 and 1
    s = np.arange(depth + 1)
    p = (s + 1.0) / (depth + 2.0)
    value = np.maximum(0.0, p - lam) / (1.0 - discount)  # diagonal s + f = depth
    table = np.full((max_pulls, max_pulls), np.nan)
    for m in range(depth - 1, -1, -1):
        s = np.arange(m + 1)
        p = (s + 1.0) / (m + 2.0)
        advantage = p - lam + discount * (p * value[:, 1:] + (1.0 - p) * value[:, :-1])
        if m < max_pulls:
            table[s, m - s] = _interpolated_root(lam[:, 0], advantage)
        value = np.maximum(0.0, advantage)
    table.setflags(write=False)  # cached: shared by every caller
    return table


def _interpolated_root(lam: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Column-wise root of w(λ) (decreasing in λ, w[0] > 0 > w[-1]) by linear interpolation."""
    i = np.clip((w >= 0).sum(axis=0) - 1, 0, len(lam) - 2)
    cols = np.arange(w.shape[1])
    w0, w1 = w[i, cols], w[i + 1, cols]
    return lam[i] + (lam[i + 1] - lam[i]) * w0 / (w0 - w1)


def gittins_index_bisection(s: int, f: int, discount: float, depth: int, tol: float = 1e-10) -> float:
    """One Gittins index by bisection on λ, with the same truncation at total depth ``depth``.

    A slow, direct reference for ``gittins_index_table`` (which uses a grid of λ). A state at the
    cut (s + f = depth) is valued by its posterior mean alone, so that is its index.
    """
    if depth < s + f:
        raise ValueError(f"depth {depth} is below the state's {s + f} pulls: the truncation must lie beyond it")
    lo, hi = (s + 1) / (s + f + 2), 1.0
    if depth == s + f:
        return lo
    while hi - lo > tol:
        lam = (lo + hi) / 2
        k = np.arange(depth - (s + f) + 1)  # successes from here on, at the cut
        p = (s + 1 + k) / (depth + 2.0)
        value = np.maximum(0.0, p - lam) / (1.0 - discount)
        for m in range(depth - (s + f) - 1, -1, -1):
            k = np.arange(m + 1)
            p = (s + 1 + k) / (s + f + m + 2.0)
            w = p - lam + discount * (p * value[1:] + (1.0 - p) * value[:-1])
            value = np.maximum(0.0, w)
        lo, hi = (lam, hi) if w[0] > 0 else (lo, lam)
    return (lo + hi) / 2


# -- the Bayes-optimal policy -------------------------------------------------------
# A posterior state is the multiset of per-arm counts: arms are exchangeable, so only
# which (s, f) pairs occur matters, not which arm holds them (untouched arms are all
# (0, 0)). Each pair is coded as one integer s * (n + 1) + f, and a state is the sorted
# tuple of the k codes. A success adds n + 1 to the pulled arm's code, a failure 1.


def bayes_optimal_value(k: int, n: int, exact: bool = False) -> float | Fraction:
    """Bayes-optimal expected total reward of n pulls, k arms, uniform Beta(1, 1) priors.

    Dynamic programming over posterior states (the Bellman equation of the belief MDP):

        V(state) = max_a  p̄_a (1 + V(state after a success of a))
                          + (1 − p̄_a) V(state after a failure of a),   V = 0 after n pulls.

    ``exact=True`` computes in rationals (``fractions.Fraction``): k = 2, n = 10 gives
    16861/2800. The number of states grows fast (``count_posterior_states``); k = 10,
    n = 20 takes seconds, k = 2, n = 100 tens of seconds.
    """
    return _bayes_optimal_table(k, n, exact)[(0,) * k]


def count_posterior_states(k: int, n: int) -> int:
    """Number of posterior states (multisets of k per-arm (s, f) counts) after ≤ n pulls.

    Counts multisets with at most k touched arms by a generating polynomial, without
    enumerating them: ``bandit_table`` uses it to decide whether the DP is tractable.
    """
    ways = np.zeros((n + 1, k + 1), dtype=object)  # ways[t, j]: total t pulls, j touched arms
    ways[0, 0] = 1
    for pulls in range(1, n + 1):
        for _ in range(pulls + 1):  # the pulls + 1 pairs (s, f) with s + f = pulls
            new = ways.copy()
            for copies in range(1, k + 1):
                if copies * pulls > n:
                    break
                new[copies * pulls :, copies:] += ways[: n + 1 - copies * pulls, : k + 1 - copies]
            ways = new
    return int(ways.sum())


@lru_cache(maxsize=8)
def _bayes_optimal_table(k: int, n: int, exact: bool) -> dict[tuple[int, ...], float | Fraction]:
    """V(state) for every posterior state with at least one pull left (memoised recursion)."""
    width = n + 1
    to_number = Fraction if exact else float
    mean = {s * width + f: to_number(s + 1) / (s + f + 2) for s in range(n + 1) for f in range(n + 1 - s)}
    values: dict[tuple[int, ...], float | Fraction] = {}

    def value(state: tuple[int, ...], left: int):
        best = None
        previous = -1
        for i, code in enumerate(state):
            if code == previous:  # arms with equal counts are interchangeable: try one
                continue
            previous = code
            p = mean[code]
            if left == 1:
                q = p  # the last pull: take the best posterior mean
            else:
                rest = state[:i] + state[i + 1 :]  # the other arms, still sorted
                j = bisect_right(rest, code + width, i)
                win = rest[:j] + (code + width,) + rest[j:]
                j = bisect_right(rest, code + 1, i)
                loss = rest[:j] + (code + 1,) + rest[j:]
                v_win = values[win] if win in values else value(win, left - 1)
                v_loss = values[loss] if loss in values else value(loss, left - 1)
                q = p * (1 + v_win) + (1 - p) * v_loss
            if best is None or q > best:
                best = q
        values[state] = best
        return best

    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 4 * n + 100))
    try:
        value((0,) * k, n)
    finally:
        sys.setrecursionlimit(limit)
    return values


def _successor(state: tuple[int, ...], code: int, new_code: int) -> tuple[int, ...]:
    """The sorted state with one arm's ``code`` replaced by ``new_code`` (> code)."""
    i = state.index(code)
    rest = state[:i] + state[i + 1 :]
    j = bisect_right(rest, new_code, i)
    return rest[:j] + (new_code,) + rest[j:]


def bayes_optimal_strategy(k: int, n: int) -> Strategy:
    """The Bayes-optimal strategy for k arms and horizon n, as a ``Strategy``.

    Solves the DP once, then at each pull looks up Q(state, a) for every arm of each row
    (rows with the same counts share the work) and pulls an arm with the highest Q.
    """
    values = _bayes_optimal_table(k, n, False)
    width = n + 1
    mean = {s * width + f: (s + 1) / (s + f + 2) for s in range(n + 1) for f in range(n + 1 - s)}

    def lookup(state: tuple[int, ...]) -> float:
        return values.get(state, 0.0)  # states after the last pull are worth 0

    def strategy(successes: np.ndarray, failures: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        codes = (successes * width + failures).astype(np.int64)
        unique_rows, inverse = np.unique(codes, axis=0, return_inverse=True)
        q = np.empty(unique_rows.shape)
        for r, row in enumerate(unique_rows):
            state = tuple(sorted(int(c) for c in row))
            for a, code in enumerate(row):
                code = int(code)
                win, loss = _successor(state, code, code + width), _successor(state, code, code + 1)
                q[r, a] = mean[code] * (1 + lookup(win)) + (1 - mean[code]) * lookup(loss)
        return argmax_random_ties(q[np.ravel(inverse)], rng, atol=1e-12)

    return strategy


# -- running and tabulating ---------------------------------------------------------
def play_bandit_strategy(strategy: Strategy, means: np.ndarray, n: int, seed: int | None) -> tuple[np.ndarray, np.ndarray]:
    """Play one trial of n pulls on each task (row of ``means``, shape (B, k)).

    Returns the arms pulled and the rewards, both of shape (B, n). The bandit and the
    strategy draw from independent streams spawned from ``seed``.
    """
    env_seed, strategy_seed = np.random.SeedSequence(seed).spawn(2)
    env = BatchedBernoulliBandit(means, seed=env_seed)
    rng = np.random.default_rng(strategy_seed)
    successes = np.zeros(env.means.shape)
    failures = np.zeros(env.means.shape)
    rows = np.arange(env.batch_size)
    arms_pulled = np.zeros((env.batch_size, n), dtype=np.int64)
    rewards_seen = np.zeros((env.batch_size, n))
    for t in range(n):
        arms = strategy(successes, failures, rng)
        rewards = env.pull(arms)
        successes[rows, arms] += rewards
        failures[rows, arms] += 1.0 - rewards
        arms_pulled[:, t], rewards_seen[:, t] = arms, rewards
    return arms_pulled, rewards_seen


def run_bandit_strategy(strategy: Strategy, means: np.ndarray, n: int, seed: int | None) -> np.ndarray:
    """The total reward of one trial of n pulls on each task, shape (B,)."""
    return play_bandit_strategy(strategy, means, n, seed)[1].sum(axis=1)


# Hyperparameters per cell (k, n), tuned as the RL² appendix did, but on tasks disjoint
# from the evaluation ones: ``tune(..., n_trials=2000, seed=12345)`` over the grids
# ε ∈ {0, .01, .02, .05, .1, .2, .3}, c ∈ {0, .05, .1, .15, .2, .3, .5, .7, 1},
# samples ∈ {1, 3, 7, 15, 30}, γ ∈ {.5, .7, .8, .9, .95, .98, .99, .995, .998}.
# Within a cell many values are within noise of each other (n = 10 is nearly flat).
TUNED: dict[tuple[int, int], dict[str, float]] = {
    (5, 10): {"epsilon": 0.0, "ucb_c": 0.05, "most_probable_samples": 30, "gittins_discount": 0.5},
    (10, 10): {"epsilon": 0.0, "ucb_c": 0.1, "most_probable_samples": 30, "gittins_discount": 0.8},
    (50, 10): {"epsilon": 0.0, "ucb_c": 0.0, "most_probable_samples": 30, "gittins_discount": 0.5},
    (5, 100): {"epsilon": 0.0, "ucb_c": 0.2, "most_probable_samples": 30, "gittins_discount": 0.98},
    (10, 100): {"epsilon": 0.0, "ucb_c": 0.2, "most_probable_samples": 30, "gittins_discount": 0.98},
    (50, 100): {"epsilon": 0.01, "ucb_c": 0.2, "most_probable_samples": 30, "gittins_discount": 0.98},
    (5, 500): {"epsilon": 0.05, "ucb_c": 0.2, "most_probable_samples": 7, "gittins_discount": 0.998},
    (10, 500): {"epsilon": 0.05, "ucb_c": 0.2, "most_probable_samples": 15, "gittins_discount": 0.998},
    (50, 500): {"epsilon": 0.05, "ucb_c": 0.2, "most_probable_samples": 30, "gittins_discount": 0.998},
}
DEFAULTS = {"epsilon": 0.05, "ucb_c": 0.2, "most_probable_samples": 7, "gittins_discount": 0.9}

BAYES_OPTIMAL_MAX_STATES = 1_000_000


def strategies(k: int, n: int) -> dict[str, Strategy]:
    """The table's strategies for one cell, with that cell's hyperparameters."""
    h = {**DEFAULTS, **TUNED.get((k, n), {})}
    return {
        "random": random_arm,
        "gittins": partial(gittins, discount=h["gittins_discount"]),
        "thompson": thompson,
        "optimistic_thompson": optimistic_thompson,
        "thompson_most_probable": partial(thompson_most_probable, n_samples=int(h["most_probable_samples"])),
        "ucb1": partial(ucb1, c=h["ucb_c"], prior_pulls=2.0),
        "epsilon_greedy": partial(epsilon_greedy, epsilon=h["epsilon"]),
        "greedy": greedy,
    }


def tune(
    make: Callable[[float], Strategy], values: list[float], k: int, n: int, n_trials: int = 2000, seed: int = 12345
) -> tuple[float, list[float]]:
    """Pick the hyperparameter value with the best mean total reward (common random tasks)."""
    means = sample_arm_means(n_trials, k, seed)
    scores = [float(run_bandit_strategy(make(v), means, n, seed + 1).mean()) for v in values]
    return values[int(np.argmax(scores))], scores


def bandit_table(k: int, n: int, n_trials: int, seed: int) -> list[dict]:
    """Rows ``{"method", "k", "episodes", "mean", "stderr", "n"}`` for every strategy.

    ``episodes`` is the paper's n (pulls per trial); ``n`` is the number of trials
    averaged (0 for exact rows), as in every benchmark row of the kit.

    All strategies play the same tasks (common random numbers). Two exact rows are
    added: ``oracle`` (knows the means: n · k / (k + 1)) and ``bayes_optimal`` (the DP
    value), the latter only where the posterior state space is small enough.
    """
    means = sample_arm_means(n_trials, k, seed)
    rows = []
    for name, strategy in strategies(k, n).items():
        totals = run_bandit_strategy(strategy, means, n, seed + 1)
        rows.append(_row(name, k, n, totals.mean(), totals.std(ddof=1) / math.sqrt(n_trials), n_trials))
    if count_posterior_states(k, n) <= BAYES_OPTIMAL_MAX_STATES:
        rows.append(_row("bayes_optimal", k, n, bayes_optimal_value(k, n), 0.0, 0))
    rows.append(_row("oracle", k, n, n * k / (k + 1), 0.0, 0))
    return rows


def _row(method: str, k: int, n: int, mean: float, stderr: float, n_trials: int) -> dict:
    return {"method": method, "k": k, "episodes": n, "mean": float(mean), "stderr": float(stderr), "n": n_trials}
