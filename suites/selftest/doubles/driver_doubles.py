"""A driver that really crashes, one that really hangs, and a neighbour that passes, as tests.

Run only by suites/selftest/test_isolation.py, in a child pytest with -n 1.
"""

import ctypes
import os

from vkmap_cts.fixtures.vk.errors import RuleBroken


def test_passing_neighbour():
    assert True


def test_driver_call_that_crashes(device, memory_pool, host_visible_types):
    """vkMapMemory2KHR itself faults (a read of address 0 inside C code: SIGSEGV)."""

    def faulting_map(dev, info, pp):
        ctypes.string_at(0)

    device.driver.pfn["vkMapMemory2KHR"] = faulting_map
    with memory_pool.lease(host_visible_types[0], 4096) as mem:
        mem.map2(offset=64, size=128)


def test_driver_call_that_hangs():
    ctypes.CDLL(None).sleep(3600)  # blocked inside C code: no signal-based timeout can end it


def test_flaky_driver(tmp_path_factory):
    marker = os.path.join(os.environ["DOUBLES_STATE"], "flaky-once")
    if not os.path.exists(marker):
        open(marker, "w").close()
        raise RuleBroken("GUARANTEE-map-success", "fails on the first attempt only")


def test_failing_driver():
    raise RuleBroken("GUARANTEE-map-success", "always fails")


def test_zz_last_test_before_a_teardown_crash(request):
    """Passes; the session fixture below crashes after it, when the worker tears down."""
    request.getfixturevalue("crash_at_session_teardown")


def test_driver_with_a_misaligned_pointer(device, memory_pool, host_visible_types):
    """vkMapMemory2KHR returns the driver's pointer moved by 8 bytes: the alignment check fails."""
    from vkmap_cts.fixtures.judge.oracles import assert_aligned
    from vkmap_cts.fixtures.vk.abi import ffi

    real = device.driver.pfn["vkMapMemory2KHR"]

    def misaligned(dev, info, pp):
        result = real(dev, info, pp)
        pp[0] = ffi.cast("void*", int(ffi.cast("uintptr_t", pp[0])) + 8)
        return result

    device.driver.pfn["vkMapMemory2KHR"] = misaligned
    try:
        with memory_pool.lease(host_visible_types[0], 4096) as mem:
            result = mem.map2()
            try:
                assert_aligned(result, device.limits_alignment)
            finally:
                mem.unmap2()
    finally:
        device.driver.pfn["vkMapMemory2KHR"] = real


def test_driver_that_crashes_while_hypothesis_shrinks(tmp_path_factory):
    """The first failing example leaves a mark; every call after it faults: the crash comes during shrinking."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    marker = os.path.join(os.environ["DOUBLES_STATE"], "failed-once")

    @settings(max_examples=50, derandomize=True, database=None)
    @given(st.integers(0, 1000))
    def inner(x):
        if os.path.exists(marker):
            ctypes.string_at(0)
        if x > 10:
            open(marker, "w").close()
            raise RuleBroken("GUARANTEE-map-success", f"{x} > 10")

    inner()


import pytest  # noqa: E402


@pytest.mark.isolated
def test_isolated_double_that_crashes_its_process():
    """Marked isolated: it crashes its own child process, never the worker that runs the tests after it."""
    ctypes.string_at(0)


@pytest.mark.isolated
def test_isolated_double_that_fails():
    """Marked isolated: its child's failure message is its own."""
    raise RuleBroken("GUARANTEE-map-success", "a failure inside the isolated child")


def test_zzz_after_the_isolated_ones():
    """Runs after the isolated doubles in the same worker: it passes only if that worker is alive and unbroken."""
    assert True


def test_driver_that_crashes_in_fixture_setup(crash_in_setup):
    """Its fixture crashes the process before the test body runs."""
