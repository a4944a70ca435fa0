"""The end-of-session operation-coverage check (operation_coverage.py): what it reports missing,
and when it applies."""

from __future__ import annotations

from pathlib import Path

from tests.emulator.operation_coverage import (
    EMULATOR_TESTS,
    collected_modules,
    mturk_operations,
    uncovered_operations,
    whole_suite_selected,
)

SUITE = Path("/suite/tests/emulator")
MODULES = {SUITE / "test_a.py", SUITE / "test_b.py"}


def _selected(**overrides):
    arguments = {
        "modules": MODULES,
        "selected": [SUITE / "test_a.py", SUITE / "test_a.py", SUITE / "test_b.py"],
        "deselected": [],
        "args": ["tests"],
        "invocation_dir": Path("/suite"),
        **overrides,
    }
    return whole_suite_selected(SUITE, **arguments)


def test_botocore_knows_the_39_operations():
    operations = mturk_operations()

    assert len(operations) == 39 and "CreateHIT" in operations


def test_an_operation_no_test_called_is_reported():
    operations = mturk_operations()
    called = dict.fromkeys(operations - {"NotifyWorkers"}, 1)

    assert uncovered_operations(called, operations) == ["NotifyWorkers"]
    assert uncovered_operations({**called, "NotifyWorkers": 2}, operations) == []


def test_every_emulator_test_module_counts():
    modules = collected_modules(EMULATOR_TESTS, ["test_*.py", "*_test.py"])

    assert Path(__file__).resolve() in modules
    assert EMULATOR_TESTS / "conftest.py" not in modules
    assert EMULATOR_TESTS / "operation_coverage.py" not in modules


def test_the_check_applies_when_the_whole_suite_ran():
    assert _selected()
    assert _selected(args=["tests/emulator", "tests/hits/test_sync.py::test_x"])
    assert _selected(deselected=[Path("/suite/tests/hits/test_preview.py")])


def test_the_check_does_not_apply_to_part_of_the_suite():
    assert not _selected(selected=[SUITE / "test_a.py"])  # one file, or --lf skipping files
    assert not _selected(deselected=[SUITE / "test_b.py"])  # -k, -m "not slow", --deselect
    assert not _selected(args=["tests/emulator/test_a.py::test_one", "tests/emulator"])
