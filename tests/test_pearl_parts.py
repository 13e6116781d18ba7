"""PEARL's posterior and SAC's pieces against hand-derived values and torch.distributions."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch.distributions import Normal, TransformedDistribution, kl_divergence
from torch.distributions.transforms import TanhTransform

from metarl_course.pearl import ContextEncoder, infer_posterior, kl_to_standard_normal, product_of_gaussians, sample_z
from metarl_course.sac import TanhGaussianPolicy, q_loss, soft_update, tanh_gaussian_log_prob


def test_product_of_two_gaussians_by_hand():
    # N(0, 1) · N(2, 1) ∝ N(1, 1/2);  N(0, 1) · N(3, 2) ∝ N(1, 2/3)
    means = torch.tensor([[[0.0, 0.0], [2.0, 3.0]]])          # (T=1, N=2, d=2)
    variances = torch.tensor([[[1.0, 1.0], [1.0, 2.0]]])
    mean, variance = product_of_gaussians(means, variances)
    np.testing.assert_allclose(mean, [[1.0, 1.0]], atol=1e-6)
    np.testing.assert_allclose(variance, [[0.5, 2.0 / 3.0]], atol=1e-6)


def test_posterior_is_order_free_and_sharpens_with_evidence():
    torch.manual_seed(0)
    means, variances = torch.randn(3, 8, 5), torch.rand(3, 8, 5) + 0.1
    perm = torch.randperm(8)
    a, b = product_of_gaussians(means, variances), product_of_gaussians(means[:, perm], variances[:, perm])
    np.testing.assert_allclose(a[0], b[0], atol=1e-5)
    np.testing.assert_allclose(a[1], b[1], atol=1e-6)
    fewer = product_of_gaussians(means[:, :4], variances[:, :4])[1]
    assert torch.all(a[1] < fewer)  # more transitions, smaller variance
    one = product_of_gaussians(means[:, :1], variances[:, :1])  # one factor is itself
    np.testing.assert_allclose(one[0], means[:, 0], atol=1e-6)


def test_kl_to_the_prior_matches_torch_distributions():
    mean, variance = torch.tensor([[0.0, 1.0, -0.5]]), torch.tensor([[1.0, 1.0, math.e]])
    by_hand = 0.5 * (0.0 + 1.0 + (math.e - 1.0 - 1.0))  # ½(σ² + μ² - 1 - log σ²) per dimension
    assert kl_to_standard_normal(mean, variance).item() == pytest.approx(by_hand + 0.5 * 0.25)
    reference = kl_divergence(Normal(mean, variance.sqrt()), Normal(0.0, 1.0)).sum(-1)
    np.testing.assert_allclose(kl_to_standard_normal(mean, variance), reference, atol=1e-6)


def test_encoder_posterior_is_permutation_invariant_and_the_prior_without_context():
    torch.manual_seed(1)
    encoder = ContextEncoder(transition_dim=5, latent_dim=3, hidden=(16, 16))
    context = torch.randn(4, 10, 5)
    mean, variance = infer_posterior(encoder, context)
    shuffled = infer_posterior(encoder, context[:, torch.randperm(10)])
    assert mean.shape == variance.shape == (4, 3) and torch.all(variance > 0)
    np.testing.assert_allclose(mean.detach(), shuffled[0].detach(), atol=1e-5)
    prior = infer_posterior(encoder, context[:, :0])
    assert torch.equal(prior[0], torch.zeros(4, 3)) and torch.equal(prior[1], torch.ones(4, 3))


def test_sampled_z_carries_gradient_to_the_encoder():
    encoder = ContextEncoder(transition_dim=3, latent_dim=2, hidden=(8,))
    z = sample_z(*infer_posterior(encoder, torch.randn(2, 5, 3)), torch.Generator().manual_seed(0))
    z.sum().backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in encoder.parameters())


def test_tanh_gaussian_log_prob_matches_torch_distributions():
    torch.manual_seed(2)
    mean, log_std = torch.randn(6, 3), torch.randn(6, 3) * 0.5
    pre_tanh = mean + log_std.exp() * torch.randn(6, 3)
    dist = TransformedDistribution(Normal(mean, log_std.exp()), [TanhTransform()])
    expected = dist.log_prob(torch.tanh(pre_tanh)).sum(-1)
    np.testing.assert_allclose(tanh_gaussian_log_prob(pre_tanh, mean, log_std), expected, atol=1e-4)


def test_policy_actions_are_bounded_and_deterministic_mode_is_repeatable():
    policy = TanhGaussianPolicy(4, 2, hidden=(8,))
    x = torch.randn(100, 4) * 10
    action, logp = policy(x)
    # large inputs saturate tanh to exactly ±1 in float32; the log-probability must stay finite
    assert torch.all(action.abs() <= 1) and logp.shape == (100,) and torch.isfinite(logp).all()
    assert torch.equal(policy(x, deterministic=True)[0], policy(x, deterministic=True)[0])


def test_q_loss_target_by_hand_and_without_gradient():
    q1 = torch.tensor([1.0, 0.0], requires_grad=True)
    q2 = torch.tensor([0.0, 0.0], requires_grad=True)
    next_v = torch.tensor([2.0, 2.0], requires_grad=True)
    # y = 5·r + 0.9·(1 - d)·V̄ = [5·1 + 0.9·2, 5·0 + 0] = [6.8, 0]
    loss = q_loss(q1, q2, torch.tensor([1.0, 0.0]), torch.tensor([0.0, 1.0]), next_v, gamma=0.9, reward_scale=5.0)
    assert loss.item() == pytest.approx(((1 - 6.8) ** 2 + 0) / 2 + (6.8**2 + 0) / 2)
    loss.backward()
    assert next_v.grad is None


def test_soft_update_moves_a_fraction_tau():
    source, target = torch.nn.Linear(2, 2), torch.nn.Linear(2, 2)
    before = [p.detach().clone() for p in target.parameters()]
    soft_update(target, source, tau=0.25)
    for t, b, s in zip(target.parameters(), before, source.parameters()):
        np.testing.assert_allclose(t.detach(), 0.75 * b + 0.25 * s.detach(), atol=1e-7)


def test_replay_keeps_tasks_apart_wraps_around_and_samples_only_filled_slots():
    from metarl_course.replay import MultiTaskReplay

    buffer = MultiTaskReplay(n_tasks=3, capacity=4, obs_dim=2, act_dim=1)

    def add(task, values):
        k = len(values)
        v = torch.tensor(values, dtype=torch.float32)
        buffer.add(task, observations=v[:, None].repeat(1, 2), actions=v, rewards=v, next_observations=v[:, None].repeat(1, 2),
                   dones=torch.zeros(k))

    add(0, [1, 2, 3])
    add(2, [10, 11, 12, 13, 14, 15])          # wraps: keeps 12..15
    assert buffer.size.tolist() == [3, 0, 4]
    batch = buffer.sample(torch.tensor([0, 2]), 200, torch.Generator().manual_seed(0))
    assert batch["observations"].shape == (2, 200, 2) and batch["rewards"].shape == (2, 200, 1)
    assert set(batch["rewards"][0, :, 0].tolist()) == {1.0, 2.0, 3.0}
    assert set(batch["rewards"][1, :, 0].tolist()) == {12.0, 13.0, 14.0, 15.0}
    with pytest.raises(ValueError, match="empty buffer for task"):
        buffer.sample(torch.tensor([1]), 5)
    buffer.clear(0)
    assert buffer.size[0] == 0


def _toy_meta_batch(T=3, B=32, C=16, obs_dim=2, act_dim=2, seed=0):
    gen = torch.Generator().manual_seed(seed)
    def fields(n):
        return {"observations": torch.randn(T, n, obs_dim, generator=gen), "actions": torch.rand(T, n, act_dim, generator=gen) * 2 - 1,
                "rewards": torch.randn(T, n, 1, generator=gen), "next_observations": torch.randn(T, n, obs_dim, generator=gen),
                "dones": torch.zeros(T, n, 1)}
    return fields(B), fields(C)


def test_the_information_bottleneck_is_summed_over_the_meta_batch_as_in_the_official_code():
    """compute_kl_div in the PEARL code sums KL(q(z | c_i) ‖ N(0, I)) over the tasks i, while the
    critic loss is a mean: T copies of one task must report T times that task's KL."""
    from metarl_course.pearl import PEARLAgent, make_optimizers, pearl_update

    torch.manual_seed(0)
    agent = PEARLAgent(2, 2, latent_dim=3, net_hidden=(8,), encoder_hidden=(8,))
    rl_batch, context = _toy_meta_batch()
    one_task = {k: v[:1] for k, v in context.items()}
    single = kl_to_standard_normal(*infer_posterior(agent.encoder, agent.context(one_task))).item()
    three = {k: v[:1].expand(3, *v.shape[1:]) for k, v in context.items()}
    batch3 = {k: v[:1].expand(3, *v.shape[1:]) for k, v in rl_batch.items()}
    info = pearl_update(agent, make_optimizers(agent), batch3, agent.context(three))
    assert info["kl"] == pytest.approx(3 * single, rel=1e-5)


