"""vkUnmapMemory2KHR / vkUnmapMemory2 and VkMemoryUnmapInfo: every rule, on both sides.

Each rule's boundary is a table of rows (ROWS): a valid row unmaps a mapping made by any of
the three map entry points with VK_SUCCESS; an invalid row breaks that rule alone and the
reference validator must name exactly it.  The drawn rows (DRAWN) draw the values beyond
the boundaries, each breaking one rule.  RESERVE needs VK_EXT_map_memory_placed.
"""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vkmap_cts.fixtures.judge.boundaries import (
    beyond,
    command_rows,
    failure_names_row,
    flags_rows,
    invalid,
    memory_rows,
    no_live_handle,
    params,
    stype_rows,
    undefined_flag_bits,
    valid,
)
from vkmap_cts.fixtures.judge.oracles import assert_refused, assert_success
from vkmap_cts.fixtures.judge.properties.placed_maps import placed_map
from vkmap_cts.fixtures.rules.coverage import covers, entry_points, needs_entry, not_supported, require, violates
from vkmap_cts.fixtures.vk import abi
from vkmap_cts.fixtures.vk.address_space import reserved
from vkmap_cts.fixtures.vk.arguments import MAP_ENTRIES, UNMAP2_ENTRIES, OtherStruct, PlacedInfo
from vkmap_cts.fixtures.vk.errors import RuleBroken
from vkmap_cts.fixtures.vk.recording import PROCESS

RESERVE = abi.VK_MEMORY_UNMAP_RESERVE_BIT_EXT
entries = entry_points("entry", UNMAP2_ENTRIES)

ROWS = [
    *command_rows(
        "VUID-vkUnmapMemory2-device-parameter", "VUID-vkUnmapMemory2-pMemoryUnmapInfo-parameter", "VkMemoryUnmapInfo"
    ),
    *stype_rows(
        "VUID-VkMemoryUnmapInfo-sType-sType", "VK_STRUCTURE_TYPE_MEMORY_UNMAP_INFO", "VK_STRUCTURE_TYPE_MEMORY_MAP_INFO"
    ),
    valid("VUID-VkMemoryUnmapInfo-pNext-pNext", "pNext = NULL"),
    invalid(
        "VUID-VkMemoryUnmapInfo-pNext-pNext",
        "pNext = VkMemoryMapPlacedInfoEXT, which extends only VkMemoryMapInfo",
        next=(PlacedInfo(0),),
    ),
    *flags_rows("VUID-VkMemoryUnmapInfo-flags-parameter"),
    *memory_rows("VUID-VkMemoryUnmapInfo-memory-parameter", "UNASSIGNED-VkMemoryUnmapInfo-memory-parent"),
    valid("VUID-VkMemoryUnmapInfo-memory-07964", "memory host mapped"),
    valid("VUID-VkMemoryUnmapInfo-flags-09580", "flags without VK_MEMORY_UNMAP_RESERVE_BIT_EXT on memory not imported"),
]


@entries
@pytest.mark.parametrize("row", params(ROWS))
@needs_entry(*MAP_ENTRIES)
@given(mapped_by=st.sampled_from(MAP_ENTRIES))
def test_boundary_row(device, memory_pool, host_visible_types, entry, row, mapped_by):
    """A valid row unmaps a mapping made by any map entry point with VK_SUCCESS; an invalid row is refused with exactly
    its VUID."""
    with memory_pool.lease(host_visible_types[0], 4096) as mem:
        assert_success(mem.map_with(mapped_by))
        call = row.call(mem.unmap2_call, entry=entry)
        if not row.valid:
            assert_refused(device.driver, call, {row.rule})
            mem.unmap2()
            return
        with failure_names_row(row):
            result = device.driver.unmap2(call)
            assert result == abi.VK_SUCCESS, f"{entry} returned {abi.result_name(result)}, expected VK_SUCCESS"
            assert_success(mem.map2())  # mappable again: it was unmapped
        mem.unmap2()


@covers("VUID-VkMemoryUnmapInfo-flags-09579", "GUARANTEE-unmap-reserve")
@entries
def test_unmap_reserve_with_the_feature(placed_device, host_visible_types, entry):
    """With memoryUnmapReserve, VK_MEMORY_UNMAP_RESERVE_BIT_EXT after a placed map reaches the driver, which unmaps or
    declines as the spec allows."""
    require(placed_device.placed.memory_unmap_reserve, "memoryUnmapReserve")
    align = placed_device.placed.min_placed_memory_map_alignment
    with placed_device.allocation(host_visible_types[0], align) as mem:
        with reserved(align, align) as address:
            if placed_map(mem, address) is None:
                not_supported(
                    "the driver declined the placed map (VK_ERROR_MEMORY_MAP_FAILED, which the specification allows)"
                )
            result = mem.unmap2(flags=RESERVE, entry=entry)
            if result == abi.VK_ERROR_MEMORY_MAP_FAILED:  # allowed: the memory stays mapped
                if mem.unmap2(entry=entry) != abi.VK_SUCCESS:
                    raise RuleBroken("GUARANTEE-unmap-reserve", "the plain unmap after a declined reservation failed")
            elif result != abi.VK_SUCCESS:
                raise RuleBroken(
                    "GUARANTEE-unmap-reserve",
                    f"{entry} with VK_MEMORY_UNMAP_RESERVE_BIT_EXT returned {abi.result_name(result)}",
                )


