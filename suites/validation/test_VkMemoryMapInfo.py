"""VkMemoryMapInfo / VkMemoryMapInfoKHR: every rule of the structure, on both sides.

Valid side: arguments up to each rule's boundary reach the driver, which must return
VK_SUCCESS with an aligned pointer.  Invalid side: arguments that break exactly one
rule; the reference validator must name exactly that VUID and the driver is never
called.  Placed-map rules need VK_EXT_map_memory_placed (NotSupported elsewhere).
"""
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from fixtures.vk import abi
from fixtures.vk.address_space import reserved
from fixtures.vk.arguments import MAP2_ENTRIES, OtherStruct, PlacedInfo
from fixtures.rules.coverage import covers, require, require_entry, violates
from fixtures.judge.oracles import assert_aligned, assert_refused, assert_success, spelled
from fixtures.vk.state import OBJECTS
from fixtures.judge.strategies import allocation_sizes, valid_map_ranges

PLACED = abi.VK_MEMORY_MAP_PLACED_BIT_EXT
SIZE = 8192


def vuid(entry, rule):
    """``rule`` is the part after the structure name, e.g. 'offset-07959'."""
    return spelled(entry, f"VUID-VkMemoryMapInfoKHR-{rule}", f"VUID-VkMemoryMapInfo-{rule}")


entries = pytest.mark.parametrize("entry", MAP2_ENTRIES)


# -- valid side ------------------------------------------------------------------------


@covers(
    "VUID-VkMemoryMapInfoKHR-sType-sType", "VUID-VkMemoryMapInfo-sType-sType",
    "VUID-VkMemoryMapInfoKHR-pNext-pNext", "VUID-VkMemoryMapInfo-pNext-pNext",
    "VUID-VkMemoryMapInfoKHR-sType-unique", "VUID-VkMemoryMapInfo-sType-unique",
    "VUID-VkMemoryMapInfoKHR-flags-parameter", "VUID-VkMemoryMapInfo-flags-parameter",
    "VUID-VkMemoryMapInfoKHR-memory-parameter", "VUID-VkMemoryMapInfo-memory-parameter",
    "UNASSIGNED-VkMemoryMapInfo-memory-parent",
    "VUID-VkMemoryMapInfoKHR-memory-07958", "VUID-VkMemoryMapInfo-memory-07958",
    "VUID-VkMemoryMapInfoKHR-offset-07959", "VUID-VkMemoryMapInfo-offset-07959",
    "VUID-VkMemoryMapInfoKHR-size-07960", "VUID-VkMemoryMapInfo-size-07960",
    "VUID-VkMemoryMapInfoKHR-size-07961", "VUID-VkMemoryMapInfo-size-07961",
    "VUID-VkMemoryMapInfoKHR-memory-07962", "VUID-VkMemoryMapInfo-memory-07962",
    "VUID-VkMemoryMapInfoKHR-memory-07963", "VUID-VkMemoryMapInfo-memory-07963",
    "VUID-VkMemoryMapInfoKHR-flags-09575", "VUID-VkMemoryMapInfo-flags-09575",
    "GUARANTEE-map-success", "GUARANTEE-map-alignment",
)
@entries
@given(data=st.data(), allocation_size=allocation_sizes(), with_placed_info=st.booleans())
def test_boundaries_are_accepted(device, memory_pool, host_visible_types, entry, data, allocation_size, with_placed_info):
    """offset up to size - 1, size up to size - offset or VK_WHOLE_SIZE, flags 0, pNext NULL or a
    VkMemoryMapPlacedInfoEXT that flags 0 makes the driver ignore, every HOST_VISIBLE type."""
    require_entry(device, entry)
    mt = data.draw(st.sampled_from(host_visible_types), label="memory type")
    r = data.draw(valid_map_ranges(allocation_size), label="range")
    chain = (PlacedInfo(0),) if with_placed_info else ()
    with memory_pool.lease(mt, allocation_size) as mem:
        result = mem.map2(offset=r.offset, size=r.size, next=chain, entry=entry)
        assert_success(result)
        assert_aligned(result, device.limits_alignment)
        mem.unmap2()