def test_pearl_update_trains_the_encoder_only_through_the_critic_and_kl():
    from metarl_course.pearl import PEARLAgent, make_optimizers, pearl_update

    torch.manual_seed(0)
    agent = PEARLAgent(2, 2, latent_dim=3, net_hidden=(16, 16), encoder_hidden=(16,))
    optimizers = make_optimizers(agent)
    rl_batch, context = _toy_meta_batch()
    encoder_before = [p.detach().clone() for p in agent.encoder.parameters()]
    target_before = [p.detach().clone() for p in agent.target_value.parameters()]
    info = pearl_update(agent, optimizers, rl_batch, agent.context(context), generator=torch.Generator().manual_seed(1))
    assert set(info) == {"critic", "kl", "value", "policy"} and all(math.isfinite(v) for v in info.values())
    assert any(not torch.equal(a, b) for a, b in zip(encoder_before, agent.encoder.parameters()))
    # the target network moved by exactly τ toward the (updated) value network
    for t, b, v in zip(agent.target_value.parameters(), target_before, agent.value.parameters()):
        np.testing.assert_allclose(t.detach(), 0.995 * b + 0.005 * v.detach(), atol=1e-6)
    # the actor's losses must not reach the encoder: policy_and_value_losses detaches z itself
    from metarl_course.pearl import infer_posterior, policy_and_value_losses, sample_z
    agent.encoder.zero_grad()
    z = sample_z(*infer_posterior(agent.encoder, agent.context(context)))      # z with its gradient
    pi_loss, v_loss = policy_and_value_losses(agent, rl_batch["observations"], z)
    (pi_loss + v_loss).backward()
    assert all(p.grad is None or p.grad.abs().sum() == 0 for p in agent.encoder.parameters())


