"""A picture of one RL² trial: the recurrent policy unrolled over the steps of several episodes.

What it shows (units 01 and 02):

- every step the GRU reads x_t = [o_t, onehot(a_{t-1}), r_{t-1}, d_{t-1}] and its previous memory
  h_{t-1}, and outputs π(a_t | h_t) and V(h_t);
- the memory is carried across the boundary between two episodes (drawn in red): that is where
  what the agent learned about this task survives;
- it is reset to h_0 = 0 only when a new trial, on a new task, begins;
- the outer loop (PPO) is trained on the return of the whole trial, so exploring in episode 1
  pays when it raises the return of episode 2.
"""

from __future__ import annotations

CROSSING = "tab:red"     # the memory arrow that crosses from one episode into the next


def _box(ax, x: float, y: float, text: str, width: float = 0.7, height: float = 0.45, facecolor: str = "white") -> None:
    from matplotlib.patches import FancyBboxPatch

    ax.add_patch(FancyBboxPatch((x - width / 2, y - height / 2), width, height, boxstyle="round,pad=0.03",
                                facecolor=facecolor, edgecolor="0.2", lw=1.2))
    ax.text(x, y, text, ha="center", va="center", fontsize=10)


def _arrow(ax, start: tuple[float, float], end: tuple[float, float], colour: str = "0.25", lw: float = 1.3) -> None:
    ax.annotate("", xy=end, xytext=start, arrowprops=dict(arrowstyle="->", color=colour, lw=lw))


def draw_rl2_trial(episodes: int = 2, steps_per_episode: int = 3, ax=None):
    """The GRU unrolled over one trial of ``episodes`` episodes of ``steps_per_episode`` steps."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(2.0 + 1.45 * episodes * steps_per_episode, 4.2))
    gap, step = 0.5, 1.45                     # extra space between episodes; distance between steps
    xs = [1.2 + step * t + gap * (t // steps_per_episode) for t in range(episodes * steps_per_episode)]
    for e in range(episodes):
        first, last = xs[e * steps_per_episode], xs[(e + 1) * steps_per_episode - 1]
        ax.axvspan(first - 0.6, last + 0.6, ymin=0.12, ymax=0.93, color=f"C{e}", alpha=0.08)
        ax.text((first + last) / 2, 2.55, f"episode {e + 1}", ha="center", fontsize=10, color=f"C{e}")
    for t, x in enumerate(xs):
        _box(ax, x, 1.0, "GRU", facecolor="0.93")
        _arrow(ax, (x, 0.12), (x, 0.76))
        starts_episode = t > 0 and t % steps_per_episode == 0
        ax.text(x, -0.02, f"x$_{{{t + 1}}}$" + (f"\n(d$_{{{t}}}$ = 1)" if starts_episode else ""), ha="center",
                va="top", fontsize=10 if not starts_episode else 9)
        _arrow(ax, (x, 1.24), (x, 1.78))
        ax.text(x, 1.9, f"π(a$_{{{t + 1}}}$), V", ha="center", va="bottom", fontsize=9)
        if t + 1 < len(xs):
            crossing = (t + 1) % steps_per_episode == 0
            colour = CROSSING if crossing else "0.25"
            _arrow(ax, (x + 0.36, 1.0), (xs[t + 1] - 0.36, 1.0), colour, 2.4 if crossing else 1.3)
            ax.text((x + xs[t + 1]) / 2, 1.08, f"h$_{{{t + 1}}}$", ha="center", va="bottom", fontsize=9, color=colour)
    ax.text(xs[0] - 0.75, 1.0, "h$_0$ = 0\nnew task", ha="right", va="center", fontsize=9)
    ax.text(xs[-1] + 0.75, 1.0, "next trial:\nnew task,\nh reset", ha="left", va="center", fontsize=9)
    boundary = (xs[steps_per_episode - 1] + xs[steps_per_episode]) / 2
    ax.annotate("memory kept across episodes", xy=(boundary, 0.92), xytext=(boundary, 0.42), ha="center",
                fontsize=9, color=CROSSING, arrowprops=dict(arrowstyle="->", color=CROSSING))
    ax.text((xs[0] + xs[-1]) / 2, -0.55, "x$_t$ = [o$_t$, onehot(a$_{t-1}$), r$_{t-1}$, d$_{t-1}$]"
            "      the outer loop (PPO) maximises the total reward of the whole trial",
            ha="center", va="top", fontsize=9)
    ax.set(xlim=(xs[0] - 2.0, xs[-1] + 1.9), ylim=(-0.95, 2.8))
    ax.axis("off")
    ax.set_title("One RL² trial: one task, several episodes, one memory")
    return ax
