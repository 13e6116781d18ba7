"""RL² core pieces against hand-derived values, and a short learning run."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from metarl_course.rl2 import (RL2Config, RL2Policy, collect_bandit_trials, evaluate_rl2_bandits, gae, ppo_clip_loss,
                               rl2_inputs, train_rl2_bandits)


def test_rl2_inputs_encode_previous_action_reward_done():
    x = rl2_inputs(torch.zeros(2, 1), torch.tensor([-1, 2]), torch.tensor([0.0, 1.0]), torch.tensor([0.0, 1.0]), 3)
    torch.testing.assert_close(x, torch.tensor([[0.0, 0, 0, 0, 0, 0], [0.0, 0, 0, 1, 1, 1]]))


def test_gae_hand_computed():
    # T = 2, one trial: r = (1, 2), V = (0.5, 1), gamma = 0.9, lambda = 0.5
    # δ_1 = 2 - 1 = 1 ; δ_0 = 1 + 0.9 * 1 - 0.5 = 1.4 ; A_1 = 1 ; A_0 = 1.4 + 0.45 * 1 = 1.85
    adv = gae(torch.tensor([[1.0], [2.0]]), torch.tensor([[0.5], [1.0]]), gamma=0.9, lam=0.5)
    torch.testing.assert_close(adv, torch.tensor([[1.85], [1.0]]))
    # lambda = 1: advantages are discounted returns minus values
    adv = gae(torch.tensor([[1.0], [2.0]]), torch.tensor([[0.5], [1.0]]), gamma=0.9, lam=1.0)
    torch.testing.assert_close(adv, torch.tensor([[1.0 + 0.9 * 2.0 - 0.5], [1.0]]))


def test_ppo_clip_loss_hand_computed():
    old = torch.zeros(3)
    logp = torch.log(torch.tensor([1.5, 0.5, 1.05]))
    adv = torch.tensor([1.0, -1.0, 2.0])
    # ratios 1.5, 0.5, 1.05 with clip 0.1: min(1.5, 1.1)*1 = 1.1 ; min(-0.5, -0.9) = -0.9 ; 1.05*2 = 2.1
    loss = ppo_clip_loss(logp, old, adv, clip=0.1)
    assert loss.item() == pytest.approx(-(1.1 - 0.9 + 2.1) / 3, abs=1e-6)


def test_hidden_state_is_kept_across_the_episodes_of_a_trial():
    torch.manual_seed(0)
    policy = RL2Policy(1 + 3 + 2, 3, hidden_size=16)
    trials = collect_bandit_trials(policy, np.full((4, 3), 0.5), n=5, seed=0)
    assert trials.inputs.shape == (5, 4, 6) and trials.rewards.shape == (5, 4)
    # Re-running the GRU over the whole trial from one empty state reproduces every step's value:
    _, values, _ = policy(trials.inputs, policy.initial_state(4))
    torch.testing.assert_close(values, trials.values)
    # ... and resetting the state at every step (forgetting) would not.
    _, forgetful, _ = policy(trials.inputs.reshape(1, 20, 6), policy.initial_state(20))
    assert not torch.allclose(forgetful.reshape(5, 4), trials.values)
    assert torch.all(trials.inputs[1:, :, -1] == 1) and torch.all(trials.inputs[0, :, 1:] == 0)


@pytest.mark.slow
def test_rl2_learns_two_armed_bandits_beyond_random_play():
    # k = 2, n = 10: random play earns 5.0, the Bayes optimum 6.0218.
    policy, history = train_rl2_bandits(2, 10, RL2Config(hidden_size=32, trials_per_update=128, updates=60), seed=0)
    totals = evaluate_rl2_bandits(policy, 2, 10, 4000, seed=1)
    assert totals.mean() > 5.5, totals.mean()
    assert np.mean(history.mean_total_reward[-10:]) > np.mean(history.mean_total_reward[:10])


def test_mdp_trials_reset_the_state_but_not_the_memory_at_episode_ends():
    from metarl_course.envs.tabular_mdp import sample_mdps
    from metarl_course.rl2 import MDPTrials, collect_trials

    transitions, mean_rewards = sample_mdps(3, seed=0)
    env = MDPTrials(transitions, mean_rewards, n_episodes=4, seed=0, horizon=5)
    assert (env.obs_dim, env.n_actions, env.n_steps) == (10, 5, 20)
    torch.manual_seed(0)
    policy = RL2Policy(10 + 5 + 2, 5, hidden_size=8)
    trials = collect_trials(policy, env)
    dones = trials.dones[:, 0].numpy()
    np.testing.assert_array_equal(dones, np.tile([0, 0, 0, 0, 1], 4))
    # every episode starts in state 0: the one-hot observation after a done flag is state 0
    states = trials.inputs[:, :, :10].argmax(-1)
    assert torch.all(states[[0, 5, 10, 15]] == 0) and torch.all(trials.inputs[:, :, :10].sum(-1) == 1)
    torch.testing.assert_close(trials.inputs[1:, :, -1], trials.dones[:-1])  # d_{t-1} fed back
    # one GRU pass over the whole trial reproduces the values: the memory crossed the episode ends
    _, values, _ = policy(trials.inputs, policy.initial_state(3))
    torch.testing.assert_close(values, trials.values)
    returns = trials.episode_returns(4)
    assert returns.shape == (3, 4)
    np.testing.assert_allclose(returns.sum(1), trials.totals, rtol=1e-5)


def test_training_noise_is_not_the_random_stream_that_drew_the_tasks():
    # Each update's environment noise must come from its own stream. With one integer seed
    # for both (seed 0 made them equal), a batch's first pulls replayed the uniforms that drew
    # its arm means, and its MDP reward noise the normals that drew its mean rewards.
    import copy

    from metarl_course.rl2 import collect_trials, train_rl2_mdps

    seen = []

    def capture(policy, env, encode, device=None):
        rng = env.bandit.rng if hasattr(env, "bandit") else env.mdp.rng
        seen.append((env, copy.deepcopy(rng)))
        return collect_trials(policy, env, encode, device=device)

    config = RL2Config(hidden_size=8, trials_per_update=64, updates=2, epochs=1)
    train_rl2_bandits(3, 2, config, seed=0, collect=capture)
    train_rl2_mdps(1, config, seed=0, collect=capture)
    for env, rng in seen[:2]:  # bandits: the uniforms of the first pull against the arm means
        assert not np.isclose(rng.random(64)[:, None], env.bandit.means.ravel()[None], rtol=0, atol=1e-12).any()
    for env, rng in seen[2:]:  # MDPs: the first step's reward noise against the mean rewards
        rng.random(64)
        noise = rng.standard_normal(64)
        assert not np.isclose(noise[:, None], env.mdp.mean_rewards.ravel()[None] - 1.0, rtol=0, atol=1e-12).any()


def test_evaluation_is_reproducible_and_training_resumes_from_a_checkpoint(tmp_path):
    config = RL2Config(hidden_size=8, trials_per_update=8, updates=4, epochs=1)
    policy, history = train_rl2_bandits(3, 4, config, seed=0, checkpoint=tmp_path / "c.pt")
    first = evaluate_rl2_bandits(policy, 3, 4, 50, seed=1)
    np.testing.assert_array_equal(first, evaluate_rl2_bandits(policy, 3, 4, 50, seed=1))
    from metarl_course.rl2 import collect_trials

    rollouts = []

    def counted(*args, **kwargs):
        rollouts.append(1)
        return collect_trials(*args, **kwargs)

    resumed, history2 = train_rl2_bandits(3, 4, config, seed=0, checkpoint=tmp_path / "c.pt", collect=counted)
    assert history2.mean_total_reward == history.mean_total_reward and rollouts == []   # loaded, not retrained
    np.testing.assert_array_equal(first, evaluate_rl2_bandits(resumed, 3, 4, 50, seed=1))
    longer, history3 = train_rl2_bandits(3, 4, RL2Config(hidden_size=8, trials_per_update=8, updates=6, epochs=1),
                                         seed=0, checkpoint=tmp_path / "c.pt", collect=counted)
    assert len(history3.update) == 6 and history3.mean_total_reward[:4] == history.mean_total_reward
    assert len(rollouts) == 2                                                            # updates 4 and 5 only


def test_rl2_saves_every_10_updates_or_after_every_update_that_takes_a_minute(tmp_path, monkeypatch):
    from metarl_course import rl2

    saved: list[int] = []
    real_save = rl2._save_checkpoint
    monkeypatch.setattr(rl2, "_save_checkpoint", lambda path, policy, optimizer, history: (
        saved.append(len(history.update)), real_save(path, policy, optimizer, history)))
    config = RL2Config(hidden_size=8, trials_per_update=8, updates=12, epochs=1)
    train_rl2_bandits(3, 2, config, seed=0, checkpoint=tmp_path / "c.pt")
    assert saved == [10, 12]
    clock = iter(range(0, 10_000, 61))                      # every reading of the clock 61 s later
    monkeypatch.setattr(rl2.time, "perf_counter", lambda: float(next(clock)))
    saved.clear()
    train_rl2_bandits(3, 2, RL2Config(hidden_size=8, trials_per_update=8, updates=15, epochs=1), seed=0,
                      checkpoint=tmp_path / "c.pt")
    assert saved == [13, 14, 15]


@pytest.mark.slow
def test_rl2_learns_tabular_mdps_beyond_random_play():
    from metarl_course.rl2 import evaluate_rl2_mdps, train_rl2_mdps

    # Trials of n = 2 episodes of 10 steps: any policy that ignores what it sees earns
    # E[μ] = 1 per step, 20 per trial. Measured: 21.33 ± 0.12 on 4000 held-out MDPs (about
    # 50 s on one core); the threshold leaves room for floating-point differences.
    config = RL2Config(hidden_size=32, trials_per_update=256, updates=150, reward_scale=0.1)
    policy, _ = train_rl2_mdps(2, config, seed=0)
    totals = evaluate_rl2_mdps(policy, 2, 4000, seed=1)
    assert totals.mean() > 20.6, totals.mean()


def test_bandit_rewards_are_scaled_to_the_n10_return_scale():
    from metarl_course.rl2_bench import _bandit_reward_scale

    assert _bandit_reward_scale(10) == 1.0 and _bandit_reward_scale(100) == pytest.approx(0.1)
    assert _bandit_reward_scale(500) == pytest.approx(0.02)


def test_warm_start_begins_from_the_given_policy():
    warm = RL2Policy(1 + 3 + 2, 3, hidden_size=8)
    policy, _ = train_rl2_bandits(3, 20, RL2Config(hidden_size=8, trials_per_update=4, updates=0), warm_start=warm)
    for a, b in zip(policy.parameters(), warm.parameters()):
        torch.testing.assert_close(a, b)
