"""Self-tests of the return-code oracle, and its sets against Khronos' registry."""

import pytest

from vkmap_cts.fixtures.rules.return_codes import MANPAGE, REGISTRY, judge

CODES = {
    "VK_SUCCESS": 0,
    "VK_INCOMPLETE": 5,
    "VK_ERROR_OUT_OF_HOST_MEMORY": -1,
    "VK_ERROR_OUT_OF_DEVICE_MEMORY": -2,
    "VK_ERROR_DEVICE_LOST": -4,
    "VK_ERROR_MEMORY_MAP_FAILED": -5,
    "VK_ERROR_UNKNOWN": -13,
}


def test_sets_match_the_registry():
    import vulkan_object

    reg = vulkan_object.get_vulkan_object()
    for entry, codes in REGISTRY.items():
        cmd = reg.commands[entry]
        assert set(codes) == set(cmd.successCodes) | set(cmd.errorCodes), entry


@pytest.mark.parametrize("entry", ["vkMapMemory2KHR", "vkMapMemory2", "vkMapMemory"])
def test_rejects_incomplete_an_unlisted_error_and_an_unpressured_failure(entry):
    incomplete = judge(entry, CODES["VK_INCOMPLETE"])[0]
    assert incomplete.rule == "GUARANTEE-map-success"
    assert "only success code" in incomplete.observed or "not among" in incomplete.observed
    lost = judge(entry, CODES["VK_ERROR_DEVICE_LOST"], under="anything")[0]
    assert lost.rule == "GUARANTEE-return-codes-under-pressure" and "not among its return codes" in lost.observed
    unpressured = judge(entry, CODES["VK_ERROR_MEMORY_MAP_FAILED"])[0]
    assert unpressured.rule == "GUARANTEE-map-success" and "under no resource pressure" in unpressured.observed


@pytest.mark.parametrize(
    "code", ["VK_ERROR_OUT_OF_HOST_MEMORY", "VK_ERROR_OUT_OF_DEVICE_MEMORY", "VK_ERROR_MEMORY_MAP_FAILED"]
)
def test_accepts_each_allowed_error_under_pressure(code):
    assert judge("vkMapMemory2KHR", CODES[code], under="RLIMIT_AS") == (None, None)


def test_registry_only_code_is_noted_not_failed():
    failure, note = judge("vkMapMemory2KHR", CODES["VK_ERROR_UNKNOWN"], under="host allocation failure")
    assert failure is None and "not by the 1.3.290 manual page" in note


def test_success_and_void_pass():
    assert judge("vkMapMemory2KHR", 0) == (None, None)
    assert judge("vkUnmapMemory", None) == (None, None)
    assert MANPAGE["vkMapMemory"] == MANPAGE["vkMapMemory2KHR"]


ORACLE_DOUBLES = """
import pytest

def _returning(code):
    def fake(device, info, pp):
        return code
    return fake

@pytest.fixture
def fake_map(device):
    real = device.driver.pfn["vkMapMemory2KHR"]
    yield lambda code: device.driver.pfn.__setitem__("vkMapMemory2KHR", _returning(code))
    device.driver.pfn["vkMapMemory2KHR"] = real

def test_incomplete_is_caught_though_the_test_does_not_look(fake_map, memory_pool, host_visible_types):
    fake_map(5)
    with memory_pool.lease(host_visible_types[0], 256) as mem:
        mem.map2()

def test_unpressured_failure_is_caught(fake_map, memory_pool, host_visible_types):
    fake_map(-5)
    with memory_pool.lease(host_visible_types[0], 256) as mem:
        mem.map2()

def test_failure_under_pressure_is_allowed(fake_map, memory_pool, host_visible_types):
    from vkmap_cts.fixtures.rules.return_codes import under_pressure
    fake_map(-5)
    with memory_pool.lease(host_visible_types[0], 256) as mem, under_pressure("a test double"):
        assert mem.map2().result == -5
"""


