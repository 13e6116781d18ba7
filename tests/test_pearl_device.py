"""PEARL on the device ``get_device()`` picks: the CPU exactly as before, a CUDA GPU when there is one.

The CUDA tests are skipped on a machine without a GPU; ``benchmarks/gpu-check.sh`` runs them on one.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from metarl_course.envs.navigation import sample_goals
from metarl_course.pearl import PEARLConfig, SparsePointTasks, device_of, meta_test, sample_z, train_pearl
from metarl_course.replay import MultiTaskReplay

needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")

# the tiny sizes of test_pearl_parts' end-to-end test
CONFIG = PEARLConfig(net_hidden=(16,), encoder_hidden=(16,), rl_batch=8, context_batch=4, meta_batch=2,
                     tasks_per_iteration=2, initial_trajectories=2, prior_trajectories=1, posterior_trajectories=1,
                     gradient_steps=3, horizon=5)


def tiny_tasks() -> SparsePointTasks:
    return SparsePointTasks(sample_goals(6, "semicircle", seed=0), horizon=5)


def test_train_pearl_follows_metarl_device(monkeypatch):
    if not torch.cuda.is_available():
        monkeypatch.setenv("METARL_DEVICE", "cuda")
        with pytest.raises(RuntimeError, match="METARL_DEVICE=cuda but torch sees no CUDA GPU"):
            train_pearl(tiny_tasks(), np.arange(4), iterations=1, config=CONFIG, seed=0)
    monkeypatch.setenv("METARL_DEVICE", "cpu")
    agent, history = train_pearl(tiny_tasks(), np.arange(4), iterations=2, config=CONFIG, seed=0)
    assert device_of(agent).type == "cpu" and all(np.isfinite(history.critic))
    explicit, _ = train_pearl(tiny_tasks(), np.arange(4), iterations=2, config=CONFIG, seed=0, device="cpu")
    for (name, a), b in zip(agent.state_dict().items(), explicit.state_dict().values()):
        assert torch.equal(a, b), name


@needs_cuda
def test_sample_z_draws_the_same_noise_on_cpu_and_cuda():
    mean, variance = torch.zeros(4, 5), torch.ones(4, 5)
    on_cpu = sample_z(mean, variance, torch.Generator().manual_seed(3))
    on_cuda = sample_z(mean.cuda(), variance.cuda(), torch.Generator().manual_seed(3))
    assert on_cuda.device.type == "cuda" and torch.equal(on_cuda.cpu(), on_cpu)
    mean, variance = torch.randn(4, 5), torch.rand(4, 5) + 0.1
    torch.testing.assert_close(sample_z(mean.cuda(), variance.cuda(), torch.Generator().manual_seed(4)).cpu(),
                               sample_z(mean, variance, torch.Generator().manual_seed(4)))


@needs_cuda
def test_the_replay_buffer_on_cuda_samples_what_it_samples_on_cpu():
    data = torch.Generator().manual_seed(0)
    buffers = [MultiTaskReplay(3, 7, 2, 2, device) for device in ("cpu", "cuda")]
    for task, k in ((0, 5), (1, 9), (2, 3)):          # task 1 wraps around
        transitions = {"observations": torch.randn(k, 2, generator=data), "actions": torch.randn(k, 2, generator=data),
                       "rewards": torch.randn(k, generator=data), "next_observations": torch.randn(k, 2, generator=data),
                       "dones": torch.zeros(k)}
        for buffer in buffers:
            buffer.add(task, **transitions)
    cpu, cuda = (b.sample(torch.tensor([2, 0, 1]), 11, torch.Generator().manual_seed(5)) for b in buffers)
    assert buffers[1].device.type == "cuda"
    for name in cpu:
        assert cuda[name].device.type == "cuda" and torch.equal(cuda[name].cpu(), cpu[name]), name


@needs_cuda
def test_train_pearl_trains_on_cuda_and_meta_test_answers_on_the_cpu():
    tasks = tiny_tasks()
    seen = []
    agent, history = train_pearl(tasks, np.arange(4), iterations=2, config=CONFIG, seed=0, device="cuda",
                                 callback=lambda it, a: seen.append(device_of(a).type))
    assert seen == ["cuda", "cuda"] and all(np.isfinite(history.critic)) and all(np.isfinite(history.kl))
    assert all(p.device.type == "cuda" for p in agent.parameters())
    returns, context = meta_test(agent, tasks.env(np.array([4, 5])), n_trajectories=2,
                                 generator=torch.Generator().manual_seed(0))
    assert returns.shape == (2, 2) and returns.device.type == "cpu"
    assert all(value.device.type == "cpu" for value in context.values())
