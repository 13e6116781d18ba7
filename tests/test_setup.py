"""The set-up files agree with each other: pyproject, environment.yml, constraints, Makefile, CI."""

from __future__ import annotations

import tomllib

import yaml
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.version import Version


def _pyproject(repo):
    return tomllib.loads((repo / "pyproject.toml").read_text())["project"]


def _constraints(repo) -> dict[str, str]:
    pins = {}
    for line in (repo / "constraints.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, version = line.split("==")
            pins[name.lower()] = version
    return pins


def test_environment_yml_lists_exactly_the_pyproject_dependencies(repo):
    project = _pyproject(repo)
    wanted = {str(Requirement(r)) for r in project["dependencies"] + project["optional-dependencies"]["dev"]}
    env = yaml.safe_load((repo / "environment.yml").read_text())
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    listed = {str(Requirement(r)) for r in pip_section if not r.startswith("-")}
    assert listed == wanted
    assert "-c constraints.txt" in pip_section and "--editable .[dev]" in pip_section
    python = next(d for d in env["dependencies"] if isinstance(d, str) and d.startswith("python="))
    assert Version(python.split("=")[1]) in SpecifierSet(project["requires-python"])


def test_constraints_pin_every_direct_dependency_inside_its_range(repo):
    project = _pyproject(repo)
    pins = _constraints(repo)
    for text in project["dependencies"] + project["optional-dependencies"]["dev"]:
        requirement = Requirement(text)
        assert requirement.name.lower() in pins, f"constraints.txt does not pin {requirement.name}"
        assert Version(pins[requirement.name.lower()]) in requirement.specifier, f"{requirement.name} pin outside {requirement.specifier}"
    assert pins["torch"] == "2.13.0", "the CPU wheel on the course machines is torch 2.13.0"


def test_makefile_targets_and_ci(repo):
    makefile = (repo / "Makefile").read_text()
    for target in ("venv:", "lab:", "test:", "run:", "release:", "kernel:", "sandbox:"):
        assert f"\n{target}" in makefile, target
    assert "\ntest: venv sandbox" in makefile, "make test installs the grading sandbox (bubblewrap) first"
    assert "-c constraints.txt" in makefile
    ci = (repo / ".ci" / "run").read_text()
    assert "make test" in ci
    readme = (repo / "README.md").read_text()
    assert "make test" in readme and "make lab" in readme and "make run" in readme


def test_every_phony_make_target_has_a_rule(repo):
    # a target listed in .PHONY without a rule makes `make bench` print "Nothing to be done" and succeed
    lines = (repo / "Makefile").read_text().splitlines()
    phony = next(line for line in lines if line.startswith(".PHONY:")).split(":", 1)[1].split()
    rules = {line.split(":", 1)[0] for line in lines if line and not line[0].isspace() and ":" in line
             and "=" not in line.split(":", 1)[0]}
    assert {"bench", "grade"} <= set(phony)
    assert set(phony) <= rules, f"phony targets without a rule: {sorted(set(phony) - rules)}"


def test_nbgrader_config_points_at_solutions_and_notebooks(repo):
    text = (repo / "nbgrader_config.py").read_text()
    assert 'source_directory = "solutions"' in text
    assert 'release_directory = "notebooks"' in text
