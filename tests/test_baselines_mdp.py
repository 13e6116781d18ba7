"""Tabular-MDP baselines: value iteration on hand-solved MDPs, the conjugate posterior,
UCRL2's optimistic step, and Monte-Carlo checks against exact values and RL² Table 2."""

from functools import partial

import numpy as np
import pytest

from metarl_course.baselines import tabular_mdp as m
from metarl_course.envs.tabular_mdp import sample_mdps


def two_state_mdp():
    """State 0: action 0 pays 1 and stays; action 1 pays 0 and moves to state 1 w.p. 0.8.
    State 1: action 0 pays 2 and stays; action 1 pays 0 and returns to state 0.

    By hand, V_h = optimal value with h steps to go:
      V1 = (1, 2)
      V2(0) = max(1 + 1, 0.8·2 + 0.2·1 = 1.8) = 2;     V2(1) = max(2 + 2, 0 + 1) = 4
      V3(0) = max(1 + 2, 0.8·4 + 0.2·2 = 3.6) = 3.6;   V3(1) = max(2 + 4, 0 + 2) = 6
      V4(0) = max(1 + 3.6, 0.8·6 + 0.2·3.6 = 5.52) = 5.52
    so with T = 4 from state 0 the optimal return is 5.52 and the first action is 1.
    """
    transitions = np.zeros((2, 2, 2))
    transitions[0, 0] = [1.0, 0.0]
    transitions[0, 1] = [0.2, 0.8]
    transitions[1, 0] = [0.0, 1.0]
    transitions[1, 1] = [1.0, 0.0]
    mean_rewards = np.array([[1.0, 0.0], [2.0, 0.0]])
    return transitions, mean_rewards


def test_value_iteration_on_a_hand_solved_mdp():
    transitions, mean_rewards = two_state_mdp()
    q = m.finite_horizon_q(transitions, mean_rewards, horizon=4)
    assert q.shape == (4, 2, 2)
    np.testing.assert_allclose(q[3].max(axis=-1), [1.0, 2.0])  # one step to go
    np.testing.assert_allclose(q[2].max(axis=-1), [2.0, 4.0])
    np.testing.assert_allclose(q[1].max(axis=-1), [3.6, 6.0])
    np.testing.assert_allclose(q[0, 0], [4.6, 5.52])
    assert m.optimal_episode_return(transitions, mean_rewards, horizon=4) == pytest.approx(5.52)


def test_policy_evaluation_on_a_hand_solved_mdp():
    transitions, mean_rewards = two_state_mdp()
    uniform = np.full((2, 2, 2), 0.5)
    # V1 = (0.5, 1); V2(0) = 0.5 (1 + 0.5) + 0.5 (0.8·1 + 0.2·0.5) = 0.75 + 0.45 = 1.2
    assert m.policy_episode_return(transitions, mean_rewards, uniform, horizon=2) == pytest.approx(1.2)
    # the greedy policy of Q* earns V*
    q = m.finite_horizon_q(transitions, mean_rewards, horizon=4)
    greedy = np.eye(2)[q.argmax(axis=-1)]
    assert m.policy_episode_return(transitions, mean_rewards, greedy, horizon=4) == pytest.approx(5.52)


def test_value_iteration_is_batched_row_by_row():
    transitions, mean_rewards = sample_mdps(4, seed=0)
    batched = m.finite_horizon_q(transitions, mean_rewards)
    for b in range(4):
        np.testing.assert_allclose(batched[b], m.finite_horizon_q(transitions[b], mean_rewards[b]))


def test_posterior_is_the_conjugate_update():
    posterior = m.TabularPosterior(1, 3, 2, prior_mean=1.0)
    for reward, next_state in [(3.0, 2), (1.0, 2)]:
        posterior.update(np.array([0]), np.array([1]), np.array([reward]), np.array([next_state]))
    # rewards: prior N(1, 1), two observations 3 and 1 with noise variance 1
    #   precision 1 + 2 = 3, mean (1·1 + 4) / 3 = 5/3
    assert posterior.reward_precision()[0, 0, 1] == 3.0
    assert posterior.mean_rewards()[0, 0, 1] == pytest.approx(5 / 3)
    assert posterior.mean_rewards()[0, 1, 0] == 1.0  # unvisited: the prior mean
    # transitions: Dirichlet(1, 1, 1) + counts (0, 0, 2) -> mean (1, 1, 3) / 5
    np.testing.assert_allclose(posterior.mean_transitions()[0, 0, 1], [0.2, 0.2, 0.6])
    np.testing.assert_allclose(posterior.mean_transitions()[0, 2, 0], [1 / 3] * 3)


