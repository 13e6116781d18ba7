"""The CNN state estimator of PEARL-from-pixels: a stack of frames in, the state vector out.

    ŝ_t = f_φ(o_t),   o_t = the last k frames (3k x 64 x 64, uint8 scaled to [0, 1])

trained by regression on states that were recorded beside the frames,

    L_state(φ) = (1 / D) Σ_d ((ŝ_{t,d} - s_{t,d}) / σ_d)²,

each dimension d divided by its standard deviation σ_d in the training data, so that the
joint angles (radians) and the velocities (up to ~10 m/s) weigh alike. Unit 05 plugs ŝ_t
into PEARL in place of s_t; the study is about what the estimator's error, and the shift
between the states it was trained on and the states a policy visits, do to the return.

The network is the small encoder of DQN-style agents: three 3x3/4x4 convolutions with
stride 2, then two linear layers.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

# HalfCheetah-v5's observation: qpos[1:] (8) then qvel (9).
STATE_NAMES = ("rootz", "rooty", "bthigh", "bshin", "bfoot", "fthigh", "fshin", "ffoot",
               "vx", "vz", "vy_angular", "v_bthigh", "v_bshin", "v_bfoot", "v_fthigh", "v_fshin", "v_ffoot")


class StateEstimator(nn.Module):
    """f_φ: (B, 3k, 64, 64) uint8 or float frames -> (B, state_dim) states, in the data's units."""

    def __init__(self, k: int = 3, state_dim: int = 17, width: int = 32, hidden: int = 256) -> None:
        super().__init__()
        self.conv = nn.Sequential(
            nn.Conv2d(3 * k, width, 4, stride=2), nn.ReLU(),        # 64 -> 31
            nn.Conv2d(width, 2 * width, 4, stride=2), nn.ReLU(),    # 31 -> 14
            nn.Conv2d(2 * width, 2 * width, 3, stride=2), nn.ReLU(),  # 14 -> 6
            nn.Flatten())
        self.head = nn.Sequential(nn.Linear(2 * width * 6 * 6, hidden), nn.ReLU(), nn.Linear(hidden, state_dim))
        # The regression target is standardised: ŝ = mean + std * head(...).
        self.register_buffer("state_mean", torch.zeros(state_dim))
        self.register_buffer("state_std", torch.ones(state_dim))

    def standardised(self, frames: torch.Tensor) -> torch.Tensor:
        x = frames.float() / 255.0 if frames.dtype == torch.uint8 else frames
        return self.head(self.conv(x))

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        return self.state_mean + self.state_std * self.standardised(frames)


def state_estimation_loss(predicted: torch.Tensor, states: torch.Tensor, std: torch.Tensor) -> torch.Tensor:
    """L_state = mean over the batch and dimensions of ((ŝ - s) / σ)²."""
    return (((predicted - states) / std) ** 2).mean()


def perception_loss(predicted: torch.Tensor, states: torch.Tensor, std: torch.Tensor, rl_loss: torch.Tensor,
                    weight: float) -> torch.Tensor:
    """Stage 3's loss for the estimator: L_φ = L_state(ŝ, s) + β L_RL.

    ``rl_loss`` is a loss of the RL agent computed *through* the estimates ŝ = f_φ(o) (the
    critic's TD error, say), so its gradient tells φ which errors in ŝ hurt the agent's
    values; β = ``weight`` = 0 gives back the purely supervised estimator.
    """
    return state_estimation_loss(predicted, states, std) + weight * rl_loss


@dataclass
class EstimatorHistory:
    train_loss: list[float] = field(default_factory=list)
    test_loss: list[float] = field(default_factory=list)


def fit_state_estimator(frames: np.ndarray, states: np.ndarray, k: int, epochs: int = 10, batch_size: int = 64,
                        lr: float = 1e-3, test_fraction: float = 0.2, seed: int = 0, device=None,
                        progress: bool = False, model: StateEstimator | None = None
                        ) -> tuple[StateEstimator, EstimatorHistory, np.ndarray]:
    """Train f_φ on (frames, states) pairs; returns the model, its losses per epoch and the test indices.

    ``model``: the network to train (a fresh ``StateEstimator(k)`` when None).

    The test pairs are whole consecutive blocks at the end (the last ``test_fraction`` of
    the pairs, i.e. whole episodes when the pairs are in episode order), so that
    neighbouring, nearly identical frames do not sit on both sides of the split.
    """
    from metarl_course.session import progress_bar

    device = torch.device("cpu") if device is None else device
    generator = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    n_test = int(len(frames) * test_fraction)
    train, test = np.arange(len(frames) - n_test), np.arange(len(frames) - n_test, len(frames))
    model = (StateEstimator(k, states.shape[1]) if model is None else model).to(device)
    model.state_mean.copy_(torch.as_tensor(states[train].mean(0)))
    model.state_std.copy_(torch.as_tensor(states[train].std(0) + 1e-6))
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    frames_t, states_t = torch.as_tensor(frames), torch.as_tensor(states)
    history = EstimatorHistory()
    for _ in progress_bar(range(epochs), desc="state estimator", disable=not progress):
        order = torch.as_tensor(train)[torch.randperm(len(train), generator=generator)]
        losses = []
        for batch in order.split(batch_size):
            predicted = model(frames_t[batch].to(device))
            loss = state_estimation_loss(predicted, states_t[batch].to(device), model.state_std)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        history.train_loss.append(float(np.mean(losses)))
        history.test_loss.append(evaluation_loss(model, frames[test], states[test], device))
    return model, history, test


@torch.no_grad()
def predict(model: StateEstimator, frames: np.ndarray, device=None, batch_size: int = 512) -> np.ndarray:
    device = next(model.parameters()).device if device is None else device
    outputs = [model(torch.as_tensor(frames[i:i + batch_size]).to(device)).cpu()
               for i in range(0, len(frames), batch_size)]
    return torch.cat(outputs).numpy()


def evaluation_loss(model: StateEstimator, frames: np.ndarray, states: np.ndarray, device=None) -> float:
    predicted = torch.as_tensor(predict(model, frames, device))
    return float(state_estimation_loss(predicted, torch.as_tensor(states), model.state_std.cpu()))


def per_dimension_error(model: StateEstimator, frames: np.ndarray, states: np.ndarray) -> dict[str, dict[str, float]]:
    """For each state dimension: RMSE in the state's units and relative to its spread (RMSE / σ_d);
    a relative error near 1 means the estimator learned nothing about that dimension."""
    error = predict(model, frames) - states
    rmse = np.sqrt((error ** 2).mean(axis=0))
    std = model.state_std.cpu().numpy()
    return {name: {"rmse": float(r), "relative": float(r / s)} for name, r, s in zip(STATE_NAMES, rmse, std)}