@covers("UNASSIGNED-VkMemoryMapInfo-memory-parent", "VUID-VkMemoryMapInfoKHR-memory-parameter", "VUID-VkMemoryMapInfo-memory-parameter", "GUARANTEE-map-success")
def test_two_devices_map_their_own_memory_at_once(device, second_device, host_visible_types):
    """Memory of two devices, each mapped through its own device, both at once."""
    a = device.allocate(host_visible_types[0], SIZE)
    b = second_device.allocate(host_visible_types[0], SIZE)
    try:
        ra, rb = a.map2(), b.map2()
        assert_success(ra)
        assert_success(rb)
        assert ra.ptr != rb.ptr
        a.unmap2()
        b.unmap2()
    finally:
        device.free(a)
        second_device.free(b)


# -- invalid side: implicit rules ------------------------------------------------------------


@violates("VUID-VkMemoryMapInfoKHR-sType-sType", "VUID-VkMemoryMapInfo-sType-sType")
@entries
@given(stype=st.integers(-(2**31), 2**31 - 1).filter(lambda s: s != abi.VK_STRUCTURE_TYPE_MEMORY_MAP_INFO))
def test_wrong_stype(device, memory_pool, host_visible_types, entry, stype):
    require_entry(device, entry)
    with memory_pool.lease(host_visible_types[0], SIZE) as mem:
        call = mem.map2_call(entry=entry)
        call.info.sType = stype
        assert_refused(device.driver, call, {vuid(entry, "sType-sType")})


@violates("VUID-VkMemoryMapInfoKHR-pNext-pNext", "VUID-VkMemoryMapInfo-pNext-pNext")
@entries
@given(stype=st.integers(0, 2**31 - 1).filter(lambda s: s != abi.VK_STRUCTURE_TYPE_MEMORY_MAP_PLACED_INFO_EXT), placed_first=st.booleans())
def test_foreign_structure_in_pnext(device, memory_pool, host_visible_types, entry, stype, placed_first):
    require_entry(device, entry)
    chain = (PlacedInfo(0), OtherStruct(stype)) if placed_first else (OtherStruct(stype),)
    with memory_pool.lease(host_visible_types[0], SIZE) as mem:
        assert_refused(device.driver, mem.map2_call(next=chain, entry=entry), {vuid(entry, "pNext-pNext")})


@violates("VUID-VkMemoryMapInfoKHR-sType-unique", "VUID-VkMemoryMapInfo-sType-unique")
@entries
@given(copies=st.integers(2, 4))
def test_duplicate_structure_in_pnext(device, memory_pool, host_visible_types, entry, copies):
    require_entry(device, entry)
    with memory_pool.lease(host_visible_types[0], SIZE) as mem:
        assert_refused(device.driver, mem.map2_call(next=(PlacedInfo(0),) * copies, entry=entry), {vuid(entry, "sType-unique")})


@violates("VUID-VkMemoryMapInfoKHR-flags-parameter", "VUID-VkMemoryMapInfo-flags-parameter")
@entries
@given(high=st.integers(1, 2**31 - 1))
def test_undefined_flag_bits(device, memory_pool, host_visible_types, entry, high):
    require_entry(device, entry)
    with memory_pool.lease(host_visible_types[0], SIZE) as mem:
        assert_refused(device.driver, mem.map2_call(flags=high << 1, entry=entry), {vuid(entry, "flags-parameter")})


@violates("VUID-VkMemoryMapInfoKHR-memory-parameter", "VUID-VkMemoryMapInfo-memory-parameter")
@entries
@given(handle=st.integers(1, 2**64 - 1))
def test_handle_that_is_no_memory(device, memory_pool, host_visible_types, entry, handle):
    require_entry(device, entry)
    assume(handle not in OBJECTS.memories)  # a live handle would be valid: not this test's case
    with memory_pool.lease(host_visible_types[0], SIZE) as mem:
        call = mem.map2_call(entry=entry)
        call.info.memory = handle
        assert_refused(device.driver, call, {vuid(entry, "memory-parameter")})


