"""vkUnmapMemory2KHR / vkUnmapMemory2 and VkMemoryUnmapInfo: every rule, on both sides.

Each rule's boundary is a table of rows (ROWS): a valid row unmaps a mapping made by any of
the three map entry points with VK_SUCCESS; an invalid row breaks that rule alone and the
reference validator must name exactly it.  The single-rule tests after the table draw the
values beyond the boundaries.  RESERVE needs VK_EXT_map_memory_placed.
"""

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from vkmap_cts.fixtures.judge.boundaries import invalid, judged, params, valid
from vkmap_cts.fixtures.judge.oracles import assert_refused, assert_success
from vkmap_cts.fixtures.judge.properties import placed_map
from vkmap_cts.fixtures.rules.coverage import covers, not_supported, require, require_entry, violates
from vkmap_cts.fixtures.vk import abi
from vkmap_cts.fixtures.vk.address_space import reserved
from vkmap_cts.fixtures.vk.arguments import MAP_ENTRIES, UNMAP2_ENTRIES, OtherStruct, PlacedInfo, UnmapCall, UnmapInfo
from vkmap_cts.fixtures.vk.state import OBJECTS

RESERVE = abi.VK_MEMORY_UNMAP_RESERVE_BIT_EXT
entries = pytest.mark.parametrize("entry", UNMAP2_ENTRIES)

ROWS = [
    valid("VUID-vkUnmapMemory2-device-parameter", "device = the device of the memory"),
    valid("VUID-vkUnmapMemory2-pMemoryUnmapInfo-parameter", "pMemoryUnmapInfo = a valid VkMemoryUnmapInfo"),
    valid("VUID-VkMemoryUnmapInfo-sType-sType", "sType = VK_STRUCTURE_TYPE_MEMORY_UNMAP_INFO"),
    invalid("VUID-VkMemoryUnmapInfo-sType-sType", "sType = VK_STRUCTURE_TYPE_MEMORY_MAP_INFO", sType=abi.VK_STRUCTURE_TYPE_MEMORY_MAP_INFO),
    valid("VUID-VkMemoryUnmapInfo-pNext-pNext", "pNext = NULL"),
    invalid("VUID-VkMemoryUnmapInfo-pNext-pNext", "pNext = VkMemoryMapPlacedInfoEXT, which extends only VkMemoryMapInfo", next=(PlacedInfo(0),)),
    valid("VUID-VkMemoryUnmapInfo-flags-parameter", "flags = 0"),
    invalid("VUID-VkMemoryUnmapInfo-flags-parameter", "flags = 0x2, the lowest undefined bit", flags=0x2),
    invalid("VUID-VkMemoryUnmapInfo-flags-parameter", "flags = 0x80000000, the highest bit", flags=1 << 31),
    valid("VUID-VkMemoryUnmapInfo-memory-parameter", "memory = a live VkDeviceMemory"),
    invalid("VUID-VkMemoryUnmapInfo-memory-parameter", "memory = VK_NULL_HANDLE", memory=0),
    valid("UNASSIGNED-VkMemoryUnmapInfo-memory-parent", "memory allocated from the device of the call"),
    valid("VUID-VkMemoryUnmapInfo-memory-07964", "memory host mapped"),
    valid("VUID-VkMemoryUnmapInfo-flags-09580", "flags without VK_MEMORY_UNMAP_RESERVE_BIT_EXT on memory not imported"),
]


@entries
@pytest.mark.parametrize("row", params(ROWS))
@given(mapped_by=st.sampled_from(MAP_ENTRIES))
def test_boundary_row(device, memory_pool, host_visible_types, entry, row, mapped_by):
    """A valid row unmaps a mapping made by any map entry point with VK_SUCCESS; an invalid row is refused with exactly its VUID."""
    require_entry(device, entry)
    require_entry(device, mapped_by)
    with memory_pool.lease(host_visible_types[0], 4096) as mem:
        assert_success(mem.map_with(mapped_by))
        call = row.call(mem.unmap2_call, entry=entry)
        if not row.valid:
            assert_refused(device.driver, call, {row.rule})
            mem.unmap2()
            return
        with judged(row):
            result = device.driver.unmap2(call)
            assert result == abi.VK_SUCCESS, f"{entry} returned {abi.result_name(result)}, expected VK_SUCCESS"
            assert_success(mem.map2())  # mappable again: it was unmapped
        mem.unmap2()


