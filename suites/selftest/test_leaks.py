"""Self-tests: a test that leaks a memory object or a mapping fails; the pool catches a lease left mapped."""

import os
from pathlib import Path

import pytest

from vkmap_cts.fixtures.access.device import LeakError

ROOT = Path(__file__).resolve().parents[2]


LEAKY = """
def test_leaks_an_allocation(device, host_visible_types):
    device.allocate(host_visible_types[0], 256)

import pytest

@pytest.fixture(scope="module")
def shared_memory(device, host_visible_types):
    mem = device.allocate(host_visible_types[0], 256)
    yield mem
    device.free(mem)

def test_leaves_memory_mapped(shared_memory):
    assert shared_memory.map2().result == 0

def test_after_a_leak_memory_is_unmapped_again(shared_memory):
    assert shared_memory.mapping is None

def test_clean(device, host_visible_types):
    mem = device.allocate(host_visible_types[0], 256)
    assert mem.map2().result == 0
    mem.unmap2()
    device.free(mem)
"""


def test_leaking_tests_fail(pytester, monkeypatch):
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    pytester.makeconftest("from vkmap_cts.fixtures.plugins import FIXTURE_PLUGINS\n\npytest_plugins = FIXTURE_PLUGINS")
    pytester.makepyfile(test_leaky=LEAKY)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--report-dir", str(pytester.path / "out"))
    result.assert_outcomes(passed=4, errors=2)
    result.stdout.fnmatch_lines(["*ERROR at teardown of test_leaks_an_allocation*", "*still allocated*"])
    result.stdout.fnmatch_lines(
        ["*ERROR at teardown of test_leaves_memory_mapped*", "*left mapped by vkMapMemory2KHR*"]
    )


def test_lease_left_mapped_is_a_leak(memory_pool, host_visible_types):
    with pytest.raises(LeakError, match="left mapped"):
        with memory_pool.lease(host_visible_types[0], 128) as mem:
            assert mem.map2().result == 0
    with memory_pool.lease(host_visible_types[0], 128) as mem:
        assert mem.mapping is None, "the pool unmapped the leaked mapping"