def concentrated_posterior(transitions, mean_rewards, count=1e9):
    """A posterior that has (virtually) seen every (s, a) ``count`` times with the true model."""
    posterior = m.TabularPosterior(*mean_rewards.shape)
    posterior.transition_counts = transitions * count
    posterior.visits = np.full(mean_rewards.shape, count)
    posterior.reward_sums = mean_rewards * count
    return posterior


def test_planners_with_a_certain_posterior_plan_like_the_oracle():
    transitions, mean_rewards = sample_mdps(3, seed=1)
    q_star = m.finite_horizon_q(transitions, mean_rewards)
    posterior = concentrated_posterior(transitions, mean_rewards)
    rng = np.random.default_rng(0)
    for plan in [m.plan_greedy, m.plan_psrl, partial(m.plan_opsrl, n_samples=3), partial(m.plan_beb, beta=1.0)]:
        np.testing.assert_allclose(plan(posterior, 10, rng), q_star, atol=1e-3)


def test_optimistic_expectation_by_hand():
    p_hat = np.array([0.5, 0.3, 0.2])[None, None, None, :]
    values = np.array([[0.0, 1.0, 2.0]])

    def optimistic(radius):
        return m.optimistic_expectation(p_hat, np.array([[[radius]]]), values)[0, 0, 0]

    assert optimistic(0.0) == pytest.approx(0.3 + 0.4)
    # radius 0.4: move 0.2 onto state 2, taken from the worst state 0 -> (0.3, 0.3, 0.4)
    assert optimistic(0.4) == pytest.approx(0.3 + 0.8)
    # radius 1.2: move 0.6: all 0.5 of state 0, then 0.1 of state 1 -> (0, 0.2, 0.8)
    assert optimistic(1.2) == pytest.approx(0.2 + 1.6)
    assert optimistic(5.0) == pytest.approx(2.0)  # everything on the best state


def test_optimistic_planners_are_optimistic():
    transitions, mean_rewards = sample_mdps(20, seed=2)
    posterior = m.TabularPosterior(20, 10, 5)
    env_rng = np.random.default_rng(3)
    for _ in range(30):  # some random data
        states = env_rng.integers(0, 10, 20)
        actions = env_rng.integers(0, 5, 20)
        next_states = np.array([env_rng.choice(10, p=transitions[b, s, a]) for b, s, a in zip(range(20), states, actions)])
        posterior.update(states, actions, mean_rewards[np.arange(20), states, actions], next_states)
    rng = np.random.default_rng(0)
    q_mean = m.plan_greedy(posterior, 10, rng)
    assert (m.plan_ucrl2(posterior, 10, rng) >= q_mean - 1e-9).all()
    assert (m.plan_beb(posterior, 10, rng, beta=0.5) >= q_mean - 1e-9).all()
    assert (m.plan_ucrl2(posterior, 10, rng, scale=0.0) == pytest.approx(q_mean))


# -- Monte-Carlo against exact values and RL² Table 2 ----------------------------------
def test_acting_on_the_true_q_earns_the_optimal_value():
    transitions, mean_rewards = sample_mdps(2000, seed=5)
    q_star = m.finite_horizon_q(transitions, mean_rewards)
    totals = m.run_mdp_agent(lambda posterior, horizon, rng: q_star, transitions, mean_rewards, 3, seed=6)
    residual = totals - 3 * m.optimal_episode_return(transitions, mean_rewards)
    assert abs(residual.mean()) < 3 * residual.std(ddof=1) / np.sqrt(len(residual))


