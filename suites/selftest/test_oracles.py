"""Self-tests: each oracle fails on a bad observation and passes a good one."""

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from vkmap_cts.fixtures.access.driver import SENTINEL, MapResult
from vkmap_cts.fixtures.judge.oracles import assert_aligned, assert_bytes_equal, assert_success, map_holds, pattern
from vkmap_cts.fixtures.vk.errors import RuleBroken
from vkmap_cts.fixtures.vk.recording import PROCESS


def result(ptr=0x7F0000001000, code=0, offset=0, size=4096, entry="vkMapMemory2KHR"):
    return MapResult(entry=entry, result=code, ptr=ptr, offset=offset, size=size)


def test_success_accepts_a_written_pointer():
    assert_success(result())


@pytest.mark.parametrize(
    "bad, rule, why",
    [
        (result(code=-5), "GUARANTEE-map-success", "expected VK_SUCCESS"),
        (result(ptr=SENTINEL), "GUARANTEE-ppdata-written", "not written"),
        (result(ptr=0), "GUARANTEE-ppdata-written", "NULL"),
    ],
)
def test_success_rejects(bad, rule, why):
    """A failed call, an unwritten *ppData and a NULL pointer each fail, naming the guarantee first."""
    with pytest.raises(RuleBroken, match=f"^{rule}: .*{why}") as failed:
        assert_success(bad)
    assert failed.value.rule == rule and why in failed.value.observed


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
    with pytest.raises(RuleBroken, match="^GUARANTEE-map-alignment: .*minMemoryMapAlignment") as failed:
        assert_aligned(bad, 64)
    assert failed.value.rule == "GUARANTEE-map-alignment"


def test_bytes_equal_names_the_first_difference():
    data = pattern(1, 100)
    assert_bytes_equal("GUARANTEE-contents-preserved", data, data, "same")
    wrong = data[:40] + bytes([data[40] ^ 1]) + data[41:]
    with pytest.raises(
        RuleBroken, match=r"^GUARANTEE-contents-preserved: one flipped bit: 1 of 100 bytes differ, first at \+40"
    ) as failed:
        assert_bytes_equal("GUARANTEE-contents-preserved", wrong, data, "one flipped bit")
    assert failed.value.rule == "GUARANTEE-contents-preserved"
    with pytest.raises(RuleBroken, match="bytes seen") as failed:
        assert_bytes_equal("GUARANTEE-contents-preserved", data[:99], data, "short")
    assert failed.value.rule == "GUARANTEE-contents-preserved"


def test_pattern_detects_shifted_and_stale_copies():
    data = pattern(7, 4096)
    assert data[1:] != data[:-1]  # a copy shifted by one byte does not match
    assert pattern(8, 4096) != data  # another seed: a stale copy does not match
    assert pattern(7, 4096) == data  # reproducible


def test_refused_oracle_fails_when_the_validator_accepts_or_names_another_rule(device, memory_pool, host_visible_types):
    from vkmap_cts.fixtures.judge.oracles import assert_refused

    with memory_pool.lease(host_visible_types[0], 4096) as mem:
        before = sum(device.driver.calls.values())
        with pytest.raises(RuleBroken, match="^VUID-VkMemoryMapInfo-offset-07959: .*validator accepted") as failed:
            assert_refused(device.driver, mem.map2_call(), {"VUID-VkMemoryMapInfo-offset-07959"})
        assert failed.value.rule == "VUID-VkMemoryMapInfo-offset-07959"
        assert sum(device.driver.calls.values()) == before, "the oracle must not call the driver with a call it judges"
        with pytest.raises(RuleBroken, match="^VUID-VkMemoryMapInfo-offset-07959: .*expected exactly") as failed:
            assert_refused(device.driver, mem.map2_call(size=0), {"VUID-VkMemoryMapInfo-offset-07959"})
        assert failed.value.rule == "VUID-VkMemoryMapInfo-offset-07959"
        assert_refused(device.driver, mem.map2_call(size=0), {"VUID-VkMemoryMapInfo-size-07960"})


def _oracles_accept(r: MapResult, alignment: int) -> bool:
    try:
        assert_success(r)
        assert_aligned(r, alignment)
    except RuleBroken:
        return False
    return True


@given(
    code=st.sampled_from([0, 1, -1, -2, -5, -13]),
    ptr=st.one_of(st.sampled_from([0, SENTINEL, 1, 64, 2**64 - 64, 0x7F0000001000]), st.integers(0, 2**64 - 1)),
    offset=st.one_of(st.sampled_from([0, 1, 63, 64, 2**32]), st.integers(0, 2**40)),
    alignment=st.sampled_from([64, 128, 4096, 1 << 16]),
)
@example(code=0, ptr=0x7F0000001040, offset=64, alignment=64)  # aligned once the offset is taken off
@example(code=0, ptr=0x7F0000001040, offset=0, alignment=128)  # misaligned by 64
@example(code=0, ptr=SENTINEL, offset=0, alignment=64)
@example(code=-5, ptr=0x7F0000001000, offset=0, alignment=64)
def test_the_loops_screen_accepts_exactly_what_the_oracles_accept(code, ptr, offset, alignment):
    """map_holds, the screen of the driver's one loop (Driver.map_unmap_each), passes a map exactly when
    assert_success and assert_aligned both do: a map it let through unjudged would be one they fail."""
    r = result(ptr=ptr, code=code, offset=offset)
    assert map_holds(code, ptr, offset, alignment) == _oracles_accept(r, alignment)


def test_the_drivers_one_loop_journals_what_the_calls_one_by_one_journal(memory_pool, host_visible_types):
    """mapped_alignment through Driver.map_unmap_each leaves the journal the calls and oracles one by one leave
    (a standalone reproducer is generated from it): the same events, in the same order, with the same fields."""
    from vkmap_cts.fixtures.judge.properties import alignment
    from vkmap_cts.fixtures.judge.strategies import MapRange
    from vkmap_cts.fixtures.vk.abi import VK_WHOLE_SIZE

    ranges = [MapRange(0, VK_WHOLE_SIZE), MapRange(64, 128), MapRange(4095, 1), MapRange(17, VK_WHOLE_SIZE)]
    with memory_pool.lease(host_visible_types[0], 4096) as mem:
        PROCESS.journal.begin_example()
        alignment.mapped_alignment(mem, "vkMapMemory2KHR", ranges, 64)
        batched = PROCESS.journal.snapshot()["events"]
        PROCESS.journal.begin_example()
        for r in ranges:
            alignment.judged_map(mem, "vkMapMemory2KHR", r.offset, r.size, 64)
        one_by_one = PROCESS.journal.snapshot()["events"]
    assert len(batched) == 5 * len(ranges)
    assert [{k: v for k, v in e.items() if k != "ptr"} for e in batched] == [
        {k: v for k, v in e.items() if k != "ptr"} for e in one_by_one
    ]
