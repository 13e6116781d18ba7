"""The unit-05 checks accept correct code and name the mistake in wrong code."""

from __future__ import annotations

import time

import numpy as np
import pytest
import torch

from grading_harness import assert_refuses_reference_and_unimplemented
from metarl_course import pixel_pearl, pixels, state_estimator
from metarl_course.checks import CheckFailure
from metarl_course.checks import unit05 as checks


# -- exercise 1: stack_frames ----------------------------------------------------------------------
def stack_with(order="oldest", pad="repeat", shift=0, layout="frames", channels_first=True, dtype=None):
    """A student's frame stack, with one ingredient switched to a common mistake."""
    def stack_frames(frames, k):
        T = len(frames)
        offsets = np.arange(-k + 1, 1) - shift
        if order == "newest":
            offsets = offsets[::-1]
        index = np.arange(T)[:, None] + offsets[None, :]
        if pad == "repeat":
            index = np.clip(index, 0, T - 1)
        elif pad == "wrap":
            index = index % T
        stacks = frames[np.clip(index, 0, T - 1)]                                 # (T, k, H, W, 3)
        if pad == "zeros":
            stacks = np.where((index < 0)[:, :, None, None, None], 0, stacks).astype(frames.dtype)
        if not channels_first:
            return np.concatenate([stacks[:, j] for j in range(k)], axis=-1)
        axes = (0, 1, 4, 2, 3) if layout == "frames" else (0, 4, 1, 2, 3)
        out = np.transpose(stacks, axes).reshape(T, 3 * k, *frames.shape[1:3])
        return out if dtype is None else out.astype(dtype)
    return stack_frames


def online_stack(frames, k):
    """A different, equally correct route: the online FrameStack, step by step."""
    stack = pixels.FrameStack(k)
    return np.stack([stack.reset(frames[0])] + [stack.push(f) for f in frames[1:]])


def test_the_labelled_hand_case_reads_as_the_markdown_says():
    stacks = pixels.stack_frames(checks.labelled_frames(4), 3)
    assert stacks[0, :, 0, 0].tolist() == [0, 10, 20] * 3
    assert stacks[3, :, 0, 0].tolist() == [40, 50, 60, 80, 90, 100, 120, 130, 140]


@pytest.mark.parametrize("student", [stack_with(), online_stack, lambda f, k: torch.as_tensor(stack_with()(f, k))])
def test_correct_stacks_pass(student):
    checks.check_stack_frames(student)
    checks.hidden_check_stack_frames(student)


@pytest.mark.parametrize("student, hint", [
    (stack_with(order="newest"), "newest frame comes first"),
    (stack_with(pad="zeros"), "are zeros"),
    (stack_with(pad="wrap"), "wraps around"),
    (stack_with(shift=1), "misses the current frame"),
    (stack_with(layout="colours"), "interleaved by colour"),
    (stack_with(channels_first=False), "channels first"),
    (stack_with(dtype=np.float32), "keep the frames' dtype"),
    (lambda f, k: np.transpose(f, (0, 3, 1, 2)), "wrong shape"),
    (lambda f, k: stack_with()(f, k)[k - 1:], "one stack for every step"),
    (lambda f, k: np.transpose(f, (0, 3, 2, 1))[np.clip(np.arange(len(f))[:, None] + np.arange(-k + 1, 1), 0, len(f) - 1)]
     .reshape(len(f), 3 * k, f.shape[2], f.shape[1]), "height and width were swapped"),
    (lambda f, k: None, "returned None"),
])
def test_stack_mistakes_are_named(student, hint):
    with pytest.raises(CheckFailure, match=hint):
        checks.hidden_check_stack_frames(student)


def test_stack_that_changes_the_frames_is_refused():
    def in_place(frames, k):
        out = stack_with()(frames, k)
        frames[:] = 0
        return out
    with pytest.raises(CheckFailure, match="in place"):
        checks.check_stack_frames(in_place)