def test_acting_follows_the_time_dependent_q():
    # State 0: stay pays 1; move pays 0 and reaches state 1 w.p. 0.6. State 1: stay pays 3.
    # With T = 2: Q_1 = [[1, 0], [3, 0]]; Q_0(0) = [1 + 1, 0.6·3 + 0.4·1] = [2, 2.2]: move
    # first, then stay wherever you are: V* = 2.2. Acting on Q_0 at both steps moves again
    # from state 0 at the last step, earning 0.6·3 = 1.8 per episode instead.
    transitions = np.zeros((2, 2, 2))
    transitions[0, 0], transitions[0, 1] = [1.0, 0.0], [0.4, 0.6]
    transitions[1, 0], transitions[1, 1] = [0.0, 1.0], [1.0, 0.0]
    mean_rewards = np.array([[1.0, 0.0], [3.0, 0.0]])
    batch = 4000
    transitions, mean_rewards = np.repeat(transitions[None], batch, 0), np.repeat(mean_rewards[None], batch, 0)
    q_star = m.finite_horizon_q(transitions, mean_rewards, horizon=2)
    np.testing.assert_allclose(q_star[0, 0, 0], [2.0, 2.2])
    totals = m.run_mdp_agent(lambda posterior, horizon, rng: q_star, transitions, mean_rewards, 2, seed=1, horizon=2)
    assert abs(totals.mean() - 2 * 2.2) < 3 * totals.std(ddof=1) / np.sqrt(batch)
    always_q0 = np.repeat(q_star[:, :1], 2, axis=1)
    lazy = m.run_mdp_agent(lambda posterior, horizon, rng: always_q0, transitions, mean_rewards, 2, seed=1, horizon=2)
    assert abs(lazy.mean() - 2 * 1.8) < 3 * lazy.std(ddof=1) / np.sqrt(batch)


def test_random_agent_earns_the_uniform_policy_value():
    transitions, mean_rewards = sample_mdps(2000, seed=7)
    totals = m.run_mdp_agent(m.plan_random, transitions, mean_rewards, 10, seed=8)
    uniform = np.full((2000, 10, 10, 5), 0.2)
    residual = totals - 10 * m.policy_episode_return(transitions, mean_rewards, uniform)
    assert abs(residual.mean()) < 3 * residual.std(ddof=1) / np.sqrt(len(residual))
    assert abs(totals.mean() - 100.0) < 3 * totals.std(ddof=1) / np.sqrt(len(totals))  # paper: 100.1


def test_epsilon_one_is_random_play():
    transitions, mean_rewards = sample_mdps(1500, seed=9)
    totals = m.run_mdp_agent(m.plan_greedy, transitions, mean_rewards, 4, seed=10, epsilon=1.0)
    uniform = np.full((1500, 10, 10, 5), 0.2)
    residual = totals - 4 * m.policy_episode_return(transitions, mean_rewards, uniform)
    assert abs(residual.mean()) < 3 * residual.std(ddof=1) / np.sqrt(len(residual))


@pytest.mark.parametrize("name, paper", [("psrl", 138.1), ("greedy", 134.8), ("beb", 150.2)])
def test_table2_n10_matches_the_paper(name, paper):
    # The paper's agents used the reward prior N(0, 1) (see the module docstring); its
    # numbers average about 1000 trials, so both sides carry Monte-Carlo error.
    transitions, mean_rewards = sample_mdps(1000, seed=11)
    plan, epsilon = m.agents(10)[name]
    totals = m.run_mdp_agent(plan, transitions, mean_rewards, 10, seed=12, epsilon=epsilon, prior_mean=m.PAPER_MU0)
    se = totals.std(ddof=1) / np.sqrt(len(totals))
    assert abs(totals.mean() - paper) < 3 * np.sqrt(2) * se + 0.05
    assert totals.mean() < 10 * m.optimal_episode_return(transitions, mean_rewards).mean()


def test_the_matched_prior_makes_greedy_play_explore():
    # With the true prior N(1, 1) unvisited actions look as good as average ones, and
    # certainty-equivalent play beats its pessimistic-prior version by far (≈ 154 vs 135).
    transitions, mean_rewards = sample_mdps(500, seed=13)
    matched = m.run_mdp_agent(m.plan_greedy, transitions, mean_rewards, 10, seed=14, prior_mean=m.MU0)
    paper = m.run_mdp_agent(m.plan_greedy, transitions, mean_rewards, 10, seed=14, prior_mean=m.PAPER_MU0)
    difference = matched - paper
    assert difference.mean() > 5 * difference.std(ddof=1) / np.sqrt(len(difference))


def test_mdp_table_rows():
    rows = m.mdp_table(n_episodes=2, n_trials=50, seed=0)
    assert {row["method"] for row in rows} == set(m.agents(2)) | {"oracle"}
    for row in rows:
        assert set(row) == {"method", "episodes", "mean", "stderr", "n"}
        assert row["episodes"] == 2 and row["n"] == 50
    by_method = {row["method"]: row["mean"] for row in rows}
    assert max(by_method.values()) == by_method["oracle"]
