import pytest

from metarl_course import presets


def test_default_is_laptop_and_env_selects():
    assert presets.preset_name({}) == "laptop"
    assert presets.preset_name({"METARL_PRESET": "paper"}) == "paper"
    assert presets.preset_name({"METARL_PRESET": " CI "}) == "ci"


def test_nbgrader_forces_ci_whatever_else_is_set():
    assert presets.preset_name({"METARL_PRESET": "paper", "NBGRADER_EXECUTION": "autograde"}) == "ci"
    assert presets.preset_name({"NBGRADER_EXECUTION": "validate"}) == "ci"


def test_unknown_preset_is_a_clear_error():
    with pytest.raises(ValueError, match="choose one of ci, laptop, paper"):
        presets.preset_name({"METARL_PRESET": "fast"})
    with pytest.raises(KeyError, match="no budgets"):
        presets.get_budget("99_nothing", "ci")


def test_every_preset_defines_the_same_budgets():
    sections = {name: {unit: set(b) for unit, b in p.items()} for name, p in presets.PRESETS.items()}
    assert set(sections) == set(presets.PRESET_NAMES)
    assert sections["ci"] == sections["laptop"] == sections["paper"]


# settings that are not sizes: the laptop preset's learning rate is larger than the paper's (short budget)
NOT_SIZES = {"lr", "min_stage4_gain"}
# sizes that shrink on purpose: MAML on 2D navigation meta-trains 100 iterations at the paper preset (the
# official script's length), fewer than at laptop: the bench's 500 there are the speed headline's
# configuration, and unit 03's 150 let a student see the curves settle
SHRINKS_ON_PURPOSE = {("bench_maml_nav", "iterations"), ("03_maml_pg", "iterations"), ("03_maml_pg", "fo_iterations"),
                      # a paper-sized validation draw (40 tasks × 20 trajectories) holds 8 laptop draws
                      ("bench_maml_cheetah", "n_validation_draws")}


def test_budgets_grow_from_ci_to_paper():
    for unit, ci in presets.PRESETS["ci"].items():
        for key, value in ci.items():
            if key in NOT_SIZES:
                continue
            laptop, paper = presets.PRESETS["laptop"][unit][key], presets.PRESETS["paper"][unit][key]
            if (unit, key) in SHRINKS_ON_PURPOSE:
                assert value <= paper < laptop, (unit, key)
                continue
            assert value <= laptop <= paper, (unit, key)


def test_get_budget_reads_the_active_preset(monkeypatch):
    monkeypatch.setenv("METARL_PRESET", "laptop")
    budget = presets.get_budget("00_meta_rl_problem")
    assert budget.preset == "laptop" and budget.n_test_tasks == presets.PRESETS["laptop"]["00_meta_rl_problem"]["n_test_tasks"]
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    assert presets.get_budget("00_meta_rl_problem").preset == "ci"


def test_set_overrides_one_budget_for_the_block_and_checks_it():
    from metarl_course.presets import get_budget, overridden, parse_override

    section, key, value = parse_override("bench_pearl_point.reward_scale=2", "laptop")
    assert (section, key, value) == ("bench_pearl_point", "reward_scale", 2.0) and isinstance(value, float)
    before = get_budget("bench_pearl_point", "laptop").reward_scale
    with overridden({section: {key: value}}):
        assert get_budget("bench_pearl_point", "laptop").reward_scale == 2.0
        assert get_budget("bench_pearl_point", "ci").reward_scale == 2.0
    assert get_budget("bench_pearl_point", "laptop").reward_scale == before
    for bad, words in (("bench_pearl_point.iterations=2.5", "is int"), ("bench_pearl_point.nope=1", "no key"),
                       ("nope.iterations=1", "no section"), ("reward_scale=2", "SECTION.KEY=VALUE")):
        with pytest.raises(ValueError, match=words):
            parse_override(bad, "laptop")