@violates("VUID-VkMemoryMapInfoKHR-memory-parameter", "VUID-VkMemoryMapInfo-memory-parameter")
@entries
def test_freed_memory(device, host_visible_types, entry):
    require_entry(device, entry)
    mem = device.allocate(host_visible_types[0], SIZE)
    call = mem.map2_call(entry=entry)
    device.free(mem)
    assert_refused(device.driver, call, {vuid(entry, "memory-parameter")})


@violates("UNASSIGNED-VkMemoryMapInfo-memory-parent")
@entries
def test_memory_of_another_device(device, second_device, host_visible_types, entry):
    require_entry(device, entry)
    other = second_device.allocate(host_visible_types[0], SIZE)
    try:
        call = other.map2_call(entry=entry)
        call.device = device.state.handle
        assert_refused(device.driver, call, {"UNASSIGNED-VkMemoryMapInfo-memory-parent"})
    finally:
        second_device.free(other)


# -- invalid side: explicit rules ------------------------------------------------------------


@violates("VUID-VkMemoryMapInfoKHR-memory-07958", "VUID-VkMemoryMapInfo-memory-07958")
@entries
@given(first=st.sampled_from(["vkMapMemory2KHR", "vkMapMemory2", "vkMapMemory"]))
def test_memory_already_mapped(device, memory_pool, host_visible_types, entry, first):
    require_entry(device, entry)
    require_entry(device, first)
    with memory_pool.lease(host_visible_types[0], SIZE) as mem:
        assert_success(mem.map_with(first))
        try:
            assert_refused(device.driver, mem.map2_call(entry=entry), {vuid(entry, "memory-07958")})
        finally:
            mem.unmap2()


@violates("VUID-VkMemoryMapInfoKHR-offset-07959", "VUID-VkMemoryMapInfo-offset-07959")
@entries
@given(allocation_size=allocation_sizes(65536), past=st.integers(0, 2**63))
def test_offset_at_or_past_the_end(device, memory_pool, host_visible_types, entry, allocation_size, past):
    require_entry(device, entry)
    with memory_pool.lease(host_visible_types[0], allocation_size) as mem:
        assert_refused(device.driver, mem.map2_call(offset=allocation_size + past, entry=entry), {vuid(entry, "offset-07959")})


@violates("VUID-VkMemoryMapInfoKHR-size-07960", "VUID-VkMemoryMapInfo-size-07960")
@entries
@given(allocation_size=allocation_sizes(65536), data=st.data())
def test_size_zero(device, memory_pool, host_visible_types, entry, allocation_size, data):
    require_entry(device, entry)
    offset = data.draw(st.integers(0, allocation_size - 1), label="offset")
    with memory_pool.lease(host_visible_types[0], allocation_size) as mem:
        assert_refused(device.driver, mem.map2_call(offset=offset, size=0, entry=entry), {vuid(entry, "size-07960")})


@violates("VUID-VkMemoryMapInfoKHR-size-07961", "VUID-VkMemoryMapInfo-size-07961")
@entries
@given(allocation_size=allocation_sizes(65536), data=st.data())
def test_size_past_the_end(device, memory_pool, host_visible_types, entry, allocation_size, data):
    require_entry(device, entry)
    offset = data.draw(st.integers(0, allocation_size - 1), label="offset")
    size = data.draw(st.integers(allocation_size - offset + 1, 2**64 - 2), label="size")
    with memory_pool.lease(host_visible_types[0], allocation_size) as mem:
        assert_refused(device.driver, mem.map2_call(offset=offset, size=size, entry=entry), {vuid(entry, "size-07961")})


