"""Legacy vkMapMemory / vkUnmapMemory: every rule, on both sides (the suite calls them too).

Each rule's boundary is a table of rows (MAP_ROWS, UNMAP_ROWS): a valid row maps with
VK_SUCCESS and an aligned pointer (or unmaps); an invalid row breaks that rule alone and the
reference validator must name exactly it.  The single-rule tests after the tables draw the
values beyond the boundaries.
"""

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from vkmap_cts.fixtures.judge.boundaries import invalid, judged, last_byte, one_past, params, valid, whole
from vkmap_cts.fixtures.judge.oracles import assert_aligned, assert_refused, assert_success
from vkmap_cts.fixtures.judge.strategies import allocation_sizes
from vkmap_cts.fixtures.rules.coverage import require, violates
from vkmap_cts.fixtures.vk import abi
from vkmap_cts.fixtures.vk.arguments import LegacyMapCall, LegacyUnmapCall
from vkmap_cts.fixtures.vk.state import OBJECTS

SIZE = 8192
WHOLE = abi.VK_WHOLE_SIZE


MAP_ROWS = [
    valid("VUID-vkMapMemory-device-parameter", "device = the device of the memory"),
    valid("VUID-vkMapMemory-memory-parameter", "memory = a live VkDeviceMemory"),
    invalid("VUID-vkMapMemory-memory-parameter", "memory = VK_NULL_HANDLE", memory=0),
    valid("VUID-vkMapMemory-memory-parent", "memory allocated from device"),
    valid("VUID-vkMapMemory-flags-parameter", "flags = 0"),
    invalid("VUID-vkMapMemory-flags-parameter", "flags = 0x2, the lowest undefined bit", flags=0x2),
    invalid("VUID-vkMapMemory-flags-parameter", "flags = 0x80000000, the highest bit", flags=1 << 31),
    valid("VUID-vkMapMemory-ppData-parameter", "ppData = a writable pointer"),
    invalid("VUID-vkMapMemory-ppData-parameter", "ppData = NULL", pp_data=False),
    valid("VUID-vkMapMemory-memory-00678", "memory not host mapped"),
    valid("VUID-vkMapMemory-offset-00679", "offset = 0", offset=0),
    valid("VUID-vkMapMemory-offset-00679", "offset = allocationSize - 1", offset=last_byte),
    invalid("VUID-vkMapMemory-offset-00679", "offset = allocationSize", offset=whole),
    invalid("VUID-vkMapMemory-offset-00679", "offset = 2^64 - 1", offset=2**64 - 1),
    valid("VUID-vkMapMemory-size-00680", "size = 1", size=1),
    valid("VUID-vkMapMemory-size-00680", "size = VK_WHOLE_SIZE", size=WHOLE),
    invalid("VUID-vkMapMemory-size-00680", "size = 0", size=0),
    valid("VUID-vkMapMemory-size-00681", "size = allocationSize", size=whole),
    valid("VUID-vkMapMemory-size-00681", "size = 1 at offset allocationSize - 1", offset=last_byte, size=1),
    invalid("VUID-vkMapMemory-size-00681", "size = allocationSize + 1", size=one_past),
    invalid("VUID-vkMapMemory-size-00681", "size = 2 at offset allocationSize - 1", offset=last_byte, size=2),
    valid("VUID-vkMapMemory-memory-00682", "memory of a HOST_VISIBLE type"),
    valid("VUID-vkMapMemory-memory-00683", "memory allocated with one instance"),
    valid("VUID-vkMapMemory-flags-09568", "flags without VK_MEMORY_MAP_PLACED_BIT_EXT"),
    invalid("VUID-vkMapMemory-flags-09568", "flags = VK_MEMORY_MAP_PLACED_BIT_EXT", flags=abi.VK_MEMORY_MAP_PLACED_BIT_EXT),
]