def test_pearl_update_moves_the_encoder_by_the_critic_and_kl_alone():
    """An actor loss that pulls on z directly reaches the encoder's gradients but must not move it: only
    ∇[critic + λ KL] steps the encoder's optimiser (stepping it with the policy loss too would)."""
    import copy

    from metarl_course.pearl import PEARLAgent, PEARLPieces, make_optimizers, pearl_update, policy_and_value_losses

    def pulling_actor(agent, obs, z):
        pi_loss, v_loss = policy_and_value_losses(agent, obs, z)
        return pi_loss + 1000 * (z ** 2).sum(), v_loss

    torch.manual_seed(0)
    agent = PEARLAgent(2, 2, latent_dim=3, net_hidden=(16, 16), encoder_hidden=(16,))
    rl_batch, context = _toy_meta_batch()
    after = {}
    for name, pieces in [("plain", PEARLPieces()), ("pulling", PEARLPieces(actor_losses=pulling_actor))]:
        copy_ = copy.deepcopy(agent)
        torch.manual_seed(1)
        pearl_update(copy_, make_optimizers(copy_), rl_batch, copy_.context(context),
                     generator=torch.Generator().manual_seed(1), pieces=pieces)
        after[name] = copy_
    plain, pulling = (list(after[n].encoder.parameters()) for n in ("plain", "pulling"))
    assert any(not torch.equal(a, b) for a, b in zip(agent.encoder.parameters(), plain))      # the critic moved it
    assert any(not torch.equal(a.grad, b.grad) for a, b in zip(plain, pulling))               # the pull arrived
    assert all(torch.equal(a, b) for a, b in zip(plain, pulling))                             # and moved nothing


