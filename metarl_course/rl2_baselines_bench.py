"""Benchmarks ``bandit-baselines`` and ``mdp-baselines``: the non-learned columns of RL² Tables 1 and 2.

Every strategy plays the same sampled tasks (common random numbers); the exact rows
(Bayes-optimal value where tractable, the oracle) need no sampling. RL² itself joins
these tables in the ``rl2-bandits`` / ``rl2-mdp`` benchmarks of the RL² unit.
"""

from __future__ import annotations

from metarl_course.baselines import bandit_table, mdp_table
from metarl_course.bench import register
from metarl_course.presets import get_budget

BANDIT_CELLS = [(k, n) for n in (10, 100, 500) for k in (5, 10, 50)]
MDP_EPISODES = (10, 25, 50, 75, 100)


def _bar_chart(rows: list[dict], cell_keys: tuple[str, ...], title: str):
    import matplotlib.pyplot as plt

    cells = sorted({tuple(r[key] for key in cell_keys) for r in rows})
    figure, axes = plt.subplots(1, len(cells), figsize=(2.6 * len(cells), 3.6), squeeze=False)
    for ax, cell in zip(axes[0], cells):
        cell_rows = [r for r in rows if tuple(r[key] for key in cell_keys) == cell]
        ax.barh([r["method"] for r in cell_rows], [r["mean"] for r in cell_rows],
                xerr=[2 * r["stderr"] for r in cell_rows], color="tab:blue")
        lo = min(r["mean"] for r in cell_rows)
        ax.set_xlim(lo * 0.95, max(r["mean"] for r in cell_rows) * 1.02)
        ax.set_title(", ".join(f"{key}={value}" for key, value in zip(cell_keys, cell)), fontsize=9)
        ax.tick_params(labelsize=7)
    figure.suptitle(title)
    figure.tight_layout()
    return figure


@register("bandit-baselines", "RL² Table 1 without RL²: classical strategies and the Bayes optimum on Bernoulli bandits",
          default_seeds=(0,))
def bandit_baselines(preset: str, seeds: list[int]):
    budget = get_budget("bench_bandit_baselines", preset)
    cells = BANDIT_CELLS[: budget.n_cells]
    rows = [row for seed in seeds for k, n in cells for row in bandit_table(k, n, budget.n_trials, seed)]
    return rows, _bar_chart(rows, ("k", "episodes"), "Bernoulli bandits: total reward per trial (±2 s.e.)")


@register("mdp-baselines", "RL² Table 2 without RL²: PSRL, OPSRL, UCRL2, BEB, greedy on random tabular MDPs",
          default_seeds=(0,))
def mdp_baselines(preset: str, seeds: list[int]):
    budget = get_budget("bench_mdp_baselines", preset)
    rows = [row for seed in seeds for n in MDP_EPISODES[: budget.n_cells] for row in mdp_table(n, budget.n_trials, seed)]
    return rows, _bar_chart(rows, ("episodes",), "Random tabular MDPs: total reward per trial (±2 s.e.)")
