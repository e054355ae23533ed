"""Legacy vkMapMemory / vkUnmapMemory: every rule, on both sides (the suite calls them too).

Each rule's boundary is a table of rows (MAP_ROWS, UNMAP_ROWS): a valid row maps with
VK_SUCCESS and an aligned pointer (or unmaps); an invalid row breaks that rule alone and the
reference validator must name exactly it.  The drawn rows (MAP_DRAWN, UNMAP_DRAWN) draw the
values beyond the boundaries, each breaking one rule.
"""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vkmap_cts.fixtures.judge.boundaries import (
    drawn_range_rows,
    failure_names_row,
    flags_rows,
    invalid,
    map_row,
    memory_rows,
    no_live_handle,
    params,
    range_rows,
    undefined_flag_bits,
    valid,
)
from vkmap_cts.fixtures.judge.oracles import assert_refused, assert_success
from vkmap_cts.fixtures.judge.strategies import allocation_sizes
from vkmap_cts.fixtures.rules.coverage import require, violates
from vkmap_cts.fixtures.vk import abi
from vkmap_cts.fixtures.vk.arguments import LegacyMapCall, LegacyUnmapCall
from vkmap_cts.fixtures.vk.recording import PROCESS

SIZE = 8192


MAP_ROWS = [
    valid("VUID-vkMapMemory-device-parameter", "device = the device of the memory"),
    *memory_rows("VUID-vkMapMemory-memory-parameter", "VUID-vkMapMemory-memory-parent"),
    *flags_rows("VUID-vkMapMemory-flags-parameter"),
    valid("VUID-vkMapMemory-ppData-parameter", "ppData = a writable pointer"),
    invalid("VUID-vkMapMemory-ppData-parameter", "ppData = NULL", pp_data=False),
    valid("VUID-vkMapMemory-memory-00678", "memory not host mapped"),
    *range_rows("VUID-vkMapMemory-offset-00679", "VUID-vkMapMemory-size-00680", "VUID-vkMapMemory-size-00681"),
    valid("VUID-vkMapMemory-memory-00682", "memory of a HOST_VISIBLE type"),
    valid("VUID-vkMapMemory-memory-00683", "memory allocated with one instance"),
    valid("VUID-vkMapMemory-flags-09568", "flags without VK_MEMORY_MAP_PLACED_BIT_EXT"),
    invalid(
        "VUID-vkMapMemory-flags-09568", "flags = VK_MEMORY_MAP_PLACED_BIT_EXT", flags=abi.VK_MEMORY_MAP_PLACED_BIT_EXT
    ),
]


@pytest.mark.parametrize("row", params(MAP_ROWS))
@given(allocation_size=allocation_sizes(), data=st.data())
def test_map_boundary_row(device, memory_pool, host_visible_types, row, allocation_size, data):
    """A valid row maps with VK_SUCCESS and an aligned pointer on any HOST_VISIBLE type; an invalid row is refused with
    exactly its VUID."""
    with memory_pool.lease(data.draw(st.sampled_from(host_visible_types), label="memory type"), allocation_size) as mem:
        if map_row(device, row, row.call(mem.map_call, allocation_size), device.driver.map):
            mem.unmap()


UNMAP_ROWS = [
    valid("VUID-vkUnmapMemory-device-parameter", "device = the device of the memory"),
    *memory_rows("VUID-vkUnmapMemory-memory-parameter", "VUID-vkUnmapMemory-memory-parent"),
    valid("VUID-vkUnmapMemory-memory-00689", "memory host mapped"),
]


@pytest.mark.parametrize("row", params(UNMAP_ROWS))
@given(mapped_by=st.sampled_from(["vkMapMemory2KHR", "vkMapMemory"]))
def test_unmap_boundary_row(device, memory_pool, host_visible_types, row, mapped_by):
    """A valid row unmaps a mapping made by vkMapMemory2KHR or vkMapMemory; an invalid row is refused with exactly its
    VUID."""
    with memory_pool.lease(host_visible_types[0], SIZE) as mem:
        assert_success(mem.map_with(mapped_by))
        call = row.call(mem.unmap_call)
        if not row.valid:
            assert_refused(device.driver, call, {row.rule})
            mem.unmap()
            return
        with failure_names_row(row):
            device.driver.unmap(call)
            assert_success(mem.map())  # mappable again: it was unmapped
        mem.unmap()


# -- invalid side, beyond the boundaries ----------------------------------------------------------