def test_pearl_update_adds_the_official_regulariser_on_the_policys_pre_tanh_mean_and_log_std():
    """policy_reg_weight · (E[μ²] + E[log σ²]) joins the policy loss (1e-3 each in the PEARL code). With
    plain SGD on the policy, the same update with and without it must differ, in the policy's parameters
    only, by exactly -lr · ∇ of the regulariser, taken at the parameters before the step."""
    from metarl_course.pearl import PEARLAgent, make_optimizers, pearl_update, policy_regulariser, with_task

    rl_batch, context = _toy_meta_batch()
    weight, lr = 0.5, 0.1

    def update(w):
        torch.manual_seed(0)
        agent = PEARLAgent(2, 2, latent_dim=3, net_hidden=(16, 16), encoder_hidden=(16,))
        optimizers = {**make_optimizers(agent), "policy": torch.optim.SGD(agent.policy.parameters(), lr=lr)}
        pearl_update(agent, optimizers, rl_batch, agent.context(context), generator=torch.Generator().manual_seed(1),
                     policy_reg_weight=w)
        return agent

    torch.manual_seed(0)
    fresh = PEARLAgent(2, 2, latent_dim=3, net_hidden=(16, 16), encoder_hidden=(16,))
    z = torch.randn(3, 3)
    mean, log_std = fresh.policy.net(with_task(rl_batch["observations"], z)).chunk(2, dim=-1)
    expected = weight * ((mean**2).mean() + (log_std**2).mean())
    got = policy_regulariser(fresh, rl_batch["observations"], z, weight)
    assert got.item() == pytest.approx(expected.item(), rel=1e-6)
    z.requires_grad_(True)
    policy_regulariser(fresh, rl_batch["observations"], z, weight).backward()
    assert z.grad is None  # z is detached: the regulariser must not shape the task belief

    # the z drawn inside pearl_update, drawn again with the same generator
    from metarl_course.pearl import infer_posterior, sample_z
    z_used = sample_z(*infer_posterior(fresh.encoder, fresh.context(context)), torch.Generator().manual_seed(1)).detach()
    fresh.policy.zero_grad()
    policy_regulariser(fresh, rl_batch["observations"], z_used, weight).backward()
    with_reg, without = update(weight), update(0.0)
    for a, b, p in zip(with_reg.policy.parameters(), without.policy.parameters(), fresh.policy.parameters()):
        np.testing.assert_allclose((a - b).detach(), -lr * p.grad, atol=1e-6)
    for part in ("encoder", "q1", "q2", "value"):
        for a, b in zip(getattr(with_reg, part).parameters(), getattr(without, part).parameters()):
            assert torch.equal(a, b), part


def test_pearl_critic_learns_a_fixed_reward_per_task():
    """With γ = 0 the Q target is s_r·r. Rewards that depend only on the task can be fitted only
    by reading z, so the critic loss falling far below the variance of the targets shows that the
    posterior carries task information into the critic."""
    from metarl_course.pearl import PEARLAgent, make_optimizers, pearl_update

    torch.manual_seed(0)
    T, B, C = 4, 64, 16
    agent = PEARLAgent(1, 1, latent_dim=2, net_hidden=(32, 32), encoder_hidden=(32,))
    optimizers = make_optimizers(agent, lr=3e-3)
    task_reward = torch.tensor([-1.0, -0.3, 0.4, 1.0])[:, None, None]
    gen = torch.Generator().manual_seed(0)

    def batch(n):
        obs = torch.zeros(T, n, 1)  # nothing in the state tells the tasks apart
        return {"observations": obs, "actions": torch.rand(T, n, 1, generator=gen) * 2 - 1,
                "rewards": task_reward.expand(T, n, 1), "next_observations": obs, "dones": torch.zeros(T, n, 1)}

    # λ = 0.025 summed over the 4 tasks weighs the bottleneck as λ = 0.1 on their mean
    losses = [pearl_update(agent, optimizers, batch(B), agent.context(batch(C)), kl_weight=0.025, gamma=0.0,
                           reward_scale=1.0, generator=gen)["critic"] for _ in range(400)]
    target_variance = float(task_reward.var(unbiased=False)) * 2  # q_loss sums the two critics
    assert np.mean(losses[-20:]) < 0.1 * target_variance, (np.mean(losses[-20:]), target_variance)