@pytest.mark.parametrize("row", params(MAP_ROWS))
@given(allocation_size=allocation_sizes(), data=st.data())
def test_map_boundary_row(device, memory_pool, host_visible_types, row, allocation_size, data):
    """A valid row maps with VK_SUCCESS and an aligned pointer on any HOST_VISIBLE type; an invalid row is refused with exactly its VUID."""
    with memory_pool.lease(data.draw(st.sampled_from(host_visible_types), label="memory type"), allocation_size) as mem:
        call = row.call(mem.map_call, allocation_size)
        if not row.valid:
            assert_refused(device.driver, call, {row.rule})
            return
        with judged(row):
            result = device.driver.map(call)
            assert_success(result)
            assert_aligned(result, device.limits_alignment)
        mem.unmap()


UNMAP_ROWS = [
    valid("VUID-vkUnmapMemory-device-parameter", "device = the device of the memory"),
    valid("VUID-vkUnmapMemory-memory-parameter", "memory = a live VkDeviceMemory"),
    invalid("VUID-vkUnmapMemory-memory-parameter", "memory = VK_NULL_HANDLE", memory=0),
    valid("VUID-vkUnmapMemory-memory-parent", "memory allocated from device"),
    valid("VUID-vkUnmapMemory-memory-00689", "memory host mapped"),
]


@pytest.mark.parametrize("row", params(UNMAP_ROWS))
@given(mapped_by=st.sampled_from(["vkMapMemory2KHR", "vkMapMemory"]))
def test_unmap_boundary_row(device, memory_pool, host_visible_types, row, mapped_by):
    """A valid row unmaps a mapping made by vkMapMemory2KHR or vkMapMemory; an invalid row is refused with exactly its VUID."""
    with memory_pool.lease(host_visible_types[0], SIZE) as mem:
        assert_success(mem.map_with(mapped_by))
        call = row.call(mem.unmap_call)
        if not row.valid:
            assert_refused(device.driver, call, {row.rule})
            mem.unmap()
            return
        with judged(row):
            device.driver.unmap(call)
            assert_success(mem.map())  # mappable again: it was unmapped
        mem.unmap()


# -- invalid side, beyond the boundaries ----------------------------------------------------------


@violates("VUID-vkMapMemory-device-parameter")
@given(handle=st.integers(1, 2**64 - 1))
def test_map_on_a_device_that_is_no_device(device, memory_pool, host_visible_types, handle):
    """vkMapMemory with a device handle that names no live VkDevice."""
    assume(handle not in OBJECTS.devices)  # a live handle would be valid: not this test's case
    with memory_pool.lease(host_visible_types[0], SIZE) as mem:
        assert_refused(device.driver, LegacyMapCall(handle, mem.handle), {"VUID-vkMapMemory-device-parameter"})


@violates("VUID-vkUnmapMemory-device-parameter")
@given(handle=st.integers(1, 2**64 - 1))
def test_unmap_on_a_device_that_is_no_device(device, memory_pool, host_visible_types, handle):
    """vkUnmapMemory with a device handle that names no live VkDevice."""
    assume(handle not in OBJECTS.devices)  # a live handle would be valid: not this test's case
    with memory_pool.lease(host_visible_types[0], SIZE) as mem:
        assert_success(mem.map())
        try:
            assert_refused(device.driver, LegacyUnmapCall(handle, mem.handle), {"VUID-vkUnmapMemory-device-parameter"})
        finally:
            mem.unmap()


@violates("VUID-vkMapMemory-memory-parameter")
@given(handle=st.integers(1, 2**64 - 1))
def test_map_of_a_handle_that_is_no_memory(device, handle):
    """vkMapMemory of a memory handle that names no live VkDeviceMemory."""
    assume(handle not in OBJECTS.memories)  # a live handle would be valid: not this test's case
    assert_refused(device.driver, LegacyMapCall(device.state.handle, handle), {"VUID-vkMapMemory-memory-parameter"})


@violates("VUID-vkUnmapMemory-memory-parameter")
@given(handle=st.integers(1, 2**64 - 1))
def test_unmap_of_a_handle_that_is_no_memory(device, handle):
    """vkUnmapMemory of a memory handle that names no live VkDeviceMemory."""
    assume(handle not in OBJECTS.memories)  # a live handle would be valid: not this test's case
    assert_refused(device.driver, LegacyUnmapCall(device.state.handle, handle), {"VUID-vkUnmapMemory-memory-parameter"})