@violates("VUID-VkMemoryMapInfoKHR-memory-07962", "VUID-VkMemoryMapInfo-memory-07962")
@entries
def test_memory_type_without_host_visible(device, physical_device, entry):
    require_entry(device, entry)
    hidden = [t for t in physical_device.memory_types if not t.host_visible]
    require(bool(hidden), f"{physical_device.name} has no memory type without HOST_VISIBLE")
    for mt in hidden:
        mem = device.allocate(mt, SIZE)
        try:
            assert_refused(device.driver, mem.map2_call(entry=entry), {vuid(entry, "memory-07962")})
        finally:
            device.free(mem)


# -- placed maps (VK_EXT_map_memory_placed) ------------------------------------------------------


def _placed_call(mem, address, entry, **info):
    return mem.map2_call(flags=PLACED, next=(PlacedInfo(address),), entry=entry, **info)


@covers(
    "VUID-VkMemoryMapInfoKHR-flags-09569", "VUID-VkMemoryMapInfo-flags-09569",
    "VUID-VkMemoryMapInfoKHR-flags-09570", "VUID-VkMemoryMapInfo-flags-09570",
    "VUID-VkMemoryMapInfoKHR-flags-09571", "VUID-VkMemoryMapInfo-flags-09571",
    "VUID-VkMemoryMapInfoKHR-flags-09572", "VUID-VkMemoryMapInfo-flags-09572",
    "VUID-VkMemoryMapInfoKHR-flags-09574", "VUID-VkMemoryMapInfo-flags-09574",
    "VUID-VkMemoryMapInfoKHR-flags-09651", "VUID-VkMemoryMapInfo-flags-09651",
    "VUID-VkMemoryMapPlacedInfoEXT-sType-sType",
    "VUID-VkMemoryMapPlacedInfoEXT-pPlacedAddress-09577",
    "VUID-VkMemoryMapPlacedInfoEXT-pPlacedAddress-09578",
    "GUARANTEE-placed-address",
)
@entries
@pytest.mark.parametrize("size_form", ["VK_WHOLE_SIZE", "allocationSize"])
@given(pages=st.integers(1, 16))
def test_placed_map_at_the_boundaries(placed_device, host_visible_types, entry, size_form, pages):
    """offset 0, size VK_WHOLE_SIZE or exactly allocationSize (a multiple of minPlacedMemoryMapAlignment),
    pPlacedAddress aligned, next to (not overlapping) another live mapping."""
    require_entry(placed_device, entry)
    align = placed_device.placed.min_placed_memory_map_alignment
    size = pages * align
    mem = placed_device.allocate(host_visible_types[0], size)
    neighbour = placed_device.allocate(host_visible_types[0], align)
    try:
        assert_success(neighbour.map2())
        with reserved(size, align) as address:
            result = mem.map2(flags=PLACED, size=abi.VK_WHOLE_SIZE if size_form == "VK_WHOLE_SIZE" else size, next=(PlacedInfo(address),), entry=entry)
            assert_success(result)
            assert result.ptr == address, f"{result}: placed at 0x{result.ptr:x}, asked for 0x{address:x}"
            mem.unmap2()
        neighbour.unmap2()
    finally:
        placed_device.free(mem)
        placed_device.free(neighbour)


@covers("VUID-VkMemoryMapInfoKHR-flags-09573", "VUID-VkMemoryMapInfo-flags-09573")
@entries
def test_range_placed_map_at_an_aligned_offset(placed_device, host_visible_types, entry):
    require_entry(placed_device, entry)
    placed = placed_device.placed
    require(placed.memory_map_range_placed, "memoryMapRangePlaced")
    align = placed.min_placed_memory_map_alignment
    mem = placed_device.allocate(host_visible_types[0], 4 * align)
    try:
        with reserved(2 * align, align) as address:
            result = mem.map2(offset=align, size=2 * align, flags=PLACED, next=(PlacedInfo(address),), entry=entry)
            assert_success(result)
            assert result.ptr == address
            mem.unmap2()
    finally:
        placed_device.free(mem)