def test_meta_test_explores_with_the_prior_then_conditions_on_everything_seen():
    """Algorithm 2: the first trajectory uses z ~ N(0, I) with no context; trajectory k uses the
    posterior of the k - 1 trajectories before it (H transitions each), with the sparse reward."""
    from metarl_course.envs.navigation import TensorNavigation2D
    from metarl_course.pearl import PEARLAgent, meta_test

    torch.manual_seed(0)
    agent = PEARLAgent(2, 2, latent_dim=3, net_hidden=(8,), encoder_hidden=(8,))
    seen = []
    original = agent.encoder.forward

    def recording_forward(context):
        seen.append(tuple(context.shape))
        return original(context)

    agent.encoder.forward = recording_forward
    goals = np.array([[1.0, 0.0], [0.0, 1.0]])
    env = TensorNavigation2D(goals, 1, horizon=5, sparse=True, goal_radius=0.2, action_scale=0.1)
    returns, context = meta_test(agent, env, n_trajectories=3, generator=torch.Generator().manual_seed(0))
    assert returns.shape == (3, 2)
    assert seen == [(2, 5, 5), (2, 10, 5)]          # (tasks, transitions so far, s + a + r)
    assert context["rewards"].shape == (2, 15, 1)
    # five steps of at most 0.1 from the origin never reach a goal at distance 1: sparse rewards are 0
    assert torch.all(context["rewards"] == 0) and torch.all(context["dense_rewards"] < -0.4)
    assert torch.all(returns == 0)
    # with two exploration trajectories from the prior, only the third one reads the context
    seen.clear()
    meta_test(agent, env, n_trajectories=3, n_exploration=2, generator=torch.Generator().manual_seed(0))
    assert seen == [(2, 10, 5)]


def test_train_pearl_runs_end_to_end_at_a_tiny_scale():
    """Algorithm 1 plumbing: training iterations and meta-test on held-out goals run and stay finite."""
    from metarl_course.envs.navigation import sample_goals
    from metarl_course.pearl import PEARLConfig, SparsePointTasks, meta_test, train_pearl

    tasks = SparsePointTasks(sample_goals(6, "semicircle", seed=0), horizon=5)
    config = PEARLConfig(net_hidden=(16,), encoder_hidden=(16,), rl_batch=8, context_batch=4, meta_batch=2,
                         tasks_per_iteration=2, initial_trajectories=2, prior_trajectories=1, posterior_trajectories=1,
                         gradient_steps=3, horizon=5)
    agent, history = train_pearl(tasks, np.arange(4), iterations=2, config=config, seed=0)
    assert history.iteration == [0, 1] and all(np.isfinite(history.critic))
    returns, context = meta_test(agent, tasks.env(np.array([4, 5])), n_trajectories=2)
    assert returns.shape == (2, 2) and torch.isfinite(torch.as_tensor(returns)).all()


