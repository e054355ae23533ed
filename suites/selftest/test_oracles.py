"""Self-tests: each oracle fails on a bad observation and passes a good one."""

import pytest

from vkmap_cts.fixtures.access.driver import SENTINEL, MapResult
from vkmap_cts.fixtures.judge.oracles import assert_aligned, assert_bytes_equal, assert_success, pattern


def result(ptr=0x7F0000001000, code=0, offset=0, size=4096, entry="vkMapMemory2KHR"):
    return MapResult(entry=entry, result=code, ptr=ptr, offset=offset, size=size)


def test_success_accepts_a_written_pointer():
    assert_success(result())


@pytest.mark.parametrize(
    "bad, why",
    [
        (result(code=-5), "^GUARANTEE-map-success: .*expected VK_SUCCESS"),
        (result(ptr=SENTINEL), "^GUARANTEE-ppdata-written: .*not written"),
        (result(ptr=0), "^GUARANTEE-ppdata-written: .*NULL"),
    ],
)
def test_success_rejects(bad, why):
    """A failed call, an unwritten *ppData and a NULL pointer each fail, naming the guarantee first."""
    with pytest.raises(AssertionError, match=why):
        assert_success(bad)


def test_aligned_accepts_base_aligned_pointer_with_offset():
    assert_aligned(result(ptr=0x7F0000001000 + 13, offset=13), 64)


@pytest.mark.parametrize(
    "bad",
    [
        result(ptr=0x7F0000001000 + 8),  # misaligned
        result(ptr=0x7F0000001000, offset=13),  # offset not applied
        result(ptr=0x7F0000001000 + 26, offset=13),  # offset applied twice
    ],
)
def test_aligned_rejects(bad):
    """A misaligned pointer, an offset not applied and an offset applied twice each fail, naming the guarantee first."""
    with pytest.raises(AssertionError, match="^GUARANTEE-map-alignment: .*minMemoryMapAlignment"):
        assert_aligned(bad, 64)


def test_bytes_equal_names_the_first_difference():
    data = pattern(1, 100)
    assert_bytes_equal("GUARANTEE-contents-preserved", data, data, "same")
    wrong = data[:40] + bytes([data[40] ^ 1]) + data[41:]
    with pytest.raises(AssertionError, match=r"^GUARANTEE-contents-preserved: one flipped bit: 1 of 100 bytes differ, first at \+40"):
        assert_bytes_equal("GUARANTEE-contents-preserved", wrong, data, "one flipped bit")
    with pytest.raises(AssertionError, match="bytes seen"):
        assert_bytes_equal("GUARANTEE-contents-preserved", data[:99], data, "short")


def test_pattern_detects_shifted_and_stale_copies():
    data = pattern(7, 4096)
    assert data[1:] != data[:-1]  # a copy shifted by one byte does not match
    assert pattern(8, 4096) != data  # another seed: a stale copy does not match
    assert pattern(7, 4096) == data  # reproducible


def test_refused_oracle_fails_when_the_validator_accepts_or_names_another_rule(device, memory_pool, host_visible_types):
    from vkmap_cts.fixtures.judge.oracles import assert_refused

    with memory_pool.lease(host_visible_types[0], 4096) as mem:
        before = sum(device.driver.calls.values())
        with pytest.raises(AssertionError, match="^VUID-VkMemoryMapInfo-offset-07959: .*validator accepted"):
            assert_refused(device.driver, mem.map2_call(), {"VUID-VkMemoryMapInfo-offset-07959"})
        assert sum(device.driver.calls.values()) == before, "the oracle must not call the driver with a call it judges"
        with pytest.raises(AssertionError, match="^VUID-VkMemoryMapInfo-offset-07959: .*expected exactly"):
            assert_refused(device.driver, mem.map2_call(size=0), {"VUID-VkMemoryMapInfo-offset-07959"})
        assert_refused(device.driver, mem.map2_call(size=0), {"VUID-VkMemoryMapInfo-size-07960"})