# -- exercise 2: estimate_states --------------------------------------------------------------------
def forward_with(scale=True, std="std", mean=True, head=True, grad=True):
    def estimate_states(model, frames):
        x = frames.float() / 255.0 if scale else frames.float()
        with torch.set_grad_enabled(grad):
            features = model.conv(x)
            if not head:
                return features
            out = model.head(features)
        factor = {"std": model.state_std, "var": model.state_std ** 2, "none": 1.0}[std]
        return (model.state_mean if mean else 0.0) + factor * out
    return estimate_states


@pytest.mark.parametrize("student", [forward_with(), lambda model, frames: model.state_mean + model.state_std
                                     * model.head(model.conv(frames.to(torch.float32).div(255)))])
def test_correct_forwards_pass(student):
    checks.check_estimate_states(student)
    checks.hidden_check_estimate_states(student)


@pytest.mark.parametrize("student, hint", [
    (forward_with(scale=False), "not scaled"),
    (forward_with(std="none", mean=False), "standardised output"),
    (forward_with(std="var"), "multiplied by the variance"),
    (forward_with(std="none"), "standard deviation is missing"),
    (forward_with(mean=False), "mean is missing"),
    (forward_with(head=False), "flattened convolution output"),
    (forward_with(grad=False), "carry no gradient"),
    (lambda model, frames: forward_with()(model, frames).detach(), "carry no gradient"),
    (lambda model, frames: (model.head(model.conv(frames.float() / 255)) - model.state_mean) / model.state_std,
     "standardises the output a second time"),
    (lambda model, frames: None, "wrong shape|returned None"),
])
def test_forward_mistakes_are_named(student, hint):
    with pytest.raises(CheckFailure, match=hint):
        checks.check_estimate_states(student)


# -- exercise 3: state_estimation_loss --------------------------------------------------------------
def test_the_hand_loss_case_is_right():
    predicted, states, std, expected = checks.loss_hand_case()
    assert float(state_estimator.state_estimation_loss(predicted, states, std)) == pytest.approx(expected)


@pytest.mark.parametrize("student", [
    lambda p, s, std: (((p - s) / std) ** 2).mean(),
    lambda p, s, std: torch.nn.functional.mse_loss(p / std, s / std),
    lambda p, s, std: ((p - s) ** 2 / std ** 2).sum() / p.numel(),
])
def test_correct_losses_pass(student):
    checks.check_state_estimation_loss(student)
    checks.hidden_check_state_estimation_loss(student)


@pytest.mark.parametrize("student, hint", [
    (lambda p, s, std: ((p - s) ** 2).mean(), "divided by its standard deviation"),
    (lambda p, s, std: (((p - s) / std ** 2) ** 2).mean(), "divided by the variance"),
    (lambda p, s, std: ((p - s) ** 2 / std).mean(), "divided by σ, not σ²"),
    (lambda p, s, std: (((p - s) / std) ** 2).sum(), "that is a sum"),
    (lambda p, s, std: (((p - s) / std) ** 2).sum(-1).mean(), "dimensions were summed"),
    (lambda p, s, std: (((p - s) / std) ** 2).mean(-1).sum(), "batch was summed"),
    (lambda p, s, std: (((p - s) / std) ** 2).mean().sqrt(), "root of the loss"),
    (lambda p, s, std: ((p - s) / std).abs().mean(), "not squared"),
    (lambda p, s, std: (((p - s) / std) ** 2).mean(-1), "one number"),
    (lambda p, s, std: torch.tensor((((p - s) / std) ** 2).mean().item()), "no gradient"),
])
def test_loss_mistakes_are_named(student, hint):
    with pytest.raises(CheckFailure, match=hint):
        checks.check_state_estimation_loss(student)


# -- exercise 4: perception_loss ---------------------------------------------------------------------
def _state(p, s, std):
    return (((p - s) / std) ** 2).mean()


@pytest.mark.parametrize("student", [
    lambda p, s, std, rl, w: _state(p, s, std) + w * rl,
    lambda p, s, std, rl, w: torch.add(_state(p, s, std), rl, alpha=w),
])
def test_correct_perception_losses_pass(student):
    checks.check_perception_loss(student)
    checks.hidden_check_perception_loss(student)