MAP_DRAWN = [
    no_live_handle("VUID-vkMapMemory-device-parameter", "device", PROCESS.objects.devices, "VkDevice"),
    no_live_handle("VUID-vkMapMemory-memory-parameter", "memory", PROCESS.objects.memories, "VkDeviceMemory"),
    undefined_flag_bits("VUID-vkMapMemory-flags-parameter", "VkMemoryMapFlagBits"),
    *drawn_range_rows("VUID-vkMapMemory-offset-00679", "VUID-vkMapMemory-size-00680", "VUID-vkMapMemory-size-00681"),
]


@pytest.mark.parametrize("row", params(MAP_DRAWN))
@given(allocation_size=allocation_sizes(65536), data=st.data())
def test_map_drawn_violation(device, memory_pool, host_visible_types, row, allocation_size, data):
    """vkMapMemory with values drawn beyond the rule's boundary, each breaking it alone, is refused with exactly its
    VUID."""
    with memory_pool.lease(host_visible_types[0], allocation_size) as mem:
        assert_refused(
            device.driver, row.call(mem.map_call, allocation_size, **row.draw(data, allocation_size)), {row.rule}
        )


UNMAP_DRAWN = [
    no_live_handle("VUID-vkUnmapMemory-device-parameter", "device", PROCESS.objects.devices, "VkDevice"),
    no_live_handle("VUID-vkUnmapMemory-memory-parameter", "memory", PROCESS.objects.memories, "VkDeviceMemory"),
]


@pytest.mark.parametrize("row", params(UNMAP_DRAWN))
@given(data=st.data())
def test_unmap_drawn_violation(device, memory_pool, host_visible_types, row, data):
    """vkUnmapMemory with a handle drawn from those that name no live object is refused with exactly its VUID while the
    memory is mapped."""
    with memory_pool.lease(host_visible_types[0], SIZE) as mem:
        assert_success(mem.map())
        try:
            assert_refused(device.driver, row.call(mem.unmap_call, **row.draw(data)), {row.rule})
        finally:
            mem.unmap()


@violates("VUID-vkMapMemory-memory-parent")
def test_map_of_memory_of_another_device(device, second_device, host_visible_types):
    """vkMapMemory of memory allocated from another device."""
    with second_device.allocation(host_visible_types[0], SIZE) as other:
        assert_refused(
            device.driver, LegacyMapCall(device.state.handle, other.handle), {"VUID-vkMapMemory-memory-parent"}
        )


@violates("VUID-vkUnmapMemory-memory-parent")
def test_unmap_of_memory_of_another_device(device, second_device, host_visible_types):
    """vkUnmapMemory of memory mapped on another device."""
    with second_device.allocation(host_visible_types[0], SIZE) as other:
        assert_success(other.map())
        assert_refused(
            device.driver, LegacyUnmapCall(device.state.handle, other.handle), {"VUID-vkUnmapMemory-memory-parent"}
        )
        other.unmap()


@violates("VUID-vkMapMemory-memory-00678")
@given(first=st.sampled_from(["vkMapMemory2KHR", "vkMapMemory"]))
def test_memory_already_mapped(device, memory_pool, host_visible_types, first):
    """Memory already mapped by vkMapMemory2KHR or vkMapMemory."""
    with memory_pool.lease(host_visible_types[0], SIZE) as mem:
        assert_success(mem.map_with(first))
        try:
            assert_refused(device.driver, mem.map_call(), {"VUID-vkMapMemory-memory-00678"})
        finally:
            mem.unmap()


@violates("VUID-vkMapMemory-memory-00682")
def test_memory_type_without_host_visible(device, physical_device):
    """Memory of each type without HOST_VISIBLE (NotSupported where every type has it)."""
    hidden = [t for t in physical_device.memory_types if not t.host_visible]
    require(bool(hidden), f"{physical_device.name} has no memory type without HOST_VISIBLE")
    for mt in hidden:
        with device.allocation(mt, SIZE) as mem:
            assert_refused(device.driver, mem.map_call(), {"VUID-vkMapMemory-memory-00682"})


@violates("VUID-vkUnmapMemory-memory-00689")
@given(was_mapped=st.booleans())
def test_unmap_of_memory_not_mapped(device, memory_pool, host_visible_types, was_mapped):
    """Memory never mapped, or already unmapped."""
    with memory_pool.lease(host_visible_types[0], SIZE) as mem:
        if was_mapped:
            assert_success(mem.map())
            mem.unmap()
        assert_refused(device.driver, mem.unmap_call(), {"VUID-vkUnmapMemory-memory-00689"})
