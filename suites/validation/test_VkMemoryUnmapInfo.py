"""vkUnmapMemory2KHR / vkUnmapMemory2 and VkMemoryUnmapInfo: every rule, on both sides."""
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from fixtures.vk import abi
from fixtures.vk.address_space import reserved
from fixtures.vk.arguments import MAP_ENTRIES, UNMAP2_ENTRIES, OtherStruct, PlacedInfo, UnmapCall
from fixtures.rules.coverage import covers, require_entry, violates
from fixtures.judge.oracles import assert_refused, assert_success, spelled
from fixtures.vk.state import OBJECTS

RESERVE = abi.VK_MEMORY_UNMAP_RESERVE_BIT_EXT
entries = pytest.mark.parametrize("entry", UNMAP2_ENTRIES)


def vuid(entry, rule):
    return spelled(entry, f"VUID-VkMemoryUnmapInfoKHR-{rule}", f"VUID-VkMemoryUnmapInfo-{rule}")


def cmd_vuid(entry, rule):
    return spelled(entry, f"VUID-vkUnmapMemory2KHR-{rule}", f"VUID-vkUnmapMemory2-{rule}")


@covers(
    "VUID-vkUnmapMemory2KHR-device-parameter", "VUID-vkUnmapMemory2-device-parameter",
    "VUID-vkUnmapMemory2KHR-pMemoryUnmapInfo-parameter", "VUID-vkUnmapMemory2-pMemoryUnmapInfo-parameter",
    "VUID-VkMemoryUnmapInfoKHR-sType-sType", "VUID-VkMemoryUnmapInfo-sType-sType",
    "VUID-VkMemoryUnmapInfoKHR-pNext-pNext", "VUID-VkMemoryUnmapInfo-pNext-pNext",
    "VUID-VkMemoryUnmapInfoKHR-flags-parameter", "VUID-VkMemoryUnmapInfo-flags-parameter",
    "VUID-VkMemoryUnmapInfoKHR-memory-parameter", "VUID-VkMemoryUnmapInfo-memory-parameter",
    "UNASSIGNED-VkMemoryUnmapInfo-memory-parent",
    "VUID-VkMemoryUnmapInfoKHR-memory-07964", "VUID-VkMemoryUnmapInfo-memory-07964",
    "VUID-VkMemoryUnmapInfoKHR-flags-09580", "VUID-VkMemoryUnmapInfo-flags-09580",
)
@entries
@given(mapped_by=st.sampled_from(MAP_ENTRIES))
def test_unmap_of_a_mapping_by_any_entry_point(device, memory_pool, host_visible_types, entry, mapped_by):
    """flags 0, pNext NULL, memory mapped by any of the three map entry points: VK_SUCCESS, and unmapped after."""
    require_entry(device, entry)
    require_entry(device, mapped_by)
    with memory_pool.lease(host_visible_types[0], 4096) as mem:
        assert_success(mem.map_with(mapped_by))
        assert mem.unmap2(entry=entry) == abi.VK_SUCCESS
        assert_success(mem.map2())  # mappable again: it was unmapped
        mem.unmap2()


@covers("VUID-VkMemoryUnmapInfoKHR-flags-09579", "VUID-VkMemoryUnmapInfo-flags-09579", "GUARANTEE-unmap-reserve")
@entries
def test_unmap_reserve_with_the_feature(placed_device, host_visible_types, entry):
    require_entry(placed_device, entry)
    from fixtures.rules.coverage import require

    require(placed_device.placed.memory_unmap_reserve, "memoryUnmapReserve")
    align = placed_device.placed.min_placed_memory_map_alignment
    mem = placed_device.allocate(host_visible_types[0], align)
    try:
        with reserved(align, align) as address:
            assert_success(mem.map2(flags=abi.VK_MEMORY_MAP_PLACED_BIT_EXT, next=(PlacedInfo(address),)))
            assert mem.unmap2(flags=RESERVE, entry=entry) == abi.VK_SUCCESS
    finally:
        placed_device.free(mem)


@violates("VUID-vkUnmapMemory2KHR-device-parameter", "VUID-vkUnmapMemory2-device-parameter")
@entries
@given(handle=st.integers(1, 2**64 - 1))
def test_device_that_is_no_device(device, memory_pool, host_visible_types, entry, handle):
    require_entry(device, entry)
    assume(handle not in OBJECTS.devices)  # a live handle would be valid: not this test's case
    with memory_pool.lease(host_visible_types[0], 4096) as mem:
        assert_success(mem.map2())
        try:
            call = mem.unmap2_call(entry=entry)
            assert_refused(device.driver, UnmapCall(entry, handle, call.info), {cmd_vuid(entry, "device-parameter")})
        finally:
            mem.unmap2()


