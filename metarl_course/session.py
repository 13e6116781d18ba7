"""The first cell of every notebook: preset, seed, device, plotting defaults."""

from __future__ import annotations

import os
from types import SimpleNamespace

from metarl_course.device import get_device
from metarl_course.presets import get_budget, preset_name
from metarl_course.seeding import seed_everything

# Units whose networks are so small that torch's second CPU thread costs more than it shares: with
# the threads sleeping between operations (OMP_WAIT_POLICY=PASSIVE, what graders running several
# kernels need) every tiny operation waits for a wake-up. One thread never loses much and can win
# twice; units 03 and 05 (larger batches, the CNN) gain from two. The timings are in README.md
# ("Presets") and come from benchmarks/results/notebook-threads.py and pearl-point-threads.py.
ONE_CPU_THREAD = {"01_rl2_bandits", "02_rl2_tabular_mdp", "04_pearl"}

# The one unit whose notebook trains on ``get_device()`` (a GPU when there is one). The others train
# small networks on the CPU (unit 04's cell says why), and their ``metarl-course bench`` runs are the
# ones that use a GPU; ``run.device`` is then the CPU, so the first line does not promise a GPU.
NOTEBOOK_USES_GPU = {"02_rl2_tabular_mdp"}


def start_unit(unit: str, seed: int = 0) -> SimpleNamespace:
    """Seed everything, pick the device and the preset's budget for ``unit``, and say so.

    Returns a namespace with ``budget`` (the preset's numbers for this unit), ``seed``,
    ``rng`` (a seeded ``np.random.Generator``) and ``device`` (the ``torch.device`` the notebook
    trains on: ``get_device()`` for the units in ``NOTEBOOK_USES_GPU``, else the CPU).
    """
    preset = preset_name()
    source = "nbgrader is grading" if os.environ.get("NBGRADER_EXECUTION") else (
        "METARL_PRESET" if os.environ.get("METARL_PRESET") else "the default")
    rng = seed_everything(seed)
    import torch  # lazily, as everywhere in the package: `import metarl_course` must not load torch

    visible = get_device()
    device = visible if unit in NOTEBOOK_USES_GPU else torch.device("cpu")
    gpu_note = f" ({visible} visible: `metarl-course bench` uses it; this notebook trains on the CPU)" if (
        visible.type != device.type) else ""
    threads = ""
    if preset == "ci" or (unit in ONE_CPU_THREAD and device.type == "cpu"):
        _single_thread()
        threads = ", one CPU thread" if preset != "ci" else ""
    _plot_defaults()
    print(f"unit {unit}: preset {preset!r} (from {source}), seed {seed}, device {device}{gpu_note}{threads}")
    return SimpleNamespace(budget=get_budget(unit, preset), seed=seed, rng=rng, device=device, preset=preset)


def _single_thread() -> None:
    """Tiny ci-sized networks run fastest on one thread, and graders run several kernels at
    once: torch's default of one thread per core then oversubscribes the CPU and its
    spinning threads make small models ten times slower or worse."""
    import torch

    torch.set_num_threads(1)


def _plot_defaults() -> None:
    import matplotlib as mpl

    mpl.rcParams.update({"figure.figsize": (7.0, 4.0), "figure.dpi": 100, "axes.grid": True, "grid.alpha": 0.3})


def widgets_wanted(environ=None) -> bool:
    """True when a person may be looking at the notebook.

    Interactive widgets are drawn only then: under nbgrader (``NBGRADER_EXECUTION``) or the
    kit's own headless runs (``METARL_HEADLESS``, set by ``metarl-course run`` and the tests)
    nobody can move a slider, and a widget's extra comm messages once left a headless run
    waiting on a loaded machine. There the helpers draw one static picture instead.
    """
    environ = os.environ if environ is None else environ
    return not (environ.get("NBGRADER_EXECUTION") or environ.get("METARL_HEADLESS"))


def progress_bar(iterable, **kwargs):
    """tqdm's notebook bar where a person may look (``widgets_wanted``), its text bar elsewhere."""
    if widgets_wanted():
        from tqdm.auto import tqdm
    else:
        from tqdm.std import tqdm
    return tqdm(iterable, **kwargs)
