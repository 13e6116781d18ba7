"""The RL² trial picture of unit 01 marks exactly the memory arrows that cross an episode boundary."""

import matplotlib
import pytest

matplotlib.use("Agg")

from matplotlib.colors import same_color  # noqa: E402

from metarl_course.rl2_diagram import CROSSING, draw_rl2_trial  # noqa: E402


@pytest.mark.parametrize("episodes, steps", [(2, 3), (3, 2), (4, 1)])
def test_memory_labels_in_red_are_the_episode_boundaries(episodes, steps):
    ax = draw_rl2_trial(episodes, steps)
    red = [t.get_text() for t in ax.texts if t.get_text().startswith("h$_") and same_color(t.get_color(), CROSSING)]
    assert red == [f"h$_{{{e * steps}}}$" for e in range(1, episodes)]
    inputs = [t.get_text() for t in ax.texts if t.get_text().startswith("x$_{")]
    assert len(inputs) == episodes * steps
    assert sum("= 1)" in text for text in inputs) == episodes - 1      # d = 1 at the start of every later episode
    matplotlib.pyplot.close("all")
