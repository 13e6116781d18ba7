"""Checks for unit 01, RL² on Bernoulli bandits.

Exercises: the UCB1 and Thompson-sampling strategies, the exact Bayes-optimal value of a
two-armed bandit, and the four pieces of RL² (input encoding, a trial rollout that keeps
the hidden state, GAE, PPO's clipped loss).
"""

from __future__ import annotations

from fractions import Fraction
from typing import Callable, Sequence

import numpy as np
import torch

from metarl_course import rl2
from metarl_course.baselines import bandits as reference
from metarl_course.checks._core import as_array, call_student, expect_close, fail, passed


# -- exercise 1: UCB1 ---------------------------------------------------------------------
def _ucb1_index(successes: np.ndarray, failures: np.ndarray, c: float, whole_batch_t: bool = False) -> np.ndarray:
    pulls = successes + failures
    t = np.maximum(pulls.sum(axis=1, keepdims=True), 1.0)  # pulls so far in each trial (row)
    if whole_batch_t:                                       # a mistake: t counted over every trial of the batch
        t = np.maximum(pulls.sum(), 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        index = successes / pulls + c * np.sqrt(2.0 * np.log(t) / pulls)
    return np.where(pulls == 0, np.inf, index)


def _few_beside_many(c: float) -> tuple[np.ndarray, np.ndarray]:
    """Two trials: one after a few pulls, whose best arm changes if t counted the pulls of the other trial
    too (600 pulls), and that other trial. Found by a seeded search, so it holds for any c."""
    many_s, many_f = np.array([300.0, 200.0, 250.0, 100.0]), np.array([200.0, 300.0, 250.0, 150.0])
    rng = np.random.default_rng(0)
    while True:
        pulls = rng.integers(1, 8, size=4).astype(float)
        s = np.floor(rng.uniform(0, 1, 4) * (pulls + 1)).clip(max=pulls)
        S, F = np.stack([s, many_s]), np.stack([pulls - s, many_f])
        right, wrong = _ucb1_index(S, F, c)[0], _ucb1_index(S, F, c, whole_batch_t=True)[0]
        if right[wrong.argmax()] < right.max() - 0.05 and (right >= right.max() - 1e-9).sum() == 1:
            return S, F


def _arms(value, batch: int, k: int, what: str) -> np.ndarray:
    arms = as_array(value, what, shape=(batch,))
    if not np.all((arms == np.round(arms)) & (arms >= 0) & (arms < k)):
        fail(f"{what} must hold arm indices 0..{k - 1}; got {arms}")
    return arms.astype(np.int64)


def check_ucb1(ucb1: Callable, seeds: Sequence[int] = (0,), c: float = 1.0) -> None:
    """The student's ``ucb1(successes, failures, rng, c)`` pulls an arm of maximal index."""
    few_beside_many = _few_beside_many(c)   # depends on c only: the same case for every seed
    for seed in seeds:
        rng = np.random.default_rng(seed)
        # counts of 6 trials of a 4-armed bandit after 7..14 pulls, every arm tried
        pulls = rng.integers(1, 5, size=(6, 4)).astype(float)
        successes = np.floor(rng.uniform(0, 1, size=pulls.shape) * (pulls + 1)).clip(max=pulls)
        failures = pulls - successes
        untried = np.array([[3.0, 0.0, 1.0, 2.0], [0.0, 0.0, 0.0, 0.0]]), np.array([[1.0, 0.0, 2.0, 0.0], [0.0, 0.0, 0.0, 0.0]])
        for s, f, label in ((successes, failures, "every arm tried"), (*untried, "some arms never tried"),
                            (*few_beside_many, "a trial of few pulls beside one of many")):
            index = _ucb1_index(s, f, c)
            got = _arms(call_student(ucb1, s.copy(), f.copy(), np.random.default_rng(seed), c=c), len(s), 4, "the arms")
            rows = np.arange(len(s))
            best = index.max(axis=1)
            wrong = index[rows, got] < best - 1e-9
            if not wrong.any():
                continue
            r = int(np.argmax(wrong))
            where = f"ucb1 with successes {s[r].tolist()}, failures {f[r].tolist()}, c={c} ({label})"
            pulled, mean = s[r] + f[r], np.divide(s[r], s[r] + f[r], out=np.zeros(4), where=s[r] + f[r] > 0)

            def chosen_by(variant: np.ndarray) -> bool:
                """Does a mistaken index explain every arm: in every row, one of its best arms?"""
                return bool((variant[rows, got] >= variant.max(axis=1) - 1e-9).all())

            mistakes = [(_ucb1_index(s, f, c, whole_batch_t=True), "t is the number of pulls so far in that trial, "
                         "the sum of its own row's n_a, not the pulls of the whole batch: every trial is a separate bandit."),
                        (_ucb1_index(s, f, 1.0), f"the bonus is scaled by c (here c = {c}): index_a = s_a / n_a + "
                                                 "c * sqrt(2 ln t / n_a).")][: 2 if c != 1.0 else 1]
            explained = [hint for variant, hint in mistakes if chosen_by(variant)]
            if explained:
                hint = explained[0] if len(explained) == 1 else "one of two mistakes fits these arms: " + " Or: ".join(explained)
            elif (pulled == 0).any() and pulled[got[r]] > 0:
                hint = "an arm that was never pulled has an infinite index: try every arm once before using the formula."
            elif got[r] == int(np.argmax(mean)):
                hint = "that is the greedy arm; add the exploration bonus c * sqrt(2 ln t / n_a)."
            elif got[r] == int(np.argmin(pulled)) and label == "every arm tried":
                hint = "the least-pulled arm is not always the one with the highest index: add the bonus to the empirical mean."
            else:
                hint = "index_a = s_a / n_a + c * sqrt(2 ln t / n_a), with n_a = s_a + f_a and t the total number of pulls so far."
            fail(f"{where}: arm {got[r]} does not have the highest UCB1 index.",
                 expected=f"one of arms {np.flatnonzero(index[r] >= best[r] - 1e-9).tolist()} (indices {np.round(index[r], 3).tolist()})",
                 got=int(got[r]), hint=hint)
    _check_random_ties(ucb1, "ucb1", c=c)
    passed(f"ucb1 pulls an arm of maximal index p̂ + c·sqrt(2 ln t / n), untried arms first ({len(seeds)} seeds)")


def _check_random_ties(strategy: Callable, name: str, **kwargs) -> None:
    """All-zero counts: every arm ties, so over many rows every arm must be chosen."""
    zeros = np.zeros((400, 4))
    arms = _arms(call_student(strategy, zeros, zeros.copy(), np.random.default_rng(123), **kwargs), 400, 4, "the arms")
    counts = np.bincount(arms, minlength=4)
    if counts.min() < 50:
        fail(f"{name} on 400 fresh trials (all counts zero, so all arms tie) chose the arms {counts.tolist()} times.",
             hint="break ties uniformly at random (np.argmax always picks the first maximum, i.e. arm 0): "
                  "use metarl_course.baselines.argmax_random_ties(values, rng).")


# -- exercise 2: Thompson sampling -----------------------------------------------------------
def check_thompson(thompson: Callable, seed: int = 0, n_rows: int = 20_000) -> None:
    """Thompson sampling picks each arm with probability P(θ_a is the largest)."""
    successes = np.array([[2.0, 0.0, 5.0], [0.0, 0.0, 0.0], [9.0, 1.0, 0.0]])
    failures = np.array([[1.0, 0.0, 6.0], [3.0, 0.0, 1.0], [9.0, 0.0, 2.0]])
    # P(arm a has the largest sample), by a large seeded Monte Carlo over the exact posteriors
    draws = np.random.default_rng(999).beta(successes + 1.0, failures + 1.0, size=(400_000, 3, 3))
    p_best = np.stack([np.bincount(draws[:, r].argmax(axis=1), minlength=3) / len(draws) for r in range(3)])
    s, f = np.repeat(successes, n_rows, axis=0), np.repeat(failures, n_rows, axis=0)
    arms = _arms(call_student(thompson, s, f, np.random.default_rng(seed)), len(s), 3, "the arms").reshape(3, n_rows)
    freq = np.stack([np.bincount(row, minlength=3) / n_rows for row in arms])
    tol = 5 * np.sqrt(p_best * (1 - p_best) / n_rows) + 1e-3
    bad = np.abs(freq - p_best) > tol
    if bad.any():
        r = int(np.argmax(bad.any(axis=1)))
        means = (successes[r] + 1) / (successes[r] + failures[r] + 2)
        if np.allclose(freq[r], np.eye(3)[np.argmax(means)], atol=0.02):
            hint = "it always picks the arm with the best posterior mean: that is greedy. Draw θ_a ~ Beta(1 + s_a, 1 + f_a) and pull the argmax of the samples."
        elif np.allclose(freq[r], 1 / 3, atol=0.03):
            hint = "the choice does not depend on the counts: sample from each arm's posterior Beta(1 + s_a, 1 + f_a)."
        else:
            hint = "sample θ_a ~ Beta(1 + s_a, 1 + f_a) (the uniform prior adds one success and one failure) and pull argmax θ."
        fail(f"thompson with successes {successes[r].tolist()} and failures {failures[r].tolist()} picks the arms with the "
             f"wrong frequencies over {n_rows} draws.", expected=np.round(p_best[r], 3), got=np.round(freq[r], 3), hint=hint)
    passed("thompson picks each arm with the posterior probability that it is the best arm")


# -- exercise 3: the Bayes-optimal value of a two-armed bandit -----------------------------------
def check_bayes_optimal_two_arms(bayes_value: Callable, horizons: Sequence[int] = (1, 2, 10)) -> None:
    """``bayes_value(n)`` is the Bayes-optimal expected total reward of n pulls of 2 uniform arms."""
    hand = {1: Fraction(1, 2), 2: Fraction(13, 12)}  # n = 2: 1/2 + (1/2)(2/3) + (1/2)(1/2)
    for n in horizons:
        expected = hand.get(n) or reference.bayes_optimal_value(2, n, exact=n <= 12)
        got = as_array(call_student(bayes_value, n), f"bayes_value({n})", shape=())
        if abs(float(got) - float(expected)) <= 1e-9:
            continue
        if n >= 2 and abs(float(got) - n / 2) < 1e-9:
            hint = "n/2 is what random play earns; the value must take the max over arms of the expected future reward."
        elif n >= 2 and abs(float(got) - n * 2 / 3) < 1e-6:
            hint = "n·2/3 is the oracle that knows the means; the Bayes-optimal agent only knows the posterior."
        elif float(got) > float(expected):
            hint = ("too high: the maximum must be taken *before* the outcome is seen (max over arms of an expectation), "
                    "not after (expectation of a max), and the posterior mean of an arm is (s + 1) / (s + f + 2).")
        else:
            hint = ("V(counts, left) = max_a [ p̄_a (1 + V(after success of a)) + (1 - p̄_a) V(after failure of a) ], "
                    "p̄_a = (s_a + 1) / (s_a + f_a + 2), V = 0 when no pulls are left.")
        fail(f"bayes_value({n}) is wrong" + (f" (exactly {expected} = {float(expected):.6f})" if isinstance(expected, Fraction) else "."),
             expected=float(expected), got=float(got), hint=hint)
    passed(f"bayes_value matches the exact Bayes-optimal values for n = {', '.join(map(str, horizons))}")


# -- exercise 4: the RL² input ------------------------------------------------------------
def check_rl2_inputs(rl2_inputs: Callable, seed: int = 0) -> None:
    """x_t = [o_t, onehot(a_{t-1}), r_{t-1}, d_{t-1}]; no previous action (-1) is all zeros."""
    gen = torch.Generator().manual_seed(seed)
    B, obs_dim, k = 5, 2, 4
    obs = torch.rand(B, obs_dim, generator=gen)
    prev_action = torch.tensor([-1, 0, 3, 2, 1])
    prev_reward = torch.rand(B, generator=gen)
    prev_done = torch.tensor([0.0, 1.0, 1.0, 0.0, 1.0])
    expected = rl2.rl2_inputs(obs, prev_action, prev_reward, prev_done, k)
    got = call_student(rl2_inputs, obs.clone(), prev_action.clone(), prev_reward.clone(), prev_done.clone(), k)
    if not isinstance(got, torch.Tensor):
        fail(f"rl2_inputs must return a torch tensor; got {type(got).__name__}.", hint="use torch.cat, not np.concatenate.")
    got = as_array(got.detach().float(), "x_t", shape=tuple(expected.shape))
    want = expected.numpy()
    if np.allclose(got, want):
        passed("rl2_inputs builds [o, onehot(a_prev), r_prev, d_prev], with no action before the first step")
        return
    if np.allclose(got[1:], want[1:]) and got[0, obs_dim + k - 1] == 1:
        hint = ("at the first step prev_action is -1, and onehot[-1] sets the *last* column (Python's negative indexing): "
                "leave the one-hot all zeros where prev_action < 0.")
    elif np.allclose(got[1:], want[1:]) and got[0, obs_dim] == 1:
        hint = ("at the first step prev_action is -1, which means no action yet, and column 0 was set (clamping -1 "
                "to 0 does that): leave the one-hot all zeros where prev_action < 0.")
    elif np.allclose(got[:, :obs_dim], want[:, :obs_dim]) and np.allclose(got[:, obs_dim:obs_dim + k], want[:, obs_dim:obs_dim + k]) \
            and np.allclose(got[:, -2:], want[:, [-1, -2]]):
        hint = "reward and done flag are swapped: the order is [o, onehot(a), r, d]."
    elif not np.allclose(got[:, :obs_dim], want[:, :obs_dim]):
        hint = "the observation o_t comes first, unchanged."
    elif not np.allclose(got[:, -1], want[:, -1]):
        hint = "the last entry is the previous done flag d_{t-1}."
    else:
        hint = "one-hot the previous action into n_actions columns: column a_{t-1} is 1, the others 0."
    fail("rl2_inputs is wrong (rows: trials; columns: o (2), onehot(a_prev) (4), r_prev, d_prev).",
         expected=want, got=got, hint=hint)


# -- exercise 5: a trial rollout that keeps the memory --------------------------------------
def _deterministic_bandit(means: np.ndarray, n: int) -> rl2.BanditTrials:
    return rl2.BanditTrials(means, n, seed=0)  # means of 0 and 1 make every reward certain


def check_collect_trials(collect_trials: Callable, seed: int = 0, n: int = 6) -> None:
    """The rollout equals the reference step for step when actions are greedy and rewards certain,
    and its values are those of one GRU unrolled over the whole trial."""
    torch.manual_seed(seed)
    k = 3
    policy = rl2.RL2Policy(1 + k + 2, k, hidden_size=8)
    with torch.no_grad():  # a policy whose choices depend on its memory
        policy.policy_head.weight.normal_(0.0, 2.0, generator=torch.Generator().manual_seed(seed))
    means = np.random.default_rng(seed).integers(0, 2, size=(7, k)).astype(float)
    expected = rl2.collect_trials(policy, _deterministic_bandit(means, n), rl2.rl2_inputs, greedy=True)
    got = call_student(collect_trials, policy, _deterministic_bandit(means, n), rl2.rl2_inputs, greedy=True)
    if not isinstance(got, rl2.Trials):
        fail(f"collect_trials must return a Trials; got {type(got).__name__}.",
             hint="end with `return Trials(**{key: torch.stack(items) for key, items in steps.items()})` as in the template.")
    for key in ("inputs", "actions", "rewards", "dones", "values", "logp"):
        want, have = getattr(expected, key), getattr(got, key)
        if tuple(have.shape) != tuple(want.shape):
            fail(f"Trials.{key} has the wrong shape (steps, trials, ...).", expected=tuple(want.shape), got=tuple(have.shape))
    _, values_with_memory, _ = policy(got.inputs, policy.initial_state(got.inputs.shape[1]))
    T, B = got.actions.shape
    _, values_forgetful, _ = policy(got.inputs.reshape(1, T * B, -1), policy.initial_state(T * B))
    if torch.allclose(got.values, values_forgetful.reshape(T, B), atol=1e-5) and not torch.allclose(got.values, values_with_memory, atol=1e-5):
        fail("collect_trials resets the policy's memory at every step: its values are those of a GRU started empty each time.",
             hint="keep the hidden state h returned by policy(x[None], h) and pass it to the next step; start from "
                  "policy.initial_state(B) once, before the loop.")
    if not torch.allclose(got.inputs[0], expected.inputs[0], atol=1e-6):
        fail("the first input of the trial is wrong.", expected=expected.inputs[0][:2].numpy(), got=got.inputs[0][:2].numpy(),
             hint="before the first step there is no previous action (-1), reward (0) or done flag (0).")
    if not torch.allclose(got.inputs, expected.inputs, atol=1e-6):
        t = int(np.argmax([not torch.allclose(got.inputs[i], expected.inputs[i], atol=1e-6) for i in range(T)]))
        have, want = got.inputs[t].numpy(), expected.inputs[t].numpy()
        if np.allclose(have[:, -1], 0) and not np.allclose(want[:, -1], 0):
            hint = "the done flag of the previous step must be fed back: prev_done = done after every step."
        elif t >= 1 and np.allclose(have[:, 1:1 + k], expected.inputs[t - 1][:, 1:1 + k].numpy()):
            hint = "the previous action is not updated after the step: prev_action = action."
        elif not np.allclose(have[:, -2], want[:, -2]):
            hint = "the previous reward must be the reward of the action just taken: prev_reward = reward after env.step."
        else:
            hint = "at each step x = encode(obs, prev_action, prev_reward, prev_done, n_actions), then update all four."
        fail(f"the input x_t at step {t} differs from the reference rollout (greedy actions, certain rewards).",
             expected=want[:3], got=have[:3], hint=hint)
    if not torch.equal(got.actions, expected.actions) or not torch.allclose(got.values, expected.values, atol=1e-5):
        fail("same inputs but different actions or values.",
             hint="feed the GRU one step at a time with the hidden state carried over: logits, value, h = policy(x[None], h).")
    if not torch.allclose(got.rewards, expected.rewards) or not torch.allclose(got.dones, expected.dones):
        fail("rewards or done flags are not the ones the environment returned.", expected=expected.rewards[:, 0].numpy(),
             got=got.rewards[:, 0].numpy())
    if not torch.allclose(got.logp, expected.logp, atol=1e-5):
        fail("logp must be the log-probability of the action taken under the policy's distribution.",
             hint="dist = Categorical(logits=logits[0]); logp = dist.log_prob(action).")
    # sampling mode: the log-probabilities must match the actions actually taken
    sampled = call_student(collect_trials, policy, _deterministic_bandit(means, n), rl2.rl2_inputs)
    logits, _, _ = policy(sampled.inputs, policy.initial_state(B))
    logp = torch.distributions.Categorical(logits=logits).log_prob(sampled.actions)
    if not torch.allclose(logp, sampled.logp, atol=1e-5):
        fail("with greedy=False, logp does not match the sampled actions.", hint="sample the action from dist and take dist.log_prob(action).")
    if torch.equal(sampled.actions, expected.actions) and n * B > 30:
        torch.manual_seed(seed + 1)
        again = call_student(collect_trials, policy, _deterministic_bandit(means, n), rl2.rl2_inputs)
        if torch.equal(again.actions, expected.actions):
            fail("with greedy=False the actions are always the greedy ones.", hint="sample: action = dist.sample() unless greedy.")
    _check_observations_move_on(collect_trials, seed)
    passed(f"collect_trials keeps the memory across the {n} episodes of a trial and matches the reference rollout")


def _check_observations_move_on(collect_trials: Callable, seed: int) -> None:
    """Bandit observations never change, so a rollout that keeps the first one passes on bandits: replay the
    reference on trials of small MDPs (unit 02's), whose observation is the one-hot state."""
    from metarl_course.envs.tabular_mdp import sample_mdps

    transitions, mean_rewards = sample_mdps(4, seed=seed, n_states=3, n_actions=2)
    torch.manual_seed(seed)
    policy = rl2.RL2Policy(3 + 2 + 2, 2, hidden_size=8)
    expected = rl2.collect_trials(policy, rl2.MDPTrials(transitions, mean_rewards, 2, seed=seed), rl2.rl2_inputs,
                                  greedy=True)
    got = call_student(collect_trials, policy, rl2.MDPTrials(transitions, mean_rewards, 2, seed=seed), rl2.rl2_inputs,
                       greedy=True)
    if not torch.allclose(got.inputs[..., :3], expected.inputs[..., :3]):
        fail("collect_trials on trials of small MDPs (the observation is the one-hot state, which changes every step): "
             "the observations fed to the policy are not the environment's.",
             hint="after each step the next observation becomes the current one: obs = next_obs.")


# -- exercise 6: GAE ------------------------------------------------------------------------
def check_gae(gae: Callable, seeds: Sequence[int] = (0,)) -> None:
    # hand-derived: r = (1, 2), V = (0.5, 1), γ = 0.9, λ = 0.5 → δ = (1.4, 1), A = (1.4 + 0.45, 1) = (1.85, 1)
    got = call_student(gae, torch.tensor([[1.0], [2.0]]), torch.tensor([[0.5], [1.0]]), 0.9, 0.5)
    _expect_gae(got, np.array([[1.85], [1.0]]), "gae(r=(1, 2), V=(0.5, 1), γ=0.9, λ=0.5)",
                torch.tensor([[1.0], [2.0]]), torch.tensor([[0.5], [1.0]]), 0.9, 0.5)
    for seed in seeds:
        gen = torch.Generator().manual_seed(seed)
        rewards, values = torch.rand(7, 3, generator=gen), torch.randn(7, 3, generator=gen)
        for gamma, lam in ((0.99, 0.3), (0.9, 1.0), (0.8, 0.0)):
            got = call_student(gae, rewards.clone(), values.clone(), gamma, lam)
            _expect_gae(got, rl2.gae(rewards, values, gamma, lam).numpy(), f"gae on 7 steps × 3 trials, γ={gamma}, λ={lam}",
                        rewards, values, gamma, lam)
    passed("gae matches δ_t = r_t + γ V_{t+1} - V_t, A_t = δ_t + γλ A_{t+1} (hand-derived and random cases)")


def _expect_gae(got, expected: np.ndarray, what: str, rewards, values, gamma: float, lam: float) -> None:
    got = as_array(got.detach() if isinstance(got, torch.Tensor) else got, what, shape=expected.shape)
    if np.allclose(got, expected, atol=1e-5):
        return
    r, v = rewards.numpy(), values.numpy()
    candidates = {
        "no discount on the next value: δ_t = r_t + γ V(x_{t+1}) - V(x_t)": _gae_variant(r, v, gamma, lam, next_gamma=1.0),
        "the recursion multiplies by λ only: A_t = δ_t + γ λ A_{t+1}": _gae_variant(r, v, gamma, lam, trace=lam),
        "the values were not subtracted: A_t must be relative to V(x_t)": _gae_variant(r, np.zeros_like(v), gamma, lam),
        "the loop runs forward in time; A_t depends on A_{t+1}, so go backwards": _gae_forward(r, v, gamma, lam),
        "V after the last step of the trial is 0; do not bootstrap from V_T-1 or wrap around": _gae_variant(r, v, gamma, lam, last=v[-1]),
    }
    hint = next((h for h, c in candidates.items() if c.shape == got.shape and np.allclose(got, c, atol=1e-5)),
                "δ_t = r_t + γ V_{t+1} - V_t (V_T = 0), then A_t = δ_t + γ λ A_{t+1} from the last step backwards.")
    fail(f"{what} is wrong.", expected=expected, got=got, hint=hint)


def _gae_variant(r, v, gamma, lam, next_gamma=None, trace=None, last=None) -> np.ndarray:
    next_gamma = gamma if next_gamma is None else next_gamma
    trace = gamma * lam if trace is None else trace
    adv, running = np.zeros_like(r), np.zeros_like(r[0])
    next_value = np.zeros_like(r[0]) if last is None else last
    for t in reversed(range(len(r))):
        running = r[t] + next_gamma * next_value - v[t] + trace * running
        adv[t], next_value = running, v[t]
    return adv


def _gae_forward(r, v, gamma, lam) -> np.ndarray:
    adv, running = np.zeros_like(r), np.zeros_like(r[0])
    for t in range(len(r)):
        next_value = v[t + 1] if t + 1 < len(r) else np.zeros_like(r[0])
        running = r[t] + gamma * next_value - v[t] + gamma * lam * running
        adv[t] = running
    return adv


# -- exercise 7: PPO's clipped surrogate ------------------------------------------------------
def check_ppo_clip_loss(ppo_clip_loss: Callable, seeds: Sequence[int] = (0,)) -> None:
    # hand-derived: ratios (1.5, 0.5, 1.05), A = (1, -1, 2), ε = 0.1:
    # min(1.5, 1.1)·1 = 1.1;  min(0.5·-1, 0.9·-1) = -0.9;  1.05·2 = 2.1  →  loss = -(1.1 - 0.9 + 2.1)/3
    logp, old = torch.log(torch.tensor([1.5, 0.5, 1.05])), torch.zeros(3)
    adv = torch.tensor([1.0, -1.0, 2.0])
    _expect_loss(ppo_clip_loss, logp, old, adv, 0.1, -(1.1 - 0.9 + 2.1) / 3, "the hand-derived case")
    for seed in seeds:
        gen = torch.Generator().manual_seed(seed)
        logp, old, adv = torch.randn(5, 4, generator=gen) * 0.3, torch.randn(5, 4, generator=gen) * 0.3, torch.randn(5, 4, generator=gen)
        _expect_loss(ppo_clip_loss, logp, old, adv, 0.2, float(rl2.ppo_clip_loss(logp, old, adv, 0.2)), f"random (5, 4) inputs, seed {seed}")
    # the loss must be differentiable in logp, with PPO's gradient
    logp = torch.log(torch.tensor([1.5, 0.5, 1.05])).requires_grad_()
    loss = call_student(ppo_clip_loss, logp, torch.zeros(3), torch.tensor([1.0, -1.0, 2.0]), 0.1)
    if not (isinstance(loss, torch.Tensor) and loss.requires_grad):
        fail("the loss carries no gradient to logp.", hint="compute it with torch operations only (no .item(), .numpy() or .detach()).")
    loss.backward()
    # clipped terms have zero gradient; the third (ratio 1.05 inside the clip range) has d/dlogp = -ratio·A/3
    expected_grad = np.array([0.0, 0.0, -1.05 * 2.0 / 3])
    if not np.allclose(logp.grad.numpy(), expected_grad, atol=1e-5):
        fail("the gradient of the loss with respect to logp is wrong.", expected=expected_grad, got=logp.grad.numpy(),
             hint="clipped samples must not push the policy further: use torch.clamp on the ratio and take the min.")
    passed("ppo_clip_loss matches -E[min(ρA, clip(ρ, 1-ε, 1+ε)A)] in value and gradient")


def _expect_loss(fn: Callable, logp, old, adv, clip: float, expected: float, what: str) -> None:
    got = call_student(fn, logp.clone(), old.clone(), adv.clone(), clip)
    value = float(as_array(got.detach() if isinstance(got, torch.Tensor) else got, "the loss", shape=()))
    if abs(value - expected) <= 1e-5:
        return
    ratio = torch.exp(logp - old)
    variants = {
        "the sign: the function returns a loss to *minimise*, so negate the surrogate objective":
            -expected,
        "min and max are swapped: PPO takes the *pessimistic* (smaller) of the two surrogates":
            float(-torch.max(ratio * adv, ratio.clamp(1 - clip, 1 + clip) * adv).mean()),
        "ρ = exp(logp - old_logp), the ratio of probabilities, not the difference of log-probabilities":
            float(-torch.min((logp - old) * adv, (logp - old).clamp(1 - clip, 1 + clip) * adv).mean()),
        "clip the ratio, not the advantages":
            float(-torch.min(ratio * adv, ratio * adv.clamp(1 - clip, 1 + clip)).mean()),
        "without the clipped term this is the plain policy-gradient surrogate; take the min with clip(ρ, 1-ε, 1+ε) A":
            float(-(ratio * adv).mean()),
    }
    hint = next((h for h, v in variants.items() if abs(value - v) <= 1e-5), "loss = -mean(min(ρ A, clip(ρ, 1-ε, 1+ε) A)), ρ = exp(logp - old_logp).")
    fail(f"ppo_clip_loss on {what} is wrong.", expected=round(expected, 6), got=round(value, 6), hint=hint)
