"""Frames for PEARL-from-pixels: stacking, the cache, rendering, and a CNN that needs the stack."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from metarl_course import pixels, state_estimator


def test_stack_frames_orders_oldest_first_and_repeats_the_first_frame():
    frames = np.arange(4)[:, None, None, None] * np.ones((4, 2, 2, 3), dtype=np.uint8)  # frame t is all t
    stacks = pixels.stack_frames(frames, k=3)
    assert stacks.shape == (4, 9, 2, 2)
    assert [list(stacks[t, ::3, 0, 0]) for t in range(4)] == [[0, 0, 0], [0, 0, 1], [0, 1, 2], [1, 2, 3]]


def test_online_frame_stack_matches_the_dataset_layout():
    rng = np.random.default_rng(0)
    frames = rng.integers(0, 256, size=(5, 4, 4, 3), dtype=np.uint8)
    stack = pixels.FrameStack(k=2)
    online = [stack.reset(frames[0])] + [stack.push(f) for f in frames[1:]]
    np.testing.assert_array_equal(np.stack(online), pixels.stack_frames(frames, k=2))


def test_state_estimation_loss_is_the_standardised_squared_error():
    predicted = torch.tensor([[1.0, 2.0], [3.0, 6.0]])
    states = torch.tensor([[0.0, 2.0], [3.0, 2.0]])
    std = torch.tensor([1.0, 2.0])
    # ((1-0)/1)² + 0 + 0 + ((6-2)/2)² = 1 + 4, over 4 entries
    assert state_estimation_loss(predicted, states, std) == pytest.approx(5.0 / 4)


state_estimation_loss = state_estimator.state_estimation_loss


def test_estimator_output_shape_and_units():
    model = state_estimator.StateEstimator(k=3, state_dim=17)
    model.state_mean.fill_(5.0)
    with torch.no_grad():
        for p in model.head[-1].parameters():
            p.zero_()
    out = model(torch.zeros(2, 9, 64, 64, dtype=torch.uint8))
    assert out.shape == (2, 17) and torch.allclose(out, torch.full((2, 17), 5.0))


def test_fit_state_estimator_trains_the_model_it_is_given():
    rng = np.random.default_rng(0)
    frames = rng.integers(0, 256, size=(40, 3, 64, 64), dtype=np.uint8)
    states = rng.normal(3.0, 2.0, size=(40, 2)).astype(np.float32)
    given = state_estimator.StateEstimator(k=1, state_dim=2, width=4, hidden=8)
    before = [p.detach().clone() for p in given.parameters()]
    model, history, test = state_estimator.fit_state_estimator(frames, states, k=1, epochs=1, batch_size=8,
                                                                model=given)
    assert model is given and len(history.test_loss) == 1 and len(test) == 8
    assert all(not torch.equal(b, p) for b, p in zip(before, model.parameters()))
    np.testing.assert_allclose(model.state_mean.numpy(), states[:32].mean(0), rtol=1e-5)


def moving_squares(n_episodes: int, horizon: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """64x64 frames of a bright square sliding at a constant velocity; state = (position, velocity).

    One frame shows the position; only two frames show the velocity."""
    rng = np.random.default_rng(seed)
    frames = np.zeros((n_episodes, horizon, 64, 64, 3), dtype=np.uint8)
    states = np.zeros((n_episodes, horizon, 2), dtype=np.float32)
    for e in range(n_episodes):
        x, v = rng.uniform(20, 36), rng.choice([-4.0, -2.0, 2.0, 4.0])
        for t in range(horizon):  # |v| (horizon - 1) <= 12: the square stays inside the frame
            frames[e, t, 28:36, int(round(x)):int(round(x)) + 8] = 255
            states[e, t] = (x, v)
            x += v
    return frames, states


@pytest.mark.slow
def test_the_cnn_reads_velocity_only_from_a_stack_of_frames():
    frames, states = moving_squares(n_episodes=150, horizon=4, seed=0)
    states = states[:, 1:].reshape(-1, 2)  # t = 0 is dropped: no stack can show a velocity yet
    results = {}
    for k in (1, 2):
        stacks = np.concatenate([pixels.stack_frames(episode, k)[1:] for episode in frames])
        model, history, test = state_estimator.fit_state_estimator(stacks, states, k, epochs=20,
                                                                   batch_size=32, lr=1e-3, seed=0)
        results[k] = predict_relative_error(model, stacks[test], states[test])
    assert results[1][0] < 0.35 and results[2][0] < 0.35, results   # the position is in every frame
    assert results[1][1] > 0.5, results                             # the velocity is not in one frame
    assert results[2][1] < 0.35, results                            # but it is in two


def predict_relative_error(model, frames, states) -> np.ndarray:
    error = state_estimator.predict(model, frames) - states
    return np.sqrt((error ** 2).mean(axis=0)) / model.state_std.numpy()


@pytest.mark.slow
def test_render_collect_and_cache(tmp_path):
    spec = pixels.DatasetSpec(n_tasks=2, episodes_per_task=1, horizon=5, seed=3)
    dataset = pixels.load_or_collect(spec, cache=tmp_path)
    assert dataset.frames.shape == (2, 5, 64, 64, 3) and dataset.frames.dtype == np.uint8
    assert dataset.states.shape == (2, 5, 17)
    assert dataset.frames.std() > 10, "the frames are blank: is MuJoCo rendering headless (MUJOCO_GL=egl)?"
    again = pixels.load_or_collect(spec, cache=tmp_path)
    np.testing.assert_array_equal(again.frames, dataset.frames)
    np.testing.assert_array_equal(again.states, dataset.states)
    assert len(list(tmp_path.iterdir())) == 1
    stacks, states = dataset.stacked(k=3)
    assert stacks.shape == (10, 9, 64, 64) and states.shape == (10, 17)