@violates("VUID-VkMemoryMapInfoKHR-flags-09569", "VUID-VkMemoryMapInfo-flags-09569")
@entries
def test_placed_flag_without_the_feature(device_without_placed, host_visible_types, entry):
    require_entry(device_without_placed, entry)
    mem = device_without_placed.allocate(host_visible_types[0], SIZE)
    try:
        assert_refused(device_without_placed.driver, _placed_call(mem, 1 << 40, entry), {vuid(entry, "flags-09569")})
    finally:
        device_without_placed.free(mem)


@violates("VUID-VkMemoryMapInfoKHR-flags-09570", "VUID-VkMemoryMapInfo-flags-09570")
@entries
@pytest.mark.parametrize("shape", ["no VkMemoryMapPlacedInfoEXT", "NULL pPlacedAddress"])
def test_placed_flag_without_an_address(placed_device, host_visible_types, entry, shape):
    require_entry(placed_device, entry)
    align = placed_device.placed.min_placed_memory_map_alignment
    mem = placed_device.allocate(host_visible_types[0], align)
    try:
        call = mem.map2_call(flags=PLACED, entry=entry) if shape.startswith("no") else _placed_call(mem, 0, entry)
        assert_refused(placed_device.driver, call, {vuid(entry, "flags-09570")})
    finally:
        placed_device.free(mem)


@violates("VUID-VkMemoryMapInfoKHR-flags-09571", "VUID-VkMemoryMapInfo-flags-09571", "VUID-VkMemoryMapInfoKHR-flags-09572", "VUID-VkMemoryMapInfo-flags-09572")
@entries
@given(pages=st.integers(2, 8), data=st.data())
def test_placed_range_without_range_placement(placed_device, host_visible_types, entry, pages, data):
    """Without memoryMapRangePlaced: a nonzero offset (09571) or a partial size (09572)."""
    require_entry(placed_device, entry)
    require(not placed_device.placed.memory_map_range_placed, "a device without memoryMapRangePlaced")
    align = placed_device.placed.min_placed_memory_map_alignment
    mem = placed_device.allocate(host_visible_types[0], pages * align)
    try:
        k = data.draw(st.integers(1, pages - 1), label="pages")
        assert_refused(placed_device.driver, _placed_call(mem, 1 << 40, entry, offset=k * align), {vuid(entry, "flags-09571")})
        assert_refused(placed_device.driver, _placed_call(mem, 1 << 40, entry, size=k * align), {vuid(entry, "flags-09572")})
    finally:
        placed_device.free(mem)


@violates("VUID-VkMemoryMapInfoKHR-flags-09573", "VUID-VkMemoryMapInfo-flags-09573")
@entries
def test_range_placed_offset_not_aligned(placed_device, host_visible_types, entry):
    require_entry(placed_device, entry)
    require(placed_device.placed.memory_map_range_placed, "memoryMapRangePlaced")
    align = placed_device.placed.min_placed_memory_map_alignment
    mem = placed_device.allocate(host_visible_types[0], 4 * align)
    try:
        assert_refused(placed_device.driver, _placed_call(mem, 1 << 40, entry, offset=64, size=align), {vuid(entry, "flags-09573")})
    finally:
        placed_device.free(mem)


@violates("VUID-VkMemoryMapInfoKHR-flags-09574", "VUID-VkMemoryMapInfo-flags-09574", "VUID-VkMemoryMapInfoKHR-flags-09651", "VUID-VkMemoryMapInfo-flags-09651")
@entries
@given(extra=st.integers(1, 4095))
def test_placed_size_not_aligned(placed_device, host_visible_types, entry, extra):
    """An allocation size that is no multiple of minPlacedMemoryMapAlignment, mapped whole by its size (09574) or VK_WHOLE_SIZE (09651)."""
    require_entry(placed_device, entry)
    align = placed_device.placed.min_placed_memory_map_alignment
    size = align + extra % align
    mem = placed_device.allocate(host_visible_types[0], size)
    try:
        assert_refused(placed_device.driver, _placed_call(mem, 1 << 40, entry, size=size), {vuid(entry, "flags-09574")})
        assert_refused(placed_device.driver, _placed_call(mem, 1 << 40, entry), {vuid(entry, "flags-09651")})
    finally:
        placed_device.free(mem)
