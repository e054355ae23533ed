"""Self-tests of the run's recording (fixtures/vk/recording.py): each test records into a TestRecording of its own, made
by the ``recording`` fixture, and nothing one test records (observers, the time in the driver, the layer's comparisons,
the journal's example) is seen by the next."""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

from vkmap_cts.fixtures.vk.recording import PROCESS, Recording, TestRecording

ROOT = Path(__file__).resolve().parents[2]

# Two tests in one process, in this order: the first records everything a test can record and leaves it there; the
# second, which makes no call, must find none of it.
TWO_TESTS = textwrap.dedent(
    """
    import json, os

    from vkmap_cts.fixtures.vk.recording import PROCESS

    SEEN = {}


    def test_records_everything(recording, memory_pool, host_visible_types):
        with memory_pool.lease(host_visible_types[0], 4096) as mem:
            mem.map2()
            mem.unmap2()
        recording.observers.append(lambda obs: None)
        recording.layer_log.append({"call": "left behind"})
        PROCESS.journal.record("left behind")
        SEEN["first"] = id(recording)
        assert recording.spent and recording.slowest


    def test_sees_nothing_of_the_first(recording):
        seen = {
            "own": id(recording) != SEEN["first"] and recording is PROCESS.test,
            "observers": len(recording.observers),
            "spent": recording.spent,
            "slowest": recording.slowest,
            "layer_log": recording.layer_log,
            "events": PROCESS.journal.snapshot()["events"],
        }
        with open(os.environ["VKMAP_RECORDING_OUT"], "w") as f:
            json.dump(seen, f)
    """
)


def test_nothing_one_test_records_leaks_into_the_next(tmp_path):
    """A run of two tests in one process: the second has a TestRecording of its own, with only the per-test checks'
    observers, no time in the driver, no layer comparison, and a journal example with none of the first's events."""
    (tmp_path / "conftest.py").write_text((ROOT / "conftest.py").read_text())
    (tmp_path / "test_two.py").write_text(TWO_TESTS)
    out = tmp_path / "seen.json"
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:xdist", "-p", "no:randomly"]
        + [f"--report-dir={tmp_path / 'r'}", "--rootdir", str(tmp_path), str(tmp_path / "test_two.py")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "VKMAP_RECORDING_OUT": str(out)},
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    seen = json.loads(out.read_text())
    checks_observers = 2  # fixtures/plugins/checks.py: the return-code judge and the results kept
    assert seen == {
        "own": True,
        "observers": checks_observers,
        "spent": {},
        "slowest": {},
        "layer_log": [],
        "events": [],
    }, seen


def test_a_recording_outside_a_test_is_not_the_tests():
    """Between tests, calls record into a TestRecording nobody reads; a test's starts fresh, and so does the next."""
    r = Recording()
    before = r.test
    before.took("vkMapMemory2KHR", 1.0)
    test = r.test_started()
    assert test is r.test and test is not before and not test.spent
    test.took("vkMapMemory2KHR", 0.5)
    test.took("vkMapMemory2KHR", 0.25)
    assert test.spent == {"vkMapMemory2KHR": 0.75} and test.slowest == {"vkMapMemory2KHR": 0.5}
    r.test_ended()
    assert r.test is not test and not r.test.spent
    assert isinstance(PROCESS.test, TestRecording)
