"""The order xdist's workers get the tests (fixtures/plugins/schedule.py): the tests marked heavy or isolated first,
each group in the files' order; a run in one process keeps the files' order."""

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TESTS = """
import pytest

def _ran(name):
    with open("order.txt", "a") as f:
        f.write(name + "\\n")

def test_light_1():
    _ran("light_1")

@pytest.mark.isolated
def test_isolated():
    _ran("isolated")

def test_light_2():
    _ran("light_2")

@pytest.mark.heavy
def test_heavy():
    _ran("heavy")
"""


def _order(pytester, *args) -> list[str]:
    # Only the schedule plugin, and the isolated marker registered without the isolation plugin that would run the
    # test in a child.
    pytester.makeconftest(
        "def pytest_configure(config):\n"
        "    config.addinivalue_line('markers', 'isolated: (registered for this test)')\n"
    )
    pytester.makepyfile(test_order=TESTS)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-p", "vkmap_cts.fixtures.plugins.schedule", *args)
    result.assert_outcomes(passed=4)
    return (pytester.path / "order.txt").read_text().split()


@pytest.fixture
def importable(monkeypatch):
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))


def test_a_worker_runs_the_heavy_and_isolated_tests_first(pytester, importable):
    assert _order(pytester, "-n", "1") == ["isolated", "heavy", "light_1", "light_2"]


def test_a_run_in_one_process_keeps_the_files_order(pytester, importable):
    assert _order(pytester, "-p", "no:xdist") == ["light_1", "isolated", "light_2", "heavy"]