def test_the_plugin_fails_tests_that_observe_disallowed_codes(pytester, monkeypatch):
    import os
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(root), os.environ.get("PYTHONPATH")])))
    pytester.makeconftest("from vkmap_cts.fixtures.plugins import PLUGINS\npytest_plugins = PLUGINS")
    pytester.makepyfile(test_codes=ORACLE_DOUBLES)
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "--flake-reruns=0", f"--report-dir={pytester.path / 'out'}"
    )
    result.assert_outcomes(passed=1, failed=2)
    result.stdout.fnmatch_lines(
        [
            "*vkMapMemory2KHR returned VK_INCOMPLETE*",
            "*VK_ERROR_MEMORY_MAP_FAILED for a valid call under no resource pressure*",
        ]
    )


COUNTED = """
def test_seven_maps(memory_pool, host_visible_types):
    with memory_pool.lease(host_visible_types[0], 256) as mem:
        for _ in range(7):
            mem.map2()
            mem.unmap2()
"""


def test_reported_result_counts_are_the_calls_made(pytester, monkeypatch):
    """results.json counts each VkResult once per call made: seven maps and unmaps are reported as seven of each."""
    import json
    import os
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(root), os.environ.get("PYTHONPATH")])))
    pytester.makeconftest("from vkmap_cts.fixtures.plugins import PLUGINS\npytest_plugins = PLUGINS")
    pytester.makepyfile(test_counted=COUNTED)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", f"--report-dir={pytester.path / 'out'}")
    result.assert_outcomes(passed=1)
    (test,) = json.loads((pytester.path / "out" / "results.json").read_text())["tests"]
    assert test["vkresults"] == {"vkMapMemory2KHR:VK_SUCCESS": 7, "vkUnmapMemory2KHR:VK_SUCCESS": 7}, test["vkresults"]


@pytest.mark.parametrize(
    "entry, flags",
    [("vkMapMemory2KHR", 0x1), ("vkMapMemory2", 0x1), ("vkUnmapMemory2KHR", 0x1), ("vkUnmapMemory2", 0x1)],
)
def test_a_call_the_spec_lets_fail_may_fail_with_its_code_only(entry, flags):
    """A placed map or a RESERVE unmap may return VK_ERROR_MEMORY_MAP_FAILED under no pressure; without the flag, or
    with another code, it fails."""
    assert judge(entry, CODES["VK_ERROR_MEMORY_MAP_FAILED"], None, flags) == (None, None)
    assert "under no resource pressure" in judge(entry, CODES["VK_ERROR_MEMORY_MAP_FAILED"], None, 0)[0].observed
    assert judge(entry, CODES["VK_ERROR_UNKNOWN"], None, flags)[0]


@pytest.mark.parametrize(
    "stderr, verdict",
    [
        ("cannot allocate memory for thread-local data: ABORT\n", "driver"),
        ("Traceback (most recent call last):\n  File x\nKeyError: 'k'\n", "suite"),
    ],
)
def test_a_libfiu_child_that_dies_is_the_drivers_and_one_that_raises_the_suites(monkeypatch, stderr, verdict):
    """Under libfiu, a process that dies without a Python traceback died in the driver's hands: a disallowed outcome
    naming the rule; one whose Python code raised is the suite's own error."""
    import shutil
    import subprocess

    from vkmap_cts.fixtures.provoke import provocation

    monkeypatch.delenv("VKMAP_CTS_UNDER_FIU", raising=False)
    monkeypatch.setattr(shutil, "which", lambda name: "/usr/bin/fiu-run")
    monkeypatch.setattr(
        subprocess, "run", lambda *a, **k: subprocess.CompletedProcess(a, 127, stdout="", stderr=stderr)
    )
    if verdict == "suite":
        with pytest.raises(RuntimeError, match="the libfiu child failed"):
            provocation.libfiu()
        return
    record = provocation.libfiu()
    assert record["disallowed"][0]["rule"] == "GUARANTEE-return-codes-under-pressure"
    assert record["disallowed"][0]["observed"].startswith("the process died (exit status 127)")
