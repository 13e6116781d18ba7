"""Stage 5 of unit 05: PEARL on CNN features of the frames, the CNN trained by the critic alone."""

from __future__ import annotations

import numpy as np
import torch

from metarl_course.pearl import PEARLAgent, PEARLConfig, infer_posterior, kl_to_standard_normal, make_optimizers, sample_z, with_task
from metarl_course.pixel_end_to_end import end_to_end_step, make_trunk, seconds_per_step, train_end_to_end
from metarl_course.sac import q_loss

CONFIG = PEARLConfig(latent_dim=2, net_hidden=(8,), encoder_hidden=(8,), horizon=5, gamma=0.99, kl_weight=0.1,
                     reward_scale=5.0, rl_batch=3, context_batch=4, meta_batch=2, tasks_per_iteration=2,
                     initial_trajectories=1, prior_trajectories=1, posterior_trajectories=0,
                     extra_posterior_trajectories=1, gradient_steps=2)


def frames_batch(T=2, B=3, C=4, k=3, seed=0):
    gen = torch.Generator().manual_seed(seed)
    stacks = lambda n: torch.randint(0, 256, (T, n, 3 * k, 64, 64), dtype=torch.uint8, generator=gen)
    return {"stacks": stacks(B), "next_stacks": stacks(B), "actions": torch.rand(T, B, 6, generator=gen),
            "rewards": torch.randn(T, B, generator=gen), "context_stacks": stacks(C),
            "context_actions": torch.rand(T, C, 6, generator=gen), "context_rewards": torch.randn(T, C, generator=gen)}


def test_the_trunk_moves_by_the_gradient_of_the_critic_loss_and_the_kl_only():
    torch.manual_seed(0)
    trunk, agent, batch = make_trunk(seed=1), PEARLAgent(17, 6, 2, net_hidden=(8,), encoder_hidden=(8,)), frames_batch()
    before = [p.detach().clone() for p in trunk.parameters()]
    # the expected gradient: the first part of pearl_update, by hand, with the same draw of z
    feats = lambda s: trunk(s.flatten(0, 1)).view(2, s.shape[1], -1)
    context = torch.cat([feats(batch["context_stacks"]), batch["context_actions"], batch["context_rewards"][..., None]], -1)
    mean, variance = infer_posterior(agent.encoder, context)
    z = sample_z(mean, variance, torch.Generator().manual_seed(5))
    h = feats(batch["stacks"])
    q_in = with_task(torch.cat([h, batch["actions"]], -1), z)
    with torch.no_grad():
        target = agent.target_value(with_task(feats(batch["next_stacks"]), z)).squeeze(-1)
    critic = q_loss(agent.q1(q_in).squeeze(-1), agent.q2(q_in).squeeze(-1), batch["rewards"], torch.zeros(2, 3), target,
                    CONFIG.gamma, CONFIG.reward_scale)
    expected = torch.autograd.grad(critic + CONFIG.kl_weight * kl_to_standard_normal(mean, variance).sum(),
                                   list(trunk.parameters()))
    # the real step, with plain SGD (lr 1) on ψ so that the change of ψ is minus its gradient
    optimizers = make_optimizers(agent)
    optimizers["critic"] = torch.optim.SGD([*agent.q1.parameters(), *agent.q2.parameters()], lr=0.0)
    optimizers["critic"].add_param_group({"params": list(trunk.parameters()), "lr": 1.0})
    end_to_end_step(agent, trunk, optimizers, batch, CONFIG, torch.Generator().manual_seed(5))
    for b, p, g in zip(before, trunk.parameters(), expected):
        torch.testing.assert_close(b - p.detach(), g, rtol=1e-4, atol=1e-6)
    assert any(g.abs().sum() > 0 for g in expected)


def test_stage_5_trains_on_the_frames_it_played(monkeypatch):
    from metarl_course import pixel_end_to_end
    from metarl_course.pixel_pearl import FrameReplay

    played, trained_on = set(), []

    class WatchedReplay(FrameReplay):
        def add(self, recorded):
            for _, record in recorded:
                played.update(frame.tobytes() for episode in record["frames"] for frame in episode)
            super().add(recorded)

    real_step = pixel_end_to_end.end_to_end_step

    def watched_step(agent, trunk, optimizers, batch, config, generator):
        trained_on.append(batch["stacks"])
        return real_step(agent, trunk, optimizers, batch, config, generator)

    monkeypatch.setattr(pixel_end_to_end, "FrameReplay", WatchedReplay)
    monkeypatch.setattr(pixel_end_to_end, "end_to_end_step", watched_step)
    seen = []
    agent, trunk, losses = train_end_to_end(np.array([0.5, 1.0, 2.0]), np.arange(3), 2, CONFIG, seed=0,
                                            callback=lambda it, a: seen.append(it))
    stacks = torch.cat([s.reshape(-1, 3, 64, 64) for s in trained_on])      # every frame of every stack, (3, 64, 64)
    assert len(trained_on) > 0 and len(played) > 10
    assert all(frame.permute(1, 2, 0).contiguous().numpy().tobytes() in played for frame in stacks)
    assert seen == [0, 1] and len(losses["critic"]) == 2 and np.all(np.isfinite(losses["critic"]))
    assert agent.policy.net[0].in_features == 17 + 2 and not trunk.training
    # the trunk is not an estimator: it was never shown a state, and it has moved from its initialisation
    assert any(not torch.equal(a.cpu(), b) for a, b in zip(trunk.state_dict().values(), make_trunk(seed=0).state_dict().values()))


def test_seconds_per_step_times_the_steps_after_a_warm_up(monkeypatch):
    """One untimed warm-up step, then n timed ones: clock readings 100 s and 106 s around 3 steps give 2 s."""
    from metarl_course import pixel_end_to_end

    steps = []
    monkeypatch.setattr(pixel_end_to_end, "end_to_end_step", lambda *args: steps.append(args[3]["stacks"].shape))
    clock = iter([100.0, 106.0])
    monkeypatch.setattr(pixel_end_to_end.time, "perf_counter", lambda: next(clock))
    assert seconds_per_step(CONFIG, n_steps=3) == 2.0
    assert len(steps) == 4
    assert steps[0] == (CONFIG.meta_batch, CONFIG.rl_batch, 9, 64, 64)   # the configured meta-batch of 3-frame stacks
    monkeypatch.undo()
    assert 0 < seconds_per_step(CONFIG, n_steps=1) < 30                  # and the real step runs