@violates("VUID-vkUnmapMemory2KHR-pMemoryUnmapInfo-parameter", "VUID-vkUnmapMemory2-pMemoryUnmapInfo-parameter")
@entries
def test_null_unmap_info(device, entry):
    require_entry(device, entry)
    assert_refused(device.driver, UnmapCall(entry, device.state.handle, None), {cmd_vuid(entry, "pMemoryUnmapInfo-parameter")})


class _Mapped:
    """A memory object of the pool, mapped for the length of a with-block."""

    def __init__(self, pool, memory_type):
        self.lease = pool.lease(memory_type, 4096)

    def __enter__(self):
        self.mem = self.lease.__enter__()
        assert_success(self.mem.map2())
        return self.mem

    def __exit__(self, *exc):
        self.mem.unmap2()
        return self.lease.__exit__(*exc)


@violates("VUID-VkMemoryUnmapInfoKHR-sType-sType", "VUID-VkMemoryUnmapInfo-sType-sType")
@entries
@given(stype=st.integers(-(2**31), 2**31 - 1).filter(lambda s: s != abi.VK_STRUCTURE_TYPE_MEMORY_UNMAP_INFO))
def test_wrong_stype(device, memory_pool, host_visible_types, entry, stype):
    require_entry(device, entry)
    with _Mapped(memory_pool, host_visible_types[0]) as mem:
        call = mem.unmap2_call(entry=entry)
        call.info.sType = stype
        assert_refused(device.driver, call, {vuid(entry, "sType-sType")})


@violates("VUID-VkMemoryUnmapInfoKHR-pNext-pNext", "VUID-VkMemoryUnmapInfo-pNext-pNext")
@entries
@given(stype=st.integers(0, 2**31 - 1), placed=st.booleans())
def test_any_structure_in_pnext(device, memory_pool, host_visible_types, entry, stype, placed):
    require_entry(device, entry)
    with _Mapped(memory_pool, host_visible_types[0]) as mem:
        chain = (PlacedInfo(0),) if placed else (OtherStruct(stype),)
        assert_refused(device.driver, mem.unmap2_call(next=chain, entry=entry), {vuid(entry, "pNext-pNext")})


@violates("VUID-VkMemoryUnmapInfoKHR-flags-parameter", "VUID-VkMemoryUnmapInfo-flags-parameter")
@entries
@given(high=st.integers(1, 2**31 - 1))
def test_undefined_flag_bits(device, memory_pool, host_visible_types, entry, high):
    require_entry(device, entry)
    with _Mapped(memory_pool, host_visible_types[0]) as mem:
        assert_refused(device.driver, mem.unmap2_call(flags=high << 1, entry=entry), {vuid(entry, "flags-parameter")})


@violates("VUID-VkMemoryUnmapInfoKHR-memory-parameter", "VUID-VkMemoryUnmapInfo-memory-parameter")
@entries
@given(handle=st.integers(1, 2**64 - 1))
def test_handle_that_is_no_memory(device, entry, handle):
    require_entry(device, entry)
    assume(handle not in OBJECTS.memories)  # a live handle would be valid: not this test's case
    from fixtures.vk.arguments import UnmapInfo

    assert_refused(device.driver, UnmapCall(entry, device.state.handle, UnmapInfo(handle)), {vuid(entry, "memory-parameter")})


@violates("UNASSIGNED-VkMemoryUnmapInfo-memory-parent")
@entries
def test_memory_of_another_device(device, second_device, host_visible_types, entry):
    require_entry(device, entry)
    other = second_device.allocate(host_visible_types[0], 4096)
    try:
        assert_success(other.map2())
        call = other.unmap2_call(entry=entry)
        call.device = device.state.handle
        assert_refused(device.driver, call, {"UNASSIGNED-VkMemoryUnmapInfo-memory-parent"})
        other.unmap2()
    finally:
        second_device.free(other)


@violates("VUID-VkMemoryUnmapInfoKHR-memory-07964", "VUID-VkMemoryUnmapInfo-memory-07964")
@entries
@given(was_mapped=st.booleans())
def test_memory_not_mapped(device, memory_pool, host_visible_types, entry, was_mapped):
    """Never mapped, or already unmapped."""
    require_entry(device, entry)
    with memory_pool.lease(host_visible_types[0], 4096) as mem:
        if was_mapped:
            assert_success(mem.map2())
            mem.unmap2()
        assert_refused(device.driver, mem.unmap2_call(entry=entry), {vuid(entry, "memory-07964")})


@violates("VUID-VkMemoryUnmapInfoKHR-flags-09579", "VUID-VkMemoryUnmapInfo-flags-09579")
@entries
def test_reserve_without_the_feature(device_without_placed, host_visible_types, entry):
    require_entry(device_without_placed, entry)
    mem = device_without_placed.allocate(host_visible_types[0], 4096)
    try:
        assert_success(mem.map2())
        assert_refused(device_without_placed.driver, mem.unmap2_call(flags=RESERVE, entry=entry), {vuid(entry, "flags-09579")})
        mem.unmap2()
    finally:
        device_without_placed.free(mem)