@covers("VUID-VkMemoryUnmapInfo-flags-09579", "GUARANTEE-unmap-reserve")
@entries
def test_unmap_reserve_with_the_feature(placed_device, host_visible_types, entry):
    """With memoryUnmapReserve, VK_MEMORY_UNMAP_RESERVE_BIT_EXT after a placed map reaches the driver, which unmaps or declines as the spec allows."""
    require_entry(placed_device, entry)
    require(placed_device.placed.memory_unmap_reserve, "memoryUnmapReserve")
    align = placed_device.placed.min_placed_memory_map_alignment
    mem = placed_device.allocate(host_visible_types[0], align)
    try:
        with reserved(align, align) as address:
            if placed_map(mem, address) is None:
                not_supported("the driver declined the placed map (VK_ERROR_MEMORY_MAP_FAILED, which the specification allows)")
            result = mem.unmap2(flags=RESERVE, entry=entry)
            if result == abi.VK_ERROR_MEMORY_MAP_FAILED:  # allowed: the memory stays mapped
                assert mem.unmap2(entry=entry) == abi.VK_SUCCESS, "GUARANTEE-unmap-reserve: the plain unmap after a declined reservation failed"
            else:
                assert result == abi.VK_SUCCESS, f"GUARANTEE-unmap-reserve: {entry} with VK_MEMORY_UNMAP_RESERVE_BIT_EXT returned {abi.result_name(result)}"
    finally:
        placed_device.free(mem)


# -- invalid side, beyond the boundaries ----------------------------------------------------------


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


@violates("VUID-vkUnmapMemory2-device-parameter")
@entries
@given(handle=st.integers(1, 2**64 - 1))
def test_device_that_is_no_device(device, memory_pool, host_visible_types, entry, handle):
    """A device handle that names no live VkDevice."""
    require_entry(device, entry)
    assume(handle not in OBJECTS.devices)  # a live handle would be valid: not this test's case
    with _Mapped(memory_pool, host_visible_types[0]) as mem:
        call = mem.unmap2_call(entry=entry)
        assert_refused(device.driver, UnmapCall(entry, handle, call.info), {"VUID-vkUnmapMemory2-device-parameter"})


@violates("VUID-vkUnmapMemory2-pMemoryUnmapInfo-parameter")
@entries
def test_null_unmap_info(device, entry):
    """pMemoryUnmapInfo NULL."""
    require_entry(device, entry)
    assert_refused(device.driver, UnmapCall(entry, device.state.handle, None), {"VUID-vkUnmapMemory2-pMemoryUnmapInfo-parameter"})


@violates("VUID-VkMemoryUnmapInfo-sType-sType")
@entries
@given(stype=st.integers(-(2**31), 2**31 - 1).filter(lambda s: s != abi.VK_STRUCTURE_TYPE_MEMORY_UNMAP_INFO))
def test_wrong_stype(device, memory_pool, host_visible_types, entry, stype):
    """Any sType other than VK_STRUCTURE_TYPE_MEMORY_UNMAP_INFO."""
    require_entry(device, entry)
    with _Mapped(memory_pool, host_visible_types[0]) as mem:
        call = mem.unmap2_call(entry=entry)
        call.info.sType = stype
        assert_refused(device.driver, call, {"VUID-VkMemoryUnmapInfo-sType-sType"})


