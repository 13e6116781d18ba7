"""The published numbers the units compare with: RL² (Duan et al. 2016, Tables 1 and 2), MAML (Finn et al. 2017).

``RL2_TABLE1[(k, n)][method]`` is the average total reward per trial of n pulls on
k-armed Bernoulli bandits; ``RL2_TABLE2[n][method]`` the total reward of n episodes on
random tabular MDPs. Method names are the kit's (``baselines`` strategies and ``rl2``).
"""

from __future__ import annotations

_TABLE1_COLUMNS = ("random", "gittins", "thompson", "optimistic_thompson", "ucb1", "epsilon_greedy", "greedy", "rl2")
_TABLE1_ROWS = {
    (5, 10): (5.0, 6.6, 5.7, 6.5, 6.7, 6.6, 6.6, 6.7),
    (10, 10): (5.0, 6.6, 5.5, 6.2, 6.7, 6.6, 6.6, 6.7),
    (50, 10): (5.1, 6.5, 5.2, 5.5, 6.6, 6.5, 6.5, 6.8),
    (5, 100): (49.9, 78.3, 74.7, 77.9, 78.0, 75.4, 74.8, 78.7),
    (10, 100): (49.9, 82.8, 76.7, 81.4, 82.4, 77.4, 77.1, 83.5),
    (50, 100): (49.8, 85.2, 64.5, 67.7, 84.3, 78.3, 78.0, 84.9),
    (5, 500): (249.8, 405.8, 402.0, 406.7, 405.8, 388.2, 380.6, 401.6),
    (10, 500): (249.0, 437.8, 429.5, 438.9, 437.1, 408.0, 395.0, 432.5),
    (50, 500): (249.6, 463.7, 427.2, 437.6, 457.6, 413.6, 402.8, 438.9),
}
RL2_TABLE1: dict[tuple[int, int], dict[str, float]] = {
    cell: dict(zip(_TABLE1_COLUMNS, values)) for cell, values in _TABLE1_ROWS.items()
}

_TABLE2_COLUMNS = ("random", "psrl", "opsrl", "ucrl2", "beb", "epsilon_greedy", "greedy", "rl2")
_TABLE2_ROWS = {
    10: (100.1, 138.1, 144.1, 146.6, 150.2, 132.8, 134.8, 156.2),
    25: (250.2, 408.8, 425.2, 424.1, 427.8, 377.3, 368.8, 445.7),
    50: (499.7, 904.4, 930.7, 918.9, 917.8, 823.3, 769.3, 936.1),
    75: (749.9, 1417.1, 1449.2, 1427.6, 1422.6, 1293.9, 1172.9, 1428.8),
    100: (999.4, 1939.5, 1973.9, 1942.1, 1935.1, 1778.2, 1578.5, 1913.7),
}
RL2_TABLE2: dict[int, dict[str, float]] = {n: dict(zip(_TABLE2_COLUMNS, values)) for n, values in _TABLE2_ROWS.items()}


# MAML (Finn et al. 2017): the average return over 40 held-out tasks after 0, 1 and 3
# policy-gradient steps, and the oracle's, from the paper's own results files.
# ``MAML_RESULTS[task]["MAML"][steps]`` and ``MAML_RESULTS[task]["oracle"]``.
MAML_RESULTS = {
    "2D navigation": {"MAML": {0: -40.4, 1: -11.7, 3: -3.2}, "oracle": -2.3},
    "HalfCheetah velocity": {"MAML": {0: -129.5, 1: -78.6, 3: -60.8}, "oracle": -54.5},
    "HalfCheetah direction": {"MAML": {0: -50.7, 1: 293.2, 3: 315.7}, "oracle": 442.7},
    "Ant velocity": {"MAML": {0: 30.6, 1: 96.7, 3: 101.4}, "oracle": 107.9},
    "Ant direction": {"MAML": {0: 8.7, 1: 499.1, 3: 499.1}, "oracle": 524.8},
}
