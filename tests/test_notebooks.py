"""The notebooks: solutions run top to bottom, and notebooks/ is exactly their release."""

from __future__ import annotations

import nbformat
import pytest

from grading_harness import graded_cells, nbgrader_meta, solution_cells
from metarl_course import pipeline

UNITS = pipeline.list_units()
# Seconds a solution notebook may take at the `ci` preset on two CPU cores.
CI_TIME_BUDGET = {"00_meta_rl_problem": 60, "01_rl2_bandits": 40, "02_rl2_tabular_mdp": 40, "03_maml_pg": 40, "04_pearl": 40, "05_pixel_pearl": 60}


def test_units_exist_and_have_budgets():
    assert "00_meta_rl_problem" in UNITS
    assert set(UNITS) <= set(CI_TIME_BUDGET), "give every unit a ci time budget here"


@pytest.mark.slow
@pytest.mark.parametrize("unit", UNITS)
def test_solution_notebook_runs_at_ci_preset(unit, tmp_path, repo):
    result = pipeline.run_notebook(repo / "solutions" / unit / f"{unit}.ipynb", "ci", tmp_path)
    assert result.error is None, result.error[-3000:]
    assert result.seconds < CI_TIME_BUDGET[unit], f"{unit} took {result.seconds:.0f} s at ci"
    executed = nbformat.read(result.executed, as_version=4)
    images = [o for c in executed.cells if c.cell_type == "code" for o in c.outputs if "image/png" in o.get("data", {})]
    assert images, "a unit should end its training/evaluation cells with plots"
    assert result.html.stat().st_size > 10_000
    widgets = [o for c in executed.cells if c.cell_type == "code" for o in c.outputs
               if "application/vnd.jupyter.widget-view+json" in o.get("data", {})]
    assert not widgets, "headless runs draw the static picture, not a widget nobody can use"


@pytest.mark.slow
def test_notebooks_folder_is_exactly_the_release_of_solutions(tmp_path, repo):
    pipeline.release(root=repo, out_dir=tmp_path)
    assert sorted(p.name for p in (repo / "notebooks").iterdir()) == sorted(p.name for p in tmp_path.iterdir())
    for unit in UNITS:
        for released in sorted((tmp_path / unit).iterdir()):
            committed = repo / "notebooks" / unit / released.name
            assert committed.read_bytes() == released.read_bytes(), (
                f"{committed} differs from its release: run `metarl-course release` and commit")


@pytest.mark.parametrize("unit", UNITS)
def test_solution_notebook_follows_the_conventions(unit, repo):
    nb = nbformat.read(repo / "solutions" / unit / f"{unit}.ipynb", as_version=4)
    ids = [nbgrader_meta(c).get("grade_id") for c in nb.cells if nbgrader_meta(c)]
    assert len(ids) == len(set(ids)), "grade ids must be unique"
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert not cell.outputs and cell.execution_count is None, "commit notebooks with outputs stripped"
    first_code = next(c for c in nb.cells if c.cell_type == "code")
    assert f'start_unit("{unit}"' in first_code.source, "the first code cell sets preset, seed and device"
    lines = first_code.source.splitlines()
    kit = next(i for i, line in enumerate(lines) if line.startswith(("import metarl_course", "from metarl_course")))
    torch_at = next((i for i, line in enumerate(lines) if line.startswith(("import torch", "from torch"))), len(lines))
    assert kit < torch_at, "import metarl_course before torch: it sets OMP_WAIT_POLICY, read when torch loads"
    solutions, tests = solution_cells(nb), graded_cells(nb)
    assert solutions and tests
    for gid, source in solutions.items():
        assert "### BEGIN SOLUTION" in source and "### END SOLUTION" in source, gid
        assert f"test_{gid}" in tests, f"solution cell {gid} has no test cell test_{gid}"
    for cell in nb.cells:
        if nbgrader_meta(cell).get("grade"):
            assert "### BEGIN HIDDEN TESTS" in cell.source, f"{nbgrader_meta(cell)['grade_id']} has no hidden tests"
    for cell in nb.cells:  # DESIGN.md: training cells show a progress bar and end with a plot
        if cell.cell_type == "code" and "progress=True" in cell.source:
            assert cell.source.rstrip().endswith("plt.show()"), f"a training cell must end with its plot:\n{cell.source}"
    text = "\n".join(c.source for c in nb.cells)
    for forbidden in ("urlopen", "requests.get", "wget ", "curl ", "download"):
        assert forbidden not in text, f"notebooks must not download anything ({forbidden!r})"


def test_widgets_are_drawn_only_where_a_person_may_look():
    from metarl_course.session import widgets_wanted

    assert widgets_wanted({})
    assert not widgets_wanted({"NBGRADER_EXECUTION": "autograde"})
    assert not widgets_wanted({"METARL_HEADLESS": "1"})