@violates("VUID-VkMemoryUnmapInfo-pNext-pNext")
@entries
@given(stype=st.integers(0, 2**31 - 1))
def test_any_structure_in_pnext(device, memory_pool, host_visible_types, entry, stype):
    """Any structure at all: none extends VkMemoryUnmapInfo."""
    require_entry(device, entry)
    with _Mapped(memory_pool, host_visible_types[0]) as mem:
        assert_refused(device.driver, mem.unmap2_call(next=(OtherStruct(stype),), entry=entry), {"VUID-VkMemoryUnmapInfo-pNext-pNext"})


@violates("VUID-VkMemoryUnmapInfo-flags-parameter")
@entries
@given(high=st.integers(1, 2**31 - 1))
def test_undefined_flag_bits(device, memory_pool, host_visible_types, entry, high):
    """flags with any bit outside VkMemoryUnmapFlagBits."""
    require_entry(device, entry)
    with _Mapped(memory_pool, host_visible_types[0]) as mem:
        assert_refused(device.driver, mem.unmap2_call(flags=high << 1, entry=entry), {"VUID-VkMemoryUnmapInfo-flags-parameter"})


@violates("VUID-VkMemoryUnmapInfo-memory-parameter")
@entries
@given(handle=st.integers(1, 2**64 - 1))
def test_handle_that_is_no_memory(device, entry, handle):
    """A memory handle that names no live VkDeviceMemory."""
    require_entry(device, entry)
    assume(handle not in OBJECTS.memories)  # a live handle would be valid: not this test's case
    assert_refused(device.driver, UnmapCall(entry, device.state.handle, UnmapInfo(handle)), {"VUID-VkMemoryUnmapInfo-memory-parameter"})


@violates("UNASSIGNED-VkMemoryUnmapInfo-memory-parent")
@entries
def test_memory_of_another_device(device, second_device, host_visible_types, entry):
    """Memory mapped on another device, unmapped through this one."""
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


@violates("VUID-VkMemoryUnmapInfo-memory-07964")
@entries
@given(was_mapped=st.booleans())
def test_memory_not_mapped(device, memory_pool, host_visible_types, entry, was_mapped):
    """Memory never mapped, or already unmapped."""
    require_entry(device, entry)
    with memory_pool.lease(host_visible_types[0], 4096) as mem:
        if was_mapped:
            assert_success(mem.map2())
            mem.unmap2()
        assert_refused(device.driver, mem.unmap2_call(entry=entry), {"VUID-VkMemoryUnmapInfo-memory-07964"})


@violates("VUID-VkMemoryUnmapInfo-flags-09579")
@entries
def test_reserve_without_the_feature(device_without_placed, host_visible_types, entry):
    """VK_MEMORY_UNMAP_RESERVE_BIT_EXT on a device without memoryUnmapReserve enabled."""
    require_entry(device_without_placed, entry)
    mem = device_without_placed.allocate(host_visible_types[0], 4096)
    try:
        assert_success(mem.map2())
        assert_refused(device_without_placed.driver, mem.unmap2_call(flags=RESERVE, entry=entry), {"VUID-VkMemoryUnmapInfo-flags-09579"})
        mem.unmap2()
    finally:
        device_without_placed.free(mem)


@violates("VUID-VkMemoryUnmapInfo-flags-09580")
@entries
def test_reserve_on_imported_host_memory(placed_device, import_host_memory, entry):
    """VK_MEMORY_UNMAP_RESERVE_BIT_EXT on mapped memory imported from a host allocation."""
    require_entry(placed_device, entry)
    require(placed_device.placed.memory_unmap_reserve, "memoryUnmapReserve")
    mem = import_host_memory(placed_device.placed.min_placed_memory_map_alignment)
    try:
        assert_success(mem.map2())
        assert_refused(placed_device.driver, mem.unmap2_call(flags=RESERVE, entry=entry), {"VUID-VkMemoryUnmapInfo-flags-09580"})
        mem.unmap2()
    finally:
        placed_device.free(mem)
