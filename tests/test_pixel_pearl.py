"""Unit 05's plumbing: the agent observes what the perception makes of the rendered frames."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from metarl_course.pearl import PEARLAgent, meta_test
from metarl_course.pixel_pearl import PixelCheetahTasks, evaluate_on_estimates, record_agent_frames
from metarl_course.pixels import stack_frames


def channel_means(stacks: torch.Tensor) -> torch.Tensor:
    """A stand-in perception whose output pins down the stack it was given: the mean of each
    of the 3k channels (k = 3: 9 numbers), padded with zeros to 17."""
    means = stacks.float().mean(dim=(2, 3))
    return torch.cat([means, means.new_zeros(len(means), 17 - means.shape[1])], dim=1)


def small_agent() -> PEARLAgent:
    torch.manual_seed(0)
    return PEARLAgent(17, 6, latent_dim=2, net_hidden=(8,), encoder_hidden=(8,))


def test_the_agent_observes_the_perception_of_the_same_stacks_a_dataset_holds():
    tasks = PixelCheetahTasks(np.array([0.5, 2.0]), k=3, perceive=channel_means, horizon=6, keep_frames=True)
    env = tasks.env(np.arange(2))
    returns, context = meta_test(small_agent(), env, n_trajectories=2, n_exploration=1)
    episodes = env.episodes()
    assert len(episodes) == 2 and episodes[0]["frames"].shape == (2, 7, 64, 64, 3)
    for episode in episodes:
        for m in range(2):
            offline = channel_means(torch.as_tensor(stack_frames(episode["frames"][m], 3)))
            np.testing.assert_allclose(episode["observed"][m], offline.numpy(), rtol=1e-6)
    # what the encoder's context holds is the perceived state, not the true one
    np.testing.assert_allclose(context["observations"][:, :6].numpy(), episodes[0]["observed"][:, :6], rtol=1e-6)
    assert not np.allclose(episodes[0]["observed"], episodes[0]["states"])
    assert episodes[0]["frames"].std() > 10, "blank frames: is MuJoCo rendering headless (MUJOCO_GL=egl)?"
    tasks.close()


def test_without_perception_the_agent_sees_true_states_and_frames_are_recorded():
    tasks = PixelCheetahTasks(np.array([1.0, 1.5, 3.0]), horizon=5)
    dataset = record_agent_frames(small_agent(), tasks, np.array([0, 2]), n_trajectories=2, n_exploration=1)
    assert dataset.frames.shape == (4, 6, 64, 64, 3) and dataset.states.shape == (4, 6, 17)
    np.testing.assert_allclose(dataset.velocities, [1.0, 3.0, 1.0, 3.0])
    stacks, states = dataset.stacked(3)
    assert stacks.shape == (24, 9, 64, 64) and states.shape == (24, 17)
    with pytest.raises(ValueError, match="perceive is None"):
        record_agent_frames(small_agent(), PixelCheetahTasks(np.array([1.0]), perceive=channel_means, horizon=2),
                            np.array([0]), 1, 1)
    tasks.close()


def test_estimation_error_is_measured_along_the_trajectories():
    def truth_plus_one(stacks):   # a perception that is off by exactly 1 everywhere... given the true state
        return torch.as_tensor(np.stack([env.data.qpos[1:].tolist() + env.data.qvel.tolist() for env in batch.envs]),
                               dtype=torch.float32) + 1.0

    tasks = PixelCheetahTasks(np.array([0.7, 2.2]), perceive=truth_plus_one, horizon=4)
    batch = tasks.env(np.arange(2))
    tasks.env = lambda ids, seed=None: batch     # the same batch for evaluate_on_estimates
    result = evaluate_on_estimates(small_agent(), tasks, np.arange(2), n_trajectories=3, n_exploration=2)
    assert result["returns"].shape == (3, 2) and result["error"].shape == (3, 2, 5, 17)
    np.testing.assert_allclose(result["error"], 1.0, atol=1e-5)


def test_the_recording_learner_learns_what_stage_4_learns_and_keeps_every_nth_episode():
    from metarl_course.pearl import PEARLConfig, train_pearl
    from metarl_course.pearl_cheetah import CheetahVelTasks
    from metarl_course.pixel_pearl import train_recording_learner

    config = PEARLConfig(latent_dim=2, net_hidden=(8,), encoder_hidden=(8,), horizon=5, gamma=0.99, kl_weight=0.1,
                         reward_scale=5.0, rl_batch=4, context_batch=4, meta_batch=2, tasks_per_iteration=2,
                         initial_trajectories=1, prior_trajectories=1, posterior_trajectories=0,
                         extra_posterior_trajectories=1, gradient_steps=2)
    velocities, train_ids = np.array([0.5, 1.0, 2.0]), np.arange(3)
    agent, learner = train_recording_learner(velocities, train_ids, 2, config, seed=0, keep_every=2)
    plain, _ = train_pearl(CheetahVelTasks(velocities, horizon=5), train_ids, 2, config, seed=0)
    for (name, a), b in zip(agent.state_dict().items(), plain.state_dict().values()):
        torch.testing.assert_close(a, b, msg=name)      # rendering changes nothing the agent sees or learns
    # played: 3 initial episodes, then 2 iterations x 2 tasks x 2 trajectories = 11; kept: the 1st, 3rd, ... = 6
    assert learner.frames.shape == (6, 6, 64, 64, 3) and learner.states.shape == (6, 6, 17)
    assert learner.frames.std() > 10
    np.testing.assert_allclose(learner.velocities[:2], [0.5, 2.0])   # initial episodes 1 and 3: tasks 0 and 2


def test_checkpoints_of_other_settings_are_never_loaded():
    """A budget that shapes training (or a --set of it) moves the study's checkpoint folder; an
    evaluation-only budget and an equal value do not."""
    from metarl_course import pixel_pearl_bench
    from metarl_course.presets import overridden

    base = pixel_pearl_bench.checkpoint_folder("laptop")
    assert base.parent.name == "laptop" and len(base.name) == 8
    assert pixel_pearl_bench.checkpoint_folder("ci") != base
    for section, key, value in [("bench_pixel_pearl", "weight", 0.02), ("bench_pixel_pearl", "iterations", 200),
                                ("bench_pearl_cheetah_vel", "lr", 3e-4), ("bench_pixel_pearl", "noise_scale_learner", 3.0)]:
        with overridden({section: {key: value}}):
            assert pixel_pearl_bench.checkpoint_folder("laptop") != base, f"{section}.{key} did not move the folder"
    for section, key, value in [("bench_pixel_pearl", "min_stage4_gain", 0.0), ("bench_pixel_pearl", "stage5_max_hours", 9),
                                ("bench_pixel_pearl", "weight", 0.01)]:
        with overridden({section: {key: value}}):
            assert pixel_pearl_bench.checkpoint_folder("laptop") == base, f"{section}.{key}={value} moved the folder"


def test_pixel_pearl_bench_at_ci(tmp_path, monkeypatch):
    from metarl_course import bench, pearl_cheetah_bench, pixel_pearl_bench

    for module in (pearl_cheetah_bench, pixel_pearl_bench):
        monkeypatch.setattr(module, "CHECKPOINTS", tmp_path / "checkpoints")
    rows = bench.run_benchmark("pixel-pearl", "ci", tmp_path / "p.json", seeds=[0])["rows"]
    for method in pixel_pearl_bench.STAGES.values():
        assert sorted(r["trajectory"] for r in rows if r["method"] == method and "trajectory" in r) == [1, 2, 3]
        summary = next(r for r in rows if r["method"] == method and "summary" in r)
        assert np.isfinite(summary["mean"])
    stage4 = next(r for r in rows if r["method"] == pixel_pearl_bench.STAGES["4"] and "summary" in r)
    stage4_last = next(r["mean"] for r in rows if r["method"] == pixel_pearl_bench.STAGES["4"] and r.get("trajectory") == 3)
    assert stage4["mean"] == 0.0 and stage4["drop"] == 0.0
    errors = [r for r in rows if r["method"] == "CNN relative RMSE"]
    assert len(errors) == 17 and all(r["on_recorded_data"] > 0 and r["along_stage_1"] > 0 for r in errors)
    timing = next(r for r in rows if r["method"] == "timing")
    assert timing["recorded_frames"] == 2 * 3 * 21 and timing["frames_per_second_recording"] > 1
    # stage 4's episodes, all kept at ci: 4 initial, then 2 iterations x 2 tasks x 2 trajectories
    assert timing["learner_frames"] == 12 * 21 and timing["cnn_pairs"] == (12 + 6) * 21
    assert set(timing["perception_losses"]) == {"3", "3c"}
    assert (tmp_path / "p.png").exists()
    stage5 = next(r for r in rows if r["method"] == "stage 5: seconds per gradient step on frames")
    assert stage5["trained"] and 0 < stage5["mean"] and stage5["projected_hours"] < 1
    folder = pixel_pearl_bench.checkpoint_folder("ci")
    assert folder.parent == tmp_path / "checkpoints" / "pixel-pearl" / "ci"
    saved = sorted(p.name for p in folder.iterdir())
    assert saved == ["CODE", "cnn3_seed0.pt", "cnn3c_seed0.pt", "cnn5_seed0.pt", "cnn_seed0.pt", "learner_frames_seed0.npz",
                     "losses3_seed0.json", "losses3c_seed0.json", "noise_seed0.json", "stage2_seed0.pt",
                     "stage2n_seed0.pt", "stage2nx_seed0.pt", "stage3_seed0.pt", "stage3c_seed0.pt", "stage4_seed0.pt", "stage5_seed0.pt"]
    # the noise control's σ is the CNN's RMSE per dimension on its held-out frames
    noise = json.loads((folder / "noise_seed0.json").read_text())
    std = pixel_pearl_bench.load_estimator(folder / "cnn_seed0.pt").state_std.numpy()
    np.testing.assert_allclose(noise["rmse"], [r["on_recorded_data"] for r in errors] * std, rtol=1e-5)
    # the control trained on its own (the command that trains it in a parallel process) is the bench's
    for name in ("stage3c_seed0.pt", "cnn3c_seed0.pt", "losses3c_seed0.json", "stage2n_seed0.pt",
                 "stage2nx_seed0.pt"):
        (folder / name).unlink()
    pixel_pearl_bench.train_stage3("ci", 0, "3c")
    pixel_pearl_bench.train_noise_control("ci", 0, "2n")
    pixel_pearl_bench.train_noise_control("ci", 0, "2nx")
    with pytest.raises(ValueError, match="not a noise control"):
        pixel_pearl_bench.train_noise_control("ci", 0, "2")
    # a rerun loads every stage instead of training it again, and measures the same returns
    again = bench.run_benchmark("pixel-pearl", "ci", tmp_path / "p2.json", seeds=[0])["rows"]
    first = [r["mean"] for r in rows if "trajectory" in r]
    assert [r["mean"] for r in again if "trajectory" in r] == pytest.approx(first)
    assert next(r for r in again if r["method"] == "timing")["perception_losses"] == timing["perception_losses"]
    # stage 5 is skipped, and said to be, when all its steps would take longer than the preset allows
    from metarl_course import presets
    monkeypatch.setitem(presets.PRESETS["ci"]["bench_pixel_pearl"], "stage5_max_hours", 0)
    skipped = bench.run_benchmark("pixel-pearl", "ci", tmp_path / "p3.json", seeds=[0])["rows"]
    assert not [r for r in skipped if r["method"] == pixel_pearl_bench.STAGES["5"]]
    assert not next(r for r in skipped if r["method"] == "stage 5: seconds per gradient step on frames")["trained"]
    assert (tmp_path / "p3.png").exists()
    # a seed whose stage 4 does not clear standing still by min_stage4_gain trains nothing else
    monkeypatch.setitem(presets.PRESETS["ci"]["bench_pixel_pearl"], "min_stage4_gain", 1e9)
    void = bench.run_benchmark("pixel-pearl", "ci", tmp_path / "p4.json", seeds=[0])["rows"]
    assert {r["method"] for r in void} == {pixel_pearl_bench.STAGES["4"], "stage 4 did not learn"}
    gain = next(r for r in void if r["method"] == "stage 4 did not learn")
    assert gain["mean"] == pytest.approx(stage4_last - gain["floor"], abs=1e-4)
    assert (tmp_path / "p4.png").exists()


def test_return_drop_by_hand():
    from metarl_course.pixel_pearl import return_drop

    # upper -100 (gained 200 over the floor -300), other -150: 50 lost, a quarter of the gain
    assert return_drop(np.array([-90.0, -110.0]), np.array([-150.0]), floor=-300.0) == {"drop": 50.0, "share": 0.25}


def test_perception_loss_adds_the_weighted_rl_term_and_its_gradient():
    from metarl_course.state_estimator import perception_loss, state_estimation_loss

    predicted = torch.tensor([[1.0, 2.0]], requires_grad=True)
    states, std = torch.tensor([[0.0, 0.0]]), torch.tensor([1.0, 2.0])
    rl = (predicted ** 2).sum()                      # a stand-in RL loss that depends on the estimate
    loss = perception_loss(predicted, states, std, rl, weight=0.5)
    assert float(loss.detach()) == pytest.approx((1 + 1) / 2 + 0.5 * 5)
    loss.backward()
    # d/dŝ of mean(((ŝ - s)/σ)²) = 2(ŝ - s)/(σ² n) with n = 2, plus 0.5 · 2ŝ
    np.testing.assert_allclose(predicted.grad.numpy(), [[2 * 1 / 2 + 1.0, 2 * 2 / (4 * 2) + 2.0]])
    assert float(perception_loss(predicted, states, std, rl, 0.0).detach()) == pytest.approx(
        float(state_estimation_loss(predicted, states, std).detach()))


def test_frame_replay_stacks_are_the_dataset_stacks():
    from metarl_course.pixel_pearl import FrameReplay

    rng = np.random.default_rng(0)
    frames = rng.integers(0, 256, size=(1, 5, 64, 64, 3), dtype=np.uint8)   # one task, T = 4 steps
    record = {"frames": frames, "states": rng.normal(size=(1, 5, 17)), "observed": rng.normal(size=(1, 5, 17)),
              "actions": rng.normal(size=(1, 4, 6)), "rewards": rng.normal(size=(1, 4))}
    replay = FrameReplay(k=3, max_episodes=2)
    replay.add([(np.array([7]), record)] * 3)
    assert list(replay.tasks) == [7] and len(replay.episodes[7]) == 2
    offline = stack_frames(frames[0], 3)
    for t in range(5):
        np.testing.assert_array_equal(replay._stack(frames[0], t), offline[t])
    batch = replay.sample(np.array([7]), batch_size=6, context_size=4, rng=rng)
    assert batch["stacks"].shape == (1, 6, 9, 64, 64) and batch["context"].shape == (1, 4, 24)
    assert batch["stacks"].dtype == torch.uint8 and batch["rewards"].shape == (1, 6)


def test_perception_step_follows_the_critic_only_when_weighted():
    from metarl_course.pixel_pearl import perception_step
    from metarl_course.state_estimator import StateEstimator

    def step(weight):
        torch.manual_seed(0)
        model = StateEstimator(k=1, width=4, hidden=8)
        agent = small_agent()
        optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
        gen = torch.Generator().manual_seed(0)
        batch = {"stacks": torch.randint(0, 256, (2, 3, 3, 64, 64), generator=gen, dtype=torch.uint8),
                 "next_stacks": torch.randint(0, 256, (2, 3, 3, 64, 64), generator=gen, dtype=torch.uint8),
                 "states": torch.randn(2, 3, 17, generator=gen), "actions": torch.rand(2, 3, 6, generator=gen),
                 "rewards": torch.randn(2, 3, generator=gen), "context": torch.randn(2, 4, 24, generator=gen)}
        before = [p.detach().clone() for p in agent.parameters()]
        info = perception_step(model, optimizer, agent, batch, weight, 0.99, 5.0, torch.Generator().manual_seed(1))
        assert all(torch.equal(a, b) for a, b in zip(before, agent.parameters())), "the agent must not change"
        return info, [p.detach().clone() for p in model.parameters()]

    plain, plain_params = step(0.0)
    weighted, weighted_params = step(0.5)
    assert plain["loss"] == pytest.approx(plain["state"]) and plain["rl"] > 0
    assert weighted["loss"] == pytest.approx(weighted["state"] + 0.5 * weighted["rl"], rel=1e-5)
    assert weighted["state"] == pytest.approx(plain["state"])     # same batch, same model before the step
    assert any(not torch.allclose(a, b) for a, b in zip(plain_params, weighted_params))


def test_train_jointly_runs_and_trains_the_estimator():
    from metarl_course.pearl import PEARLConfig
    from metarl_course.pixel_pearl import train_jointly
    from metarl_course.state_estimator import StateEstimator

    torch.manual_seed(0)
    model = StateEstimator(k=2, width=4, hidden=8)
    start = [p.detach().clone() for p in model.parameters()]
    config = PEARLConfig(latent_dim=2, net_hidden=(8,), encoder_hidden=(8,), rl_batch=4, context_batch=4,
                         meta_batch=2, tasks_per_iteration=1, initial_trajectories=1, prior_trajectories=1,
                         posterior_trajectories=0, gradient_steps=2, horizon=5, gamma=0.99, reward_scale=5.0)
    agent, history, losses = train_jointly(model, np.array([0.5, 1.0, 2.0]), np.array([0, 1]), iterations=2,
                                           config=config, weight=0.1, perception_steps=2, perception_batch=3, k=2)
    assert len(losses["state"]) == 2 and all(np.isfinite(losses["rl"]))
    assert any(not torch.allclose(a, b) for a, b in zip(start, model.parameters()))
    assert agent.encoder.latent_dim == 2 and len(history.critic) == 2


def test_a_stage_marked_by_a_dead_trainer_is_trained_here(tmp_path):
    import subprocess
    import sys
    import threading

    from metarl_course.pixel_pearl_bench import _wait_for_other_trainer

    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    marker = tmp_path / "stage3c_seed0.running"
    marker.write_text(str(gone.pid))
    _wait_for_other_trainer(marker, poll_seconds=0.01)       # returns at once and clears the stale marker
    assert not marker.exists()
    for reaped in (True, False):                            # a trainer that ends, reaped by its parent or not
        alive = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(0.5)"])
        if reaped:
            threading.Thread(target=alive.wait).start()
        marker.write_text(str(alive.pid))
        _wait_for_other_trainer(marker, poll_seconds=0.05)   # waits for the live one to end
        assert not marker.exists() and (alive.poll() is not None)


def test_noisy_cheetah_adds_white_noise_of_the_given_size_per_dimension():
    from metarl_course.pearl_cheetah import CheetahVelTasks
    from metarl_course.pixel_pearl import NoisyCheetahTasks

    sigma = np.zeros(17)
    sigma[8] = 0.5                                   # vx only
    clean, noisy = CheetahVelTasks(np.array([1.0, 2.0]), horizon=5), NoisyCheetahTasks(np.array([1.0, 2.0]), sigma,
                                                                                       horizon=5)
    actions = torch.rand(200, 2, 1, 6, generator=torch.Generator().manual_seed(0)) * 2 - 1
    gaps, rewards = [], []
    for tasks in (clean, noisy):
        env = tasks.env(np.array([0, 1]), seed=3)
        seen, got = [env.reset()], []
        for a in actions:
            obs, reward, _ = env.step(a)
            seen.append(obs)
            got.append(reward)
        gaps.append(torch.stack(seen))
        rewards.append(torch.stack(got))
    gap = gaps[1] - gaps[0]                           # the same simulators, so the difference is the noise
    torch.testing.assert_close(rewards[1], rewards[0])              # the reward is the true state's
    assert gap[..., :8].abs().max() == 0 and gap[..., 9:].abs().max() == 0
    assert float(gap[..., 8].std()) == pytest.approx(0.5, rel=0.1) and abs(float(gap[..., 8].mean())) < 0.06
    assert float((gap[1:, ..., 8] * gap[:-1, ..., 8]).mean()) == pytest.approx(0.0, abs=0.04)   # white in time
    again = noisy.env(np.array([0, 1]), seed=3).reset()
    torch.testing.assert_close(again, gaps[1][0])                   # an evaluation's noise restarts from its seed
    with pytest.raises(ValueError, match="17 non-negative"):
        NoisyCheetahTasks(np.array([1.0]), np.ones(3))
    clean.close()
    noisy.close()


def test_the_five_way_comparison_reads_each_source_against_its_own_standing_still():
    """Stages from the bench (30 held-out velocities) and from the notebook (its own 10) are each drawn
    against standing still on their own tasks, not one floor for both."""
    import matplotlib

    matplotlib.use("Agg")
    from metarl_course import pixel_notebook as helpers

    bench = {"preset": "laptop", "rows": [
        {"method": "stage 2: trained and run on CNN estimates", "trajectory": 3, "mean": -288.0, "stderr": 27.0},
        {"method": "stage 2: trained and run on CNN estimates", "summary": "share", "mean": 0.9, "floor": -300.0},
        {"method": "stage 4: PEARL on true states", "summary": "share", "mean": 0.0, "floor": -298.0}]}
    means = helpers.stage_means(bench, {4: [-70.0, -60.0], 1: [-230.0, -240.0]})
    assert means[2] == (-288.0, 27.0, "bench, laptop") and means[4][:2] == (-65.0, 5.0)
    assert means[4][2] == "this notebook"
    floors = helpers.source_floors(bench, -272.0)
    assert floors == {"this notebook": -272.0, "bench, laptop": -299.0}
    assert helpers.source_floors(None, -272.0) == {"this notebook": -272.0}
    fig = helpers.plot_stage_comparison(means, floors, "stage 3, 5 not measured here")
    drawn = sorted(line.get_ydata()[0] for line in fig.axes[0].lines if len(set(line.get_ydata())) == 1
                   and line.get_linestyle() in (":", "--"))
    assert drawn == [-299.0, -272.0]