# -- invalid side, beyond the boundaries ----------------------------------------------------------


DRAWN = [
    no_live_handle("VUID-vkUnmapMemory2-device-parameter", "device", PROCESS.objects.devices, "VkDevice"),
    beyond(
        "VUID-VkMemoryUnmapInfo-sType-sType",
        "any sType but VK_STRUCTURE_TYPE_MEMORY_UNMAP_INFO",
        sType=st.integers(-(2**31), 2**31 - 1).filter(lambda s: s != abi.VK_STRUCTURE_TYPE_MEMORY_UNMAP_INFO),
    ),
    beyond(
        "VUID-VkMemoryUnmapInfo-pNext-pNext",
        "any structure: none extends VkMemoryUnmapInfo",
        next=st.integers(0, 2**31 - 1).map(lambda s: (OtherStruct(s),)),
    ),
    undefined_flag_bits("VUID-VkMemoryUnmapInfo-flags-parameter", "VkMemoryUnmapFlagBits"),
    no_live_handle("VUID-VkMemoryUnmapInfo-memory-parameter", "memory", PROCESS.objects.memories, "VkDeviceMemory"),
]


@entries
@pytest.mark.parametrize("row", params(DRAWN))
@given(data=st.data())
def test_drawn_violation(device, memory_pool, host_visible_types, entry, row, data):
    """Values drawn beyond the rule's boundary, each breaking it alone, are refused with exactly its VUID while the
    memory is mapped."""
    with memory_pool.lease(host_visible_types[0], 4096) as mem:
        assert_success(mem.map2())
        try:
            assert_refused(device.driver, row.call(mem.unmap2_call, entry=entry, **row.draw(data)), {row.rule})
        finally:
            mem.unmap2()


@violates("UNASSIGNED-VkMemoryUnmapInfo-memory-parent")
@entries
def test_memory_of_another_device(device, second_device, host_visible_types, entry):
    """Memory mapped on another device, unmapped through this one."""
    with second_device.allocation(host_visible_types[0], 4096) as other:
        assert_success(other.map2())
        call = other.unmap2_call(entry=entry)
        call.device = device.state.handle
        assert_refused(device.driver, call, {"UNASSIGNED-VkMemoryUnmapInfo-memory-parent"})
        other.unmap2()


@violates("VUID-VkMemoryUnmapInfo-memory-07964")
@entries
@given(was_mapped=st.booleans())
def test_memory_not_mapped(device, memory_pool, host_visible_types, entry, was_mapped):
    """Memory never mapped, or already unmapped."""
    with memory_pool.lease(host_visible_types[0], 4096) as mem:
        if was_mapped:
            assert_success(mem.map2())
            mem.unmap2()
        assert_refused(device.driver, mem.unmap2_call(entry=entry), {"VUID-VkMemoryUnmapInfo-memory-07964"})


@violates("VUID-VkMemoryUnmapInfo-flags-09579")
@entries
def test_reserve_without_the_feature(device_without_placed, host_visible_types, entry):
    """VK_MEMORY_UNMAP_RESERVE_BIT_EXT on a device without memoryUnmapReserve enabled."""
    with device_without_placed.allocation(host_visible_types[0], 4096) as mem:
        assert_success(mem.map2())
        assert_refused(
            device_without_placed.driver,
            mem.unmap2_call(flags=RESERVE, entry=entry),
            {"VUID-VkMemoryUnmapInfo-flags-09579"},
        )
        mem.unmap2()


@violates("VUID-VkMemoryUnmapInfo-flags-09580")
@entries
def test_reserve_on_imported_host_memory(placed_device, import_host_memory, entry):
    """VK_MEMORY_UNMAP_RESERVE_BIT_EXT on mapped memory imported from a host allocation."""
    require(placed_device.placed.memory_unmap_reserve, "memoryUnmapReserve")
    mem = import_host_memory(placed_device.placed.min_placed_memory_map_alignment)
    try:
        assert_success(mem.map2())
        assert_refused(
            placed_device.driver, mem.unmap2_call(flags=RESERVE, entry=entry), {"VUID-VkMemoryUnmapInfo-flags-09580"}
        )
        mem.unmap2()
    finally:
        placed_device.free(mem)