@pytest.mark.parametrize("student, hint", [
    (lambda p, s, std, rl, w: w * _state(p, s, std) + rl, "weight multiplies the state loss"),
    (lambda p, s, std, rl, w: _state(p, s, std) + rl, "weight β is missing"),
    (lambda p, s, std, rl, w: (1 - w) * _state(p, s, std) + w * rl, "convex mix"),
    (lambda p, s, std, rl, w: _state(p, s, std), "RL term is missing"),
    (lambda p, s, std, rl, w: _state(p, s, std) - w * rl, "subtracted"),
    (lambda p, s, std, rl, w: _state(p, s, std) + w * rl.detach(), "does not reach the estimates"),
    (lambda p, s, std, rl, w: _state(p, s, std) + w * rl.item(), "does not reach the estimates"),
    (lambda p, s, std, rl, w: float(_state(p, s, std) + w * rl), "no gradient"),
])
def test_perception_mistakes_are_named(student, hint):
    with pytest.raises(CheckFailure, match=hint):
        checks.hidden_check_perception_loss(student)


# -- exercise 5: return_drop ---------------------------------------------------------------------------
def _drop(u, o):
    return float(np.mean(u)) - float(np.mean(o))


@pytest.mark.parametrize("student", [
    lambda u, o, f: {"drop": _drop(u, o), "share": _drop(u, o) / (float(np.mean(u)) - f)},
    lambda u, o, f: {"share": np.float64(_drop(u, o) / (np.mean(u) - f)), "drop": torch.tensor(_drop(u, o))},
])
def test_correct_drops_pass(student):
    checks.check_return_drop(student)
    checks.hidden_check_return_drop(student)


@pytest.mark.parametrize("student, hint", [
    (lambda u, o, f: {"drop": _drop(u, o), "share": _drop(u, o) / abs(np.mean(u))}, "gained over the floor"),
    (lambda u, o, f: {"drop": _drop(u, o), "share": _drop(u, o) / (np.mean(o) - f)}, "not the other stage's"),
    (lambda u, o, f: {"drop": -_drop(u, o), "share": -_drop(u, o) / (np.mean(u) - f)}, "sign is flipped"),
    (lambda u, o, f: {"drop": _drop(u, o), "share": (np.mean(o) - f) / (np.mean(u) - f)}, r"share \*kept\*"),
    (lambda u, o, f: {"drop": _drop(u, o), "share": _drop(u, o) / np.mean(u)}, "floor was not subtracted"),
    (lambda u, o, f: (_drop(u, o), _drop(u, o) / (np.mean(u) - f)), "keys 'drop' and 'share'"),
    (lambda u, o, f: {"drop": float(np.mean(u[0]) - np.mean(o[0])), "share": 0.0}, "drop is wrong"),
])
def test_drop_mistakes_are_named(student, hint):
    with pytest.raises(CheckFailure, match=hint):
        checks.hidden_check_return_drop(student)


# -- every check refuses the reference and an unimplemented function --------------------------------
@pytest.mark.parametrize("check, reference", [
    (checks.check_stack_frames, pixels.stack_frames),
    (checks.check_estimate_states, state_estimator.StateEstimator.forward),
    (checks.check_state_estimation_loss, state_estimator.state_estimation_loss),
    (checks.check_perception_loss, state_estimator.perception_loss),
    (checks.check_return_drop, pixel_pearl.return_drop),
])
def test_reference_and_unimplemented_are_refused(check, reference):
    assert_refuses_reference_and_unimplemented(check, reference)


def test_checks_are_fast():
    """The planted-bug tests and the grader run every check many times."""
    start = time.perf_counter()
    checks.hidden_check_stack_frames(stack_with())
    checks.hidden_check_estimate_states(forward_with())
    checks.hidden_check_state_estimation_loss(lambda p, s, std: _state(p, s, std))
    checks.hidden_check_perception_loss(lambda p, s, std, rl, w: _state(p, s, std) + w * rl)
    checks.hidden_check_return_drop(lambda u, o, f: {"drop": _drop(u, o), "share": _drop(u, o) / (np.mean(u) - f)})
    assert time.perf_counter() - start < 5.0
