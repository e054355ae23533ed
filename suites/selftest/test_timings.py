"""Self-tests of a run's time: what it records (fixtures/plugins/checks.py, reports/results.py), each test's start and
the seconds each entry point spent in the driver during its body (``driver_seconds``, which ci/bench sums); and how long
a test may run (fixtures/plugins/watchdog.py), which grows with the hypothesis profile's depth."""

import json
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from vkmap_cts.fixtures.plugins.profiles import per_test_timeout

ROOT = Path(__file__).resolve().parents[2]
# A test that maps nothing, run after tests that map: its driver time must not hold theirs.
NO_MAPS = (
    "suites/operation/test_alignment.py::test_limit_is_a_power_of_two_of_at_least_64_and_the_same_through_properties2"
)


def test_each_test_has_its_start_and_its_time_in_the_driver(tmp_path):
    """A run in one process: no two tests' spans overlap, each lies inside the run's wall time, and the time in the
    driver of a test that maps is there, above 0 and within the test's duration, and a test that maps nothing has
    none of the others' map time."""
    out = tmp_path / "r"
    began = time.time()
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:xdist", "--hypothesis-profile=ci"]
        + [f"--report-dir={out}", "suites/operation/test_map_memory2.py", NO_MAPS],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    wall = time.time() - began
    assert proc.returncode == 0, proc.stdout[-3000:]
    tests = json.loads((out / "results.json").read_text())["tests"]
    ran = sorted(tests, key=lambda t: t["start"])
    assert len(ran) >= 2 and ran[0]["start"] >= 0, ran
    # One process: each test ends before the next begins (starts are kept to the millisecond).
    for a, b in zip(ran, ran[1:], strict=False):
        assert a["start"] + a["duration"] <= b["start"] + 0.002, (a, b)
    assert all(t["start"] + t["duration"] <= wall for t in tests), (wall, tests)
    spent = {t["nodeid"]: t.get("properties", {}).get("driver_seconds", {}) for t in tests}
    mapped = [(n, s) for n, s in spent.items() if any(e.startswith("vkMapMemory") and v > 0 for e, v in s.items())]
    assert mapped, spent
    assert not any(e.startswith(("vkMap", "vkUnmap")) for e in spent[NO_MAPS]), spent[NO_MAPS]
    durations = {t["nodeid"]: t["duration"] for t in tests}
    assert all(sum(s.values()) <= durations[n] for n, s in spent.items()), (spent, durations)


@pytest.mark.parametrize(
    ("given", "profile", "limit"),
    [(None, "ci", 300), (None, "dev", 300), (None, "thorough", 7500), (12.5, "thorough", 12.5), (0.0, "ci", 0)],
)
def test_a_tests_time_limit_grows_with_the_profiles_depth(given, profile, limit):
    """--vk-test-timeout when given (0: none); else 300 s times the examples the profile draws over ci's 40: the
    thorough profile's 1000 examples a test, and the layer fuzz's 100,000 scenarios, never end as the driver's
    Timeout for the time the suite itself takes."""
    options = {"--vk-test-timeout": given, "hypothesis_profile": profile}
    config = SimpleNamespace(getoption=lambda name, default=None: options.get(name, default))
    assert per_test_timeout(config) == limit