@violates("VUID-vkMapMemory-memory-parent")
def test_map_of_memory_of_another_device(device, second_device, host_visible_types):
    """vkMapMemory of memory allocated from another device."""
    other = second_device.allocate(host_visible_types[0], SIZE)
    try:
        assert_refused(device.driver, LegacyMapCall(device.state.handle, other.handle), {"VUID-vkMapMemory-memory-parent"})
    finally:
        second_device.free(other)


@violates("VUID-vkUnmapMemory-memory-parent")
def test_unmap_of_memory_of_another_device(device, second_device, host_visible_types):
    """vkUnmapMemory of memory mapped on another device."""
    other = second_device.allocate(host_visible_types[0], SIZE)
    try:
        assert_success(other.map())
        assert_refused(device.driver, LegacyUnmapCall(device.state.handle, other.handle), {"VUID-vkUnmapMemory-memory-parent"})
        other.unmap()
    finally:
        second_device.free(other)


@violates("VUID-vkMapMemory-flags-parameter")
@given(high=st.integers(1, 2**31 - 1))
def test_undefined_flag_bits(device, memory_pool, host_visible_types, high):
    """flags with any bit outside VkMemoryMapFlagBits."""
    with memory_pool.lease(host_visible_types[0], SIZE) as mem:
        assert_refused(device.driver, mem.map_call(flags=high << 1), {"VUID-vkMapMemory-flags-parameter"})


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


@violates("VUID-vkMapMemory-offset-00679")
@given(allocation_size=allocation_sizes(65536), past=st.integers(0, 2**40))
def test_offset_at_or_past_the_end(device, memory_pool, host_visible_types, allocation_size, past):
    """offset drawn from allocationSize up to 2^40 past it."""
    with memory_pool.lease(host_visible_types[0], allocation_size) as mem:
        assert_refused(device.driver, mem.map_call(offset=allocation_size + past), {"VUID-vkMapMemory-offset-00679"})


@violates("VUID-vkMapMemory-size-00680")
@given(allocation_size=allocation_sizes(65536), data=st.data())
def test_size_zero(device, memory_pool, host_visible_types, allocation_size, data):
    """size 0 at any valid offset."""
    offset = data.draw(st.integers(0, allocation_size - 1), label="offset")
    with memory_pool.lease(host_visible_types[0], allocation_size) as mem:
        assert_refused(device.driver, mem.map_call(offset=offset, size=0), {"VUID-vkMapMemory-size-00680"})


@violates("VUID-vkMapMemory-size-00681")
@given(allocation_size=allocation_sizes(65536), data=st.data())
def test_size_past_the_end(device, memory_pool, host_visible_types, allocation_size, data):
    """size drawn from allocationSize - offset + 1 up to 2^64 - 2, at any valid offset."""
    offset = data.draw(st.integers(0, allocation_size - 1), label="offset")
    size = data.draw(st.integers(allocation_size - offset + 1, 2**64 - 2), label="size")
    with memory_pool.lease(host_visible_types[0], allocation_size) as mem:
        assert_refused(device.driver, mem.map_call(offset=offset, size=size), {"VUID-vkMapMemory-size-00681"})


@violates("VUID-vkMapMemory-memory-00682")
def test_memory_type_without_host_visible(device, physical_device):
    """Memory of each type without HOST_VISIBLE (NotSupported where every type has it)."""
    hidden = [t for t in physical_device.memory_types if not t.host_visible]
    require(bool(hidden), f"{physical_device.name} has no memory type without HOST_VISIBLE")
    for mt in hidden:
        mem = device.allocate(mt, SIZE)
        try:
            assert_refused(device.driver, mem.map_call(), {"VUID-vkMapMemory-memory-00682"})
        finally:
            device.free(mem)


@violates("VUID-vkUnmapMemory-memory-00689")
@given(was_mapped=st.booleans())
def test_unmap_of_memory_not_mapped(device, memory_pool, host_visible_types, was_mapped):
    """Memory never mapped, or already unmapped."""
    with memory_pool.lease(host_visible_types[0], SIZE) as mem:
        if was_mapped:
            assert_success(mem.map())
            mem.unmap()
        assert_refused(device.driver, mem.unmap_call(), {"VUID-vkUnmapMemory-memory-00689"})
