"""The exact quadratic MAML picture of unit 03: its closed forms against autograd through the inner step."""

import numpy as np
import pytest
import torch

from metarl_course import maml_quadratic as mq


def meta_loss_and_gradient(theta: np.ndarray, curvatures: np.ndarray, centres: np.ndarray, alpha: float,
                           first_order: bool = False) -> tuple[float, np.ndarray]:
    """Mean post-step loss and its gradient by autograd, differentiating through the inner step
    (or, with ``first_order``, treating the inner gradient as a constant)."""
    A, c = torch.tensor(curvatures), torch.tensor(centres)
    t = torch.tensor(theta, requires_grad=True)
    gap = t - c
    inner_gradient = torch.einsum("nij,nj->ni", A, gap)
    adapted = t - alpha * (inner_gradient.detach() if first_order else inner_gradient)
    after = adapted - c
    loss = 0.5 * torch.einsum("ni,nij,nj->n", after, A, after).mean()
    loss.backward()
    return float(loss.detach()), t.grad.numpy()


def test_curvature_is_steep_along_its_angle():
    A = mq.curvature(0.7, 1.8, 0.3)
    direction = np.array([np.cos(0.7), np.sin(0.7)])
    np.testing.assert_allclose(A @ direction, 1.8 * direction, atol=1e-12)
    np.testing.assert_allclose(np.linalg.eigvalsh(A), [0.3, 1.8], atol=1e-12)


def test_inner_step_is_one_gradient_step_on_each_task():
    A, c, alpha = mq.example_tasks()
    theta = np.array([0.2, -0.4])
    steps = mq.inner_step(theta, A, c, alpha)
    for i in range(len(c)):
        np.testing.assert_allclose(steps[i], theta - alpha * A[i] @ (theta - c[i]), atol=1e-12)


def test_maml_start_is_where_the_exact_meta_gradient_vanishes():
    A, c, alpha = mq.example_tasks()
    starts = mq.starting_points(A, c, alpha)
    _, gradient = meta_loss_and_gradient(starts["MAML"], A, c, alpha)
    assert np.abs(gradient).max() < 1e-10
    # and it is a minimum: any nearby point is worse after the step
    best, _ = meta_loss_and_gradient(starts["MAML"], A, c, alpha)
    for offset in np.random.default_rng(0).normal(scale=0.05, size=(8, 2)):
        assert meta_loss_and_gradient(starts["MAML"] + offset, A, c, alpha)[0] > best


def test_first_order_start_zeroes_the_first_order_gradient_but_not_the_exact_one():
    A, c, alpha = mq.example_tasks()
    theta = mq.starting_points(A, c, alpha)["first-order MAML"]
    _, approximate = meta_loss_and_gradient(theta, A, c, alpha, first_order=True)
    _, exact = meta_loss_and_gradient(theta, A, c, alpha)
    assert np.abs(approximate).max() < 1e-10
    assert np.abs(exact).max() > 1e-2


def test_pretrained_start_minimises_the_loss_before_adaptation():
    A, c, alpha = mq.example_tasks()
    pretrained = mq.starting_points(A, c, alpha)["pretrained"]
    np.testing.assert_allclose(np.einsum("nij,nj->i", A, pretrained - c), 0.0, atol=1e-12)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_maml_beats_pretraining_after_the_step_and_loses_before_it(seed):
    rng = np.random.default_rng(seed)
    A = np.stack([mq.curvature(a, 1.8, 0.3) for a in rng.uniform(0, np.pi, 4)])
    c = rng.normal(size=(4, 2))
    starts = mq.starting_points(A, c, 0.5)
    after = {name: mq.task_losses(mq.inner_step(t, A, c, 0.5), A, c).mean() for name, t in starts.items()}
    before = {name: mq.task_losses(t, A, c).mean() for name, t in starts.items()}
    assert after["MAML"] <= after["first-order MAML"] + 1e-12
    assert after["MAML"] < after["pretrained"]
    assert before["pretrained"] < before["MAML"]


def test_example_picture_shows_the_gap_it_is_drawn_for():
    import matplotlib
    matplotlib.use("Agg")
    A, c, alpha = mq.example_tasks()
    starts = mq.starting_points(A, c, alpha)
    after = {n: mq.task_losses(mq.inner_step(t, A, c, alpha), A, c).mean() for n, t in starts.items()}
    assert after["pretrained"] > 5 * after["MAML"]             # the contrast the notebook's text describes
    ax = mq.plot_example()
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert any(label.startswith("MAML start") for label in labels)
    assert any(label.startswith("pretrained start") for label in labels)
