"""The small vocabulary every check is written in."""

from __future__ import annotations

from typing import Any, Callable

import numpy as np


class CheckFailure(AssertionError):
    """A check found a wrong answer; the message says what and why."""


def fail(what: str, expected: Any = None, got: Any = None, hint: str | None = None) -> None:
    """Raise a ``CheckFailure`` built from its parts."""
    lines = [what]
    if expected is not None or got is not None:
        lines.append(f"  expected: {_short(expected)}")
        lines.append(f"  got:      {_short(got)}")
    if hint:
        lines.append(f"  hint: {hint}")
    raise CheckFailure("\n".join(lines))


def passed(message: str) -> None:
    print(f"[ok] {message}")


def call_student(fn: Callable, *args, name: str | None = None, **kwargs) -> Any:
    """Call the student's ``fn``; turn an exception or a missing solution into a clear failure."""
    name = name or getattr(fn, "__name__", "your function")
    if not callable(fn):
        fail(f"{name} is not a function (got {type(fn).__name__}); define it in the cell above.")
    if (getattr(fn, "__module__", None) or "").startswith("metarl_course"):
        fail(f"{name} is the package's reference implementation; the exercise is to write your own.")
    try:
        return fn(*args, **kwargs)
    except NotImplementedError:
        fail(f"{name} is not implemented yet: replace `raise NotImplementedError()` with your code.")
    except CheckFailure:
        raise
    except Exception as error:  # the student's bug, reported as a failed check
        fail(f"{name}{_describe_call(args, kwargs)} raised {type(error).__name__}: {error}")


def as_array(value: Any, name: str, shape: tuple[int, ...] | None = None) -> np.ndarray:
    """Convert a returned value to a float array, failing on wrong type, shape or non-finite values."""
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        fail(f"{name} must be an array of numbers; got a {type(value).__name__}: {_short(value)}")
    if shape is not None and array.shape != shape:
        fail(f"{name} has the wrong shape.", expected=shape, got=array.shape)
    if not np.all(np.isfinite(array)):
        fail(f"{name} contains NaN or infinite values: {_short(array)}")
    return array


def tensor_as_array(value: Any, what: str, shape: tuple[int, ...] | None = None) -> np.ndarray:
    """A returned tensor (or array) as a float64 array; fails on None, a dict, wrong shape, NaN."""
    if value is None:
        fail(f"{what}: your function returned None; end it with `return ...`.")
    if hasattr(value, "detach"):  # a torch.Tensor (torch is imported only by the units that use it)
        value = value.detach().cpu().double().numpy()
    elif isinstance(value, dict):
        fail(f"{what} must be a tensor; got a dict.")
    return as_array(value, what, shape=shape)


def expect_close(got: Any, expected: Any, what: str, hint: str | None = None, atol: float = 1e-6, rtol: float = 1e-6) -> None:
    """Fail unless ``got`` matches ``expected`` (shape and values within tolerance)."""
    expected = np.asarray(expected, dtype=np.float64)
    got = as_array(got, what, shape=expected.shape)
    if not np.allclose(got, expected, atol=atol, rtol=rtol):
        fail(f"{what} is wrong.", expected=expected, got=got, hint=hint)


def _short(value: Any, limit: int = 300) -> str:
    if isinstance(value, np.ndarray):
        text = np.array2string(value, precision=4, threshold=20, separator=", ")
    else:
        text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _describe_call(args: tuple, kwargs: dict) -> str:
    parts = [_short(a, 60) for a in args] + [f"{k}={_short(v, 60)}" for k, v in kwargs.items()]
    return "(" + ", ".join(parts) + ")"


def first_match(got: np.ndarray, variants: dict[str, Any], default: str, rtol: float = 1e-6, atol: float = 1e-8) -> str:
    """The hint of the first wrong version that ``got`` equals, else ``default``."""
    for hint, value in variants.items():
        value = np.asarray(value, dtype=np.float64)
        if value.shape == got.shape and np.all(np.isfinite(value)) and np.allclose(got, value, rtol=rtol, atol=atol):
            return hint
    return default
