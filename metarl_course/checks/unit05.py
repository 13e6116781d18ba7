"""Checks for unit 05, PEARL from pixels.

Exercises: the frame stack (velocity needs several frames), the CNN state estimator's
forward pass (uint8 frames in, states in the data's units out), the state-estimation loss
standardised per dimension, the perception loss L_state + β L_RL, and the return drop of a
stage against the upper bound. Each check runs the student's function on seeded inputs and
on cases small enough to solve by hand, compares with the reference in
``metarl_course.pixels``, ``state_estimator`` and ``pixel_pearl``, and names the likely
mistake by recomputing the common wrong versions.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np
import torch

from metarl_course import pixel_pearl, pixels, state_estimator
from metarl_course.checks._core import call_student, fail, first_match, passed, tensor_as_array


def _shape(value: Any) -> tuple[int, ...]:
    return tuple(value.shape) if hasattr(value, "shape") else tuple(np.shape(value))


# -- exercise 1: the frame stack -------------------------------------------------------------------
_STACK_FORMULA = ("o_t = [x_{t-k+1}, ..., x_{t-1}, x_t] along the channels, oldest frame first, each frame as "
                  "(3, H, W); before the first frame of the episode, repeat the first frame: output (T, 3k, H, W).")


def labelled_frames(T: int, H: int = 2, W: int = 3) -> np.ndarray:
    """(T, H, W, 3) uint8 frames whose pixel (t, h, w, c) reads 40 t + 10 c + (h W + w) % 10, so a stack
    shows at a glance which frame and which colour channel sits where."""
    t, h, w, c = np.meshgrid(np.arange(T), np.arange(H), np.arange(W), np.arange(3), indexing="ij")
    return (40 * t + 10 * c + (h * W + w) % 10).astype(np.uint8)


def _stack_variants(frames: np.ndarray, k: int) -> dict[str, np.ndarray]:
    T = len(frames)
    first = np.transpose(frames, (0, 3, 1, 2))                                      # (T, 3, H, W)

    def build(index: np.ndarray, source: np.ndarray = first) -> np.ndarray:
        return source[index].reshape(T, 3 * k, *frames.shape[1:3])

    offsets = np.arange(-k + 1, 1)
    clipped = np.clip(np.arange(T)[:, None] + offsets[None, :], 0, T - 1)
    padded = np.concatenate([np.zeros((k - 1, *first.shape[1:]), first.dtype), first])
    variants = {
        "the newest frame comes first; the stack is oldest first, [x_{t-k+1}, ..., x_t] (x_t in the last 3 "
        "channels).": build(clipped[:, ::-1]),
        "the frames before the episode's start are zeros; repeat the episode's first frame instead (a black frame "
        "is not something the camera ever shows).": padded[np.arange(T)[:, None] + np.arange(k)[None, :]].reshape(
            T, 3 * k, *frames.shape[1:3]),
        "the stack wraps around to the end of the episode (np.roll or a negative index); before the first frame, "
        "repeat the first frame: clip the indices t - j to 0.": build((np.arange(T)[:, None] + offsets[None, :]) % T),
        "the stack holds x_{t-k}, ..., x_{t-1} and misses the current frame x_t; it ends at x_t.":
            build(np.clip(np.arange(T)[:, None] + offsets[None, :] - 1, 0, T - 1)),
        "the channels are interleaved by colour (all the red channels, then the green...); keep each frame's "
        "3 channels together: frame j of the stack is channels 3j, 3j+1, 3j+2.":
            np.transpose(first[clipped], (0, 2, 1, 3, 4)).reshape(T, 3 * k, *frames.shape[1:3]),
        "each frame's height and width were swapped; (H, W, 3) becomes (3, H, W): np.transpose(frames, (0, 3, 1, 2)).":
            np.transpose(frames, (0, 3, 2, 1))[clipped].reshape(T, 3 * k, frames.shape[2], frames.shape[1])
            if frames.shape[1] == frames.shape[2] else np.zeros(0),
    }
    return variants


def _stack_case(stack_frames: Callable, frames: np.ndarray, k: int, where: str) -> np.ndarray:
    given = frames.copy()
    result = call_student(stack_frames, given, k, name="stack_frames")
    if not np.array_equal(given, frames):
        fail(f"{where}: stack_frames changed the frames it was given (in place).", hint="build a new array.")
    if result is None:
        fail(f"{where}: stack_frames returned None; end it with `return stacks`.")
    if isinstance(result, torch.Tensor):
        result = result.detach().cpu().numpy()
    result = np.asarray(result)
    T, H, W, _ = frames.shape
    expected = pixels.stack_frames(frames, k)
    if result.shape != expected.shape:
        shape = result.shape
        if shape == (T, H, W, 3 * k):
            hint = "channels first: the CNN reads (3k, H, W); move each frame's colour axis to the front."
        elif shape == (T, k, 3, H, W):
            hint = "the k frames and their 3 colours are one channel axis of 3k: reshape (T, k, 3, H, W) to (T, 3k, H, W)."
        elif shape == (T, 3, H, W) and k > 1:
            hint = "that is one frame per step; the stack holds k frames, 3k channels."
        elif shape == (T, 3 * k, W, H):
            hint = "each frame's height and width were swapped; (H, W, 3) becomes (3, H, W): np.transpose(frames, (0, 3, 1, 2))."
        elif len(shape) == 4 and shape[0] == T - k + 1:
            hint = "one stack for every step t = 0..T-1: before the first frame, repeat the first frame."
        else:
            hint = _STACK_FORMULA
        fail(f"{where}: the stacks have the wrong shape.", expected=expected.shape, got=shape, hint=hint)
    if result.dtype != frames.dtype:
        fail(f"{where}: the stacks are {result.dtype}, the frames {frames.dtype}.",
             hint="keep the frames' dtype (uint8): the CNN scales uint8 images to [0, 1] itself, and a float copy "
                  "of a dataset takes 4 times the memory.")
    if not np.array_equal(result, expected):
        t, c = map(int, np.argwhere((result != expected).any(axis=(2, 3)))[0])
        fail(f"{where}: stack {t} is wrong (first wrong channel: {c}).",
             expected=expected[t, :, 0, 0], got=result[t, :, 0, 0],
             hint=first_match(result.astype(np.float64), _stack_variants(frames, k), _STACK_FORMULA))
    return result


def check_stack_frames(stack_frames: Callable, seeds: Sequence[int] = (0,)) -> None:
    frames = labelled_frames(4)
    _stack_case(stack_frames, frames, 3, "stack_frames on 4 labelled 2x3 frames, k = 3 (pixel (t, h, w, c) = 40 t + 10 c "
                "+ ...; the expected values below are pixel (0, 0) of each channel of the stack)")
    _stack_case(stack_frames, frames, 1, "stack_frames with k = 1 (each frame alone, channels first)")
    for seed in seeds:
        rng = np.random.default_rng(seed)
        _stack_case(stack_frames, rng.integers(0, 256, (6, 8, 8, 3), dtype=np.uint8), 3,
                    f"stack_frames on 6 random 8x8 frames, k = 3, seed {seed}")
    passed("stack_frames puts the last k frames side by side along the channels, oldest first, the first frame "
           "repeated before the episode's start")


def hidden_check_stack_frames(stack_frames: Callable) -> None:
    check_stack_frames(stack_frames, seeds=(1, 2))
    rng = np.random.default_rng(3)
    _stack_case(stack_frames, rng.integers(0, 256, (5, 4, 7, 3), dtype=np.uint8), 2,
                "stack_frames on frames that are not square (4x7), k = 2")
    _stack_case(stack_frames, rng.integers(0, 256, (2, 5, 5, 3), dtype=np.uint8), 4,
                "stack_frames on an episode shorter than the stack (T = 2, k = 4)")
    _stack_case(stack_frames, rng.integers(0, 256, (1, 5, 5, 3), dtype=np.uint8), 3,
                "stack_frames on an episode of one frame")
    # the stacks must be what the agent sees online (pixels.FrameStack)
    frames = rng.integers(0, 256, (5, 6, 6, 3), dtype=np.uint8)
    online = pixels.FrameStack(3)
    seen = [online.reset(frames[0])] + [online.push(f) for f in frames[1:]]
    got = np.asarray(call_student(stack_frames, frames, 3, name="stack_frames"))
    if not np.array_equal(got, np.stack(seen)):
        fail("stack_frames: the stacks differ from what the agent is shown online (FrameStack) on the same episode.",
             hint=_STACK_FORMULA)
    passed("stack_frames: non-square frames, short episodes, and the same stacks as the online FrameStack")


# -- exercise 2: the CNN's forward pass ------------------------------------------------------------
_FORWARD_FORMULA = ("x = frames.float() / 255 (uint8 to [0, 1]); ŝ = model.state_mean + model.state_std * "
                    "model.head(model.conv(x)), shape (B, 17).")


def small_estimator(seed: int, k: int = 2, width: int = 4, hidden: int = 8) -> state_estimator.StateEstimator:
    """A small StateEstimator with random weights and a non-trivial standardisation."""
    with torch.random.fork_rng():                    # leave the notebook's global generator as it was
        torch.manual_seed(seed)
        model = state_estimator.StateEstimator(k, 17, width=width, hidden=hidden)
    gen = torch.Generator().manual_seed(seed + 1)
    model.state_mean.copy_(torch.randn(17, generator=gen))
    model.state_std.copy_(torch.rand(17, generator=gen) * 2 + 0.5)
    return model


def _forward_variants(model: state_estimator.StateEstimator, frames: torch.Tensor) -> dict[str, torch.Tensor]:
    with torch.no_grad():
        x = frames.float() / 255.0
        out = model.head(model.conv(x))
        raw = model.head(model.conv(frames.float()))
        return {
            "the frames were not scaled: uint8 pixels are 0..255, the network expects [0, 1], frames.float() / 255.":
                model.state_mean + model.state_std * raw,
            "that is the standardised output head(conv(x)); turn it back into the data's units: "
            "ŝ = state_mean + state_std * head(conv(x)).": out,
            "the output was multiplied by the variance; multiply by the standard deviation, state_std.":
                model.state_mean + model.state_std ** 2 * out,
            "the standard deviation is missing: ŝ = state_mean + state_std * head(conv(x)).": model.state_mean + out,
            "the mean is missing: ŝ = state_mean + state_std * head(conv(x)).": model.state_std * out,
            "that standardises the output a second time; the head's output is standardised already: "
            "ŝ = state_mean + state_std * head(conv(x)).": (out - model.state_mean) / model.state_std,
        }


def _call_estimate_states(estimate_states: Callable, model: state_estimator.StateEstimator, frames: torch.Tensor):
    """The student's function with ``model(...)`` refused: in the notebook estimate_states IS the model's
    forward, so calling the model inside it would call it again, forever."""
    def refuse(*args, **kwargs):
        fail("estimate_states called model(frames): it must compute the forward pass itself. In the notebook "
             "the network's forward is your estimate_states, so model(...) inside it would call it again, forever.",
             hint=_FORWARD_FORMULA)

    model.forward = refuse
    try:
        return call_student(estimate_states, model, frames, name="estimate_states")
    finally:
        del model.forward


def _forward_case(estimate_states: Callable, model: state_estimator.StateEstimator, frames: torch.Tensor,
                  where: str) -> None:
    B = frames.shape[0]
    given = frames.clone()
    result = _call_estimate_states(estimate_states, model, given)
    if not torch.equal(given, frames):
        fail(f"{where}: estimate_states changed the frames in place.", hint="frames.float() / 255 makes a new tensor.")
    if result is not None and _shape(result) != (B, 17):
        shape = _shape(result)
        hint = ("that is the flattened convolution output; the head (two linear layers) maps it to the 17 states."
                if len(shape) == 2 and shape[1] == model.head[0].in_features else
                "the convolutions' output must be flattened before the head: model.conv ends in nn.Flatten()."
                if len(shape) == 4 else "one state vector of 17 numbers per stack: shape (B, 17).")
        fail(f"{where}: the estimates have the wrong shape.", expected=(B, 17), got=shape, hint=hint)
    got = tensor_as_array(result, f"{where}: the estimates", shape=(B, 17))
    with torch.no_grad():
        expected = model(frames).double().numpy()
    if not np.allclose(got, expected, rtol=1e-4, atol=1e-5):
        variants = {h: v.double().numpy() for h, v in _forward_variants(model, frames).items()}
        fail(f"{where}: the estimates are wrong.", expected=expected[0, :4], got=got[0, :4],
             hint=first_match(got, variants, _FORWARD_FORMULA, rtol=1e-4, atol=1e-5))


def _check_forward_gradient(estimate_states: Callable, seed: int) -> None:
    model = small_estimator(seed)
    frames = torch.randint(0, 256, (2, 6, 64, 64), generator=torch.Generator().manual_seed(seed), dtype=torch.uint8)
    result = _call_estimate_states(estimate_states, model, frames)
    if not (isinstance(result, torch.Tensor) and result.requires_grad):
        fail("estimate_states: the estimates carry no gradient to the network's weights.",
             hint="the CNN is trained through this function: use torch operations only, no torch.no_grad(), "
                  ".detach() or .numpy().")
    result.sum().backward()
    for name, parameter in (("the first convolution", model.conv[0].weight), ("the last linear layer", model.head[-1].weight)):
        if parameter.grad is None or float(parameter.grad.abs().max()) == 0.0:
            fail(f"estimate_states: no gradient reaches {name}.",
                 hint="apply model.conv, then model.head, to the scaled frames: " + _FORWARD_FORMULA)


def check_estimate_states(estimate_states: Callable, seeds: Sequence[int] = (0,)) -> None:
    for seed in seeds:
        model = small_estimator(seed)
        frames = torch.randint(0, 256, (3, 6, 64, 64), generator=torch.Generator().manual_seed(seed), dtype=torch.uint8)
        _forward_case(estimate_states, model, frames, f"estimate_states on a small random StateEstimator (k = 2), "
                      f"3 stacks of uint8 frames (3, 6, 64, 64), seed {seed}")
        _check_forward_gradient(estimate_states, seed)
    passed("estimate_states scales the frames, runs conv and head, and returns states in the data's units, (B, 17)")


def hidden_check_estimate_states(estimate_states: Callable) -> None:
    check_estimate_states(estimate_states, seeds=(1,))
    model = small_estimator(5, k=3, width=8, hidden=16)
    frames = torch.randint(0, 256, (1, 9, 64, 64), generator=torch.Generator().manual_seed(5), dtype=torch.uint8)
    _forward_case(estimate_states, model, frames, "estimate_states on one stack of k = 3 frames (1, 9, 64, 64)")
    model = small_estimator(6, k=1, width=4, hidden=8)
    frames = torch.randint(0, 256, (4, 3, 64, 64), generator=torch.Generator().manual_seed(6), dtype=torch.uint8)
    _forward_case(estimate_states, model, frames, "estimate_states with k = 1 (4, 3, 64, 64)")
    passed("estimate_states: one stack, k = 1 and k = 3")


# -- exercise 3: the state-estimation loss ----------------------------------------------------------
_LOSS_FORMULA = "L_state = mean over the batch and the 17 dimensions of ((ŝ - s) / σ)², one scalar."


def loss_hand_case() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, float]:
    """B = 2, D = 2: errors (1, 2) and (2, 3), σ = (1, 2): standardised errors (1, 1) and (2, 1.5),
    squares 1, 1, 4, 2.25, mean 8.25 / 4 = 2.0625."""
    predicted = torch.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=torch.float64)
    states = torch.tensor([[0.0, 0.0], [1.0, 1.0]], dtype=torch.float64)
    std = torch.tensor([1.0, 2.0], dtype=torch.float64)
    return predicted, states, std, 2.0625


def _loss_variants(predicted: torch.Tensor, states: torch.Tensor, std: torch.Tensor) -> dict[str, float]:
    e = (predicted - states).detach()
    z = e / std
    return {
        "each dimension must be divided by its standard deviation σ_d, so that angles and velocities weigh alike: "
        "((ŝ - s) / σ)².": float((e ** 2).mean()),
        "the error was divided by the variance σ²; divide by the standard deviation σ, then square.":
            float(((e / std ** 2) ** 2).mean()),
        "the squared error was divided by σ, not σ²: ((ŝ - s) / σ)² = (ŝ - s)² / σ².": float((e ** 2 / std).mean()),
        "that is a sum; L_state is the *mean* over the batch and the dimensions.": float((z ** 2).sum()),
        "the dimensions were summed and the batch averaged; average over both.": float((z ** 2).sum(-1).mean()),
        "the batch was summed and the dimensions averaged; average over both.": float((z ** 2).mean(-1).sum()),
        "that is the root of the loss (an RMSE); L_state is the mean *squared* standardised error.":
            float((z ** 2).mean().sqrt()),
        "the error was not squared (an absolute error); L_state is the mean of ((ŝ - s) / σ)².": float(z.abs().mean()),
    }


def _loss_call(fn: Callable, name: str, *args) -> Any:
    result = call_student(fn, *args, name=name)
    if result is None:
        fail(f"{name}: your function returned None; end it with `return loss`.")
    if _shape(result) not in ((), (1,)):
        fail(f"{name}: the loss must be one number (a scalar tensor).", expected=(), got=_shape(result),
             hint="average over every entry: .mean(), not .mean(dim=...).")
    return result


def _state_loss_case(loss_fn: Callable, predicted, states, std, where: str, expected: float | None = None) -> None:
    inputs = (predicted.clone(), states.clone(), std.clone())
    result = _loss_call(loss_fn, "state_estimation_loss", *inputs)
    if not all(torch.equal(a, b) for a, b in zip(inputs, (predicted, states, std))):
        fail(f"{where}: state_estimation_loss changed its inputs in place.", hint="build new tensors.")
    got = float(tensor_as_array(result, f"{where}: the loss").reshape(()))
    if expected is None:
        expected = float(state_estimator.state_estimation_loss(predicted, states, std))
    if not np.isclose(got, expected, rtol=1e-5, atol=1e-8):
        fail(f"{where} is wrong.", expected=expected, got=got,
             hint=first_match(np.asarray(got), _loss_variants(predicted, states, std), _LOSS_FORMULA, rtol=1e-5))


def _random_states(seed: int, B: int = 5, D: int = 17) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    states = torch.randn(B, D, generator=gen, dtype=torch.float64) * 3
    predicted = states + torch.randn(B, D, generator=gen, dtype=torch.float64)
    std = torch.rand(D, generator=gen, dtype=torch.float64) * 4 + 0.2
    return predicted, states, std


def check_state_estimation_loss(loss_fn: Callable, seeds: Sequence[int] = (0,)) -> None:
    # the random case first: with B = D = 2 a sum over the batch and one over the dimensions look alike
    predicted, states, std = _random_states(seeds[0] + 100)
    _state_loss_case(loss_fn, predicted, states, std, "state_estimation_loss on 5 random 17-dimensional states")
    predicted, states, std, expected = loss_hand_case()
    _state_loss_case(loss_fn, predicted, states, std, "state_estimation_loss on the hand-computed case (errors (1, 2) "
                     "and (2, 3), σ = (1, 2): standardised (1, 1) and (2, 1.5), mean of the squares 2.0625)", expected)
    for seed in seeds:
        predicted, states, std = _random_states(seed)
        _state_loss_case(loss_fn, predicted, states, std, f"state_estimation_loss on 5 random 17-dimensional states, "
                         f"seed {seed}")
        predicted.requires_grad_()
        loss = _loss_call(loss_fn, "state_estimation_loss", predicted, states, std)
        if not (isinstance(loss, torch.Tensor) and loss.requires_grad):
            fail("state_estimation_loss: the loss carries no gradient to the estimates.",
                 hint="the CNN is trained by this loss: torch operations only, no .item() or .numpy().")
        (grad,) = torch.autograd.grad(loss.sum(), predicted)
        expected_grad = (2 * (predicted - states) / std ** 2 / predicted.numel()).detach().numpy()
        if not np.allclose(grad.numpy(), expected_grad, rtol=1e-5, atol=1e-10):
            fail(f"state_estimation_loss (seed {seed}): the gradient with respect to the estimates is wrong.",
                 expected=expected_grad[0, :4], got=grad.numpy()[0, :4], hint=_LOSS_FORMULA)
    passed("state_estimation_loss is the mean squared error standardised per dimension, in value and gradient")


def hidden_check_state_estimation_loss(loss_fn: Callable) -> None:
    check_state_estimation_loss(loss_fn, seeds=(1, 2))
    predicted, states, std = _random_states(3, B=1, D=17)
    _state_loss_case(loss_fn, predicted.float(), states.float(), std.float(), "state_estimation_loss on one float32 state")
    passed("state_estimation_loss: one state, float32")


# -- exercise 4: the perception loss with the RL signal ---------------------------------------------
_PERCEPTION_FORMULA = ("L_φ = L_state(ŝ, s) + β L_RL: your state_estimation_loss plus `weight` times `rl_loss`, "
                       "rl_loss kept in the graph so that its gradient reaches the estimates.")


def _perception_problem(seed: int, B: int = 4, D: int = 17):
    predicted, states, std = _random_states(seed, B, D)
    predicted = predicted.clone().requires_grad_()
    rl_weights = torch.randn(B, D, generator=torch.Generator().manual_seed(seed + 9), dtype=torch.float64)
    return predicted, states, std, rl_weights


def _perception_variants(state: float, rl: float, beta: float) -> dict[str, float]:
    return {
        "the weight multiplies the state loss; β weighs the RL term: L_state + β L_RL.": beta * state + rl,
        "the weight β is missing: L_state + β L_RL.": state + rl,
        "that is a convex mix (1 - β) L_state + β L_RL; the state loss keeps weight 1: L_state + β L_RL.":
            (1 - beta) * state + beta * rl,
        "the RL term is missing: L_state + β L_RL.": state,
        "the RL term was subtracted; the estimator *minimises* the agent's loss too: L_state + β L_RL.": state - beta * rl,
    }


def _perception_case(perception_loss: Callable, seed: int, weight: float, where: str) -> None:
    predicted, states, std, rl_weights = _perception_problem(seed)

    def rl_of(estimates: torch.Tensor) -> torch.Tensor:      # a stand-in RL loss computed through ŝ
        return (rl_weights * estimates).sum() ** 2 / 100

    result = _loss_call(perception_loss, "perception_loss", predicted, states, std, rl_of(predicted), weight)
    got = float(tensor_as_array(result, f"{where}: the loss").reshape(()))
    state = float(state_estimator.state_estimation_loss(predicted, states, std).detach())
    rl = float(rl_of(predicted).detach())
    expected = state + weight * rl
    if not np.isclose(got, expected, rtol=1e-5, atol=1e-8):
        fail(f"{where} is wrong (L_state = {state:.4f}, L_RL = {rl:.4f}, β = {weight}).", expected=expected, got=got,
             hint=first_match(np.asarray(got), _perception_variants(state, rl, weight), _PERCEPTION_FORMULA, rtol=1e-5))
    if not (isinstance(result, torch.Tensor) and result.requires_grad):
        fail(f"{where}: the loss carries no gradient to the estimates.",
             hint="the estimator is trained by this loss: torch operations only, no .item() or .numpy().")
    (grad,) = torch.autograd.grad(result.sum(), predicted, allow_unused=True)
    grad = torch.zeros_like(predicted) if grad is None else grad
    reference = state_estimator.perception_loss(predicted, states, std, rl_of(predicted), weight)
    (expected_grad,) = torch.autograd.grad(reference, predicted)
    (state_grad,) = torch.autograd.grad(state_estimator.state_estimation_loss(predicted, states, std), predicted)
    if not np.allclose(grad.numpy(), expected_grad.numpy(), rtol=1e-5, atol=1e-10):
        hint = ("the RL term's gradient does not reach the estimates: keep rl_loss in the graph (no .detach(), "
                ".item() or float(...)); its gradient is what tells the estimator which errors hurt the agent."
                if np.allclose(grad.numpy(), state_grad.numpy(), rtol=1e-5, atol=1e-10) and weight else _PERCEPTION_FORMULA)
        fail(f"{where}: the gradient with respect to the estimates is wrong.", expected=expected_grad.numpy()[0, :4],
             got=grad.numpy()[0, :4], hint=hint)


def check_perception_loss(perception_loss: Callable, seeds: Sequence[int] = (0,)) -> None:
    for seed in seeds:
        _perception_case(perception_loss, seed, 0.5, f"perception_loss with β = 0.5 on 4 random states, seed {seed}")
        _perception_case(perception_loss, seed + 10, 0.0, f"perception_loss with β = 0 (the supervised loss alone), "
                         f"seed {seed + 10}")
    passed("perception_loss is L_state + β L_RL, and the RL term's gradient reaches the estimates")


def hidden_check_perception_loss(perception_loss: Callable) -> None:
    check_perception_loss(perception_loss, seeds=(1,))
    _perception_case(perception_loss, 7, 3.0, "perception_loss with β = 3")
    _perception_case(perception_loss, 8, 1.0, "perception_loss with β = 1")
    passed("perception_loss: β = 1 and β = 3")


# -- exercise 5: the return drop -----------------------------------------------------------------------
_DROP_FORMULA = ("drop = mean(upper) - mean(other); share = drop / (mean(upper) - floor), the part of what the upper "
                 "bound gained over the floor that the other stage loses.")


def _drop_variants(upper: np.ndarray, other: np.ndarray, floor: float) -> dict[str, tuple[float, float]]:
    u, o = float(np.mean(upper)), float(np.mean(other))
    d = u - o
    return {
        "the share must be relative to what the upper bound *gained over the floor*, mean(upper) - floor, not to "
        "its return.": (d, d / abs(u)),
        "the share is relative to the upper bound's gain, mean(upper) - floor, not the other stage's.": (d, d / (o - floor)),
        "the sign is flipped: drop = mean(upper) - mean(other), positive when the other stage does worse.": (-d, -d / (u - floor)),
        "that is the share *kept*, (mean(other) - floor) / (mean(upper) - floor); the share lost is 1 minus it.":
            (d, (o - floor) / (u - floor)),
        "the floor was not subtracted: share = drop / (mean(upper) - floor).": (d, d / u),
    }


def _drop_case(return_drop: Callable, upper, other, floor: float, where: str, expected: dict | None = None) -> None:
    given = (np.array(upper, dtype=float, copy=True), np.array(other, dtype=float, copy=True))
    result = call_student(return_drop, given[0], given[1], floor, name="return_drop")
    if not isinstance(result, dict) or set(result) != {"drop", "share"}:
        fail(f"{where}: return_drop must return a dict with the keys 'drop' and 'share'.",
             got=result if not isinstance(result, dict) else sorted(result),
             hint="return {'drop': drop, 'share': share}")
    got = (float(np.asarray(tensor_as_array(result["drop"], f"{where}: drop")).reshape(())),
           float(np.asarray(tensor_as_array(result["share"], f"{where}: share")).reshape(())))
    if expected is None:
        expected = pixel_pearl.return_drop(np.asarray(upper), np.asarray(other), floor)
    expected_pair = (expected["drop"], expected["share"])
    if not np.allclose(got, expected_pair, rtol=1e-6, atol=1e-9):
        variants = {h: np.asarray(v) for h, v in _drop_variants(np.asarray(upper), np.asarray(other), floor).items()}
        wrong = "drop" if not np.isclose(got[0], expected_pair[0], rtol=1e-6, atol=1e-9) else "share"
        fail(f"{where}: the {wrong} is wrong.", expected=expected, got=result,
             hint=first_match(np.asarray(got), variants, _DROP_FORMULA))


def check_return_drop(return_drop: Callable, seeds: Sequence[int] = (0,)) -> None:
    _drop_case(return_drop, [-90.0, -110.0], [-150.0], -300.0, "return_drop on the hand case (upper bound -90 and "
               "-110, mean -100, gained 200 over the floor -300; the other stage -150: 50 lost, a quarter of the gain)",
               {"drop": 50.0, "share": 0.25})
    _drop_case(return_drop, [-120.0], [-80.0], -300.0, "return_drop when the other stage does better (-80 against "
               "-120): a negative drop", {"drop": -40.0, "share": -40.0 / 180.0})
    for seed in seeds:
        rng = np.random.default_rng(seed)
        upper, other = rng.normal(-100, 20, (3, 5)), rng.normal(-180, 30, (3, 5))
        _drop_case(return_drop, upper, other, -300.0, f"return_drop on (3, 5) arrays of returns (trajectories × tasks), "
                   f"seed {seed}: the means over every entry")
    passed("return_drop: the return lost against the upper bound, and its share of what learning bought")


def hidden_check_return_drop(return_drop: Callable) -> None:
    check_return_drop(return_drop, seeds=(1, 2))
    _drop_case(return_drop, [-150.0, -150.0], [-300.0], -300.0, "return_drop when the other stage is at the floor: "
               "share 1", {"drop": 150.0, "share": 1.0})
    _drop_case(return_drop, np.array([10.0, 30.0]), np.array([20.0]), 0.0, "return_drop with positive returns and "
               "floor 0", {"drop": 0.0, "share": 0.0})
    passed("return_drop: a stage at the floor loses everything, one as good as the upper bound nothing")