def test_collect_puts_dense_rewards_in_the_rl_buffer_and_what_the_context_sees_in_the_encoder_buffer():
    from metarl_course.envs.navigation import sample_goals
    from metarl_course.pearl import PEARLAgent, SparsePointTasks, collect
    from metarl_course.replay import MultiTaskReplay

    torch.manual_seed(0)
    tasks = SparsePointTasks(sample_goals(3, "semicircle", seed=1), horizon=5)
    agent = PEARLAgent(2, 2, latent_dim=2, net_hidden=(8,), encoder_hidden=(8,))
    rl, enc = MultiTaskReplay(3, 100, 2, 2), MultiTaskReplay(3, 100, 2, 2)
    ids = np.array([0, 2])
    collect(agent, tasks, ids, 2, rl, enc, update_posterior=False, add_to_encoder=True, context_size=4)
    assert rl.size.tolist() == [10, 0, 10] and enc.size.tolist() == [10, 0, 10]
    collect(agent, tasks, ids, 3, rl, enc, update_posterior=True, add_to_encoder=False, context_size=4)
    assert rl.size.tolist() == [25, 0, 25] and enc.size.tolist() == [10, 0, 10]
    # the RL buffer holds the dense reward -||s' - g||; far from the goal the encoder's sparse reward is 0
    goal = torch.tensor(tasks.goals[0], dtype=torch.float32)
    dense = -(rl.data["next_observations"][0, :25] - goal).norm(dim=-1)
    np.testing.assert_allclose(rl.data["rewards"][0, :25, 0], dense, atol=1e-5)
    assert torch.all(enc.data["rewards"][0, :10] == 0)


def test_collect_with_posterior_updates_draws_z_from_the_prior_first_then_from_the_encoder_buffer():
    """The official collect_data: clear_z (prior) for the first trajectory, then after every
    trajectory a context sampled from the encoder buffer, which already holds the new data."""
    from metarl_course.envs.navigation import sample_goals
    from metarl_course.pearl import PEARLAgent, SparsePointTasks, collect
    from metarl_course.replay import MultiTaskReplay

    torch.manual_seed(0)
    tasks = SparsePointTasks(sample_goals(3, "semicircle", seed=1), horizon=5)
    agent = PEARLAgent(2, 2, latent_dim=2, net_hidden=(8,), encoder_hidden=(8,))
    sizes_seen = []
    original = agent.encoder.forward
    rl, enc = MultiTaskReplay(3, 100, 2, 2), MultiTaskReplay(3, 100, 2, 2)

    def recording_forward(context):
        sizes_seen.append(enc.size.tolist())
        return original(context)

    agent.encoder.forward = recording_forward
    collect(agent, tasks, np.array([1]), 3, rl, enc, update_posterior=True, add_to_encoder=True, context_size=7)
    assert sizes_seen == [[0, 5, 0], [0, 10, 0], [0, 15, 0]]   # after trajectories 1, 2, 3
    assert enc.size.tolist() == [0, 15, 0]


def test_sparse_point_tasks_rebuild_the_official_goal_order():
    """linspace(0, π, 100) on the unit circle, shuffled by RandomState(1337): 80 train, 20 held out."""
    from metarl_course.pearl import sparse_point_tasks

    tasks, train, test = sparse_point_tasks()
    assert tasks.goals.shape == (100, 2) and len(train) == 80 and len(test) == 20
    np.testing.assert_allclose(np.linalg.norm(tasks.goals, axis=1), 1.0)
    assert np.all(tasks.goals[:, 1] >= -1e-12)
    angles = np.sort(np.arctan2(tasks.goals[:, 1], tasks.goals[:, 0]))
    np.testing.assert_allclose(angles, np.linspace(0, np.pi, 100), atol=1e-9)
    expected = np.stack([np.cos(np.linspace(0, np.pi, 100)), np.sin(np.linspace(0, np.pi, 100))], 1)
    np.random.RandomState(1337).shuffle(expected)
    np.testing.assert_array_equal(tasks.goals, expected)


def test_environment_steps_counts_initial_and_per_iteration_transitions():
    from metarl_course.pearl import PEARLConfig, environment_steps

    c = PEARLConfig()   # official sparse point: 200 initial steps per train task, 10 tasks × 1000 steps per iteration
    assert environment_steps(c, 80, 0) == 80 * 200
    assert environment_steps(c, 80, 3) == 80 * 200 + 3 * 10 * 1000
