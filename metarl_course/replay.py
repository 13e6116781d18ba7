"""Per-task replay buffers, stored together so that a meta-batch is sampled in one call.

PEARL keeps one buffer per training task (and a second set, the encoder buffers, for the
context). Sampling a meta-batch means: for each of T tasks, B transitions of *that task*.
Storing every task's buffer as a row of one tensor (n_tasks, capacity, ...) makes that a
single gather that returns tensors of shape (T, B, ...), ready for networks that treat the
task as a batch dimension.

The stored transitions live on ``device`` (the agent's: a GPU's memory when it trains there); the
bookkeeping (sizes, write positions) and the random draws stay on the CPU, so a seed samples the
same transitions on every device.
"""

from __future__ import annotations

import torch

FIELDS = ("observations", "actions", "rewards", "next_observations", "dones")


class MultiTaskReplay:
    """A circular buffer of ``capacity`` transitions for each of ``n_tasks`` tasks, stored on ``device``."""

    def __init__(self, n_tasks: int, capacity: int, obs_dim: int, act_dim: int, device: torch.device | str = "cpu"):
        self.capacity = capacity
        self.device = torch.device(device)
        dims = {"observations": obs_dim, "actions": act_dim, "rewards": 1, "next_observations": obs_dim, "dones": 1}
        self.data = {name: torch.zeros(n_tasks, capacity, dim, device=self.device) for name, dim in dims.items()}
        self.size = torch.zeros(n_tasks, dtype=torch.long)
        self.next = torch.zeros(n_tasks, dtype=torch.long)

    def add(self, task: int, **transitions: torch.Tensor) -> None:
        """Append K transitions of one task (each field shaped (K, dim) or (K,)); the oldest are overwritten."""
        k = len(transitions["rewards"])
        slots = ((self.next[task] + torch.arange(k)) % self.capacity).to(self.device)
        for name in FIELDS:
            value = torch.as_tensor(transitions[name], dtype=torch.float32).reshape(k, -1)
            self.data[name][task, slots] = value.to(self.device)
        self.next[task] = (self.next[task] + k) % self.capacity
        self.size[task] = min(self.capacity, int(self.size[task]) + k)

    def clear(self, task: int) -> None:
        self.size[task] = 0
        self.next[task] = 0

    def sample(self, tasks: torch.Tensor, batch_size: int, generator: torch.Generator | None = None) -> dict[str, torch.Tensor]:
        """B transitions drawn uniformly, with replacement, from each task's buffer: fields (T, B, dim),
        on the buffer's device. The draw is made on the CPU (``generator`` is a CPU generator)."""
        tasks = torch.as_tensor(tasks, dtype=torch.long)
        sizes = self.size[tasks]
        if torch.any(sizes == 0):
            raise ValueError(f"empty buffer for task(s) {tasks[sizes == 0].tolist()}: collect data before sampling")
        u = torch.rand(len(tasks), batch_size, generator=generator)
        index = (u * sizes[:, None]).long()                       # (T, B), each row below its task's size
        rows = tasks[:, None].expand_as(index).to(self.device)
        index = index.to(self.device)
        return {name: self.data[name][rows, index] for name in FIELDS}
