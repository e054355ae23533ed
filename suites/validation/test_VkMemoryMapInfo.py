"""VkMemoryMapInfo (and VkMemoryMapInfoKHR): every rule of the structure, on both sides, through
vkMapMemory2KHR and vkMapMemory2.

Each rule's boundary is a table of rows (ROWS, PLACED_ROWS), valid and invalid: a valid row
reaches the driver, which must map with VK_SUCCESS and an aligned pointer; an invalid row
breaks that rule alone, and the reference validator must name exactly it before the driver
is called.  The single-rule tests after each table draw values between and beyond the
boundaries.  Placed-map rules need VK_EXT_map_memory_placed (NotSupported elsewhere).
"""

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from vkmap_cts.fixtures.judge.boundaries import invalid, judged, last_byte, one_past, params, valid, whole
from vkmap_cts.fixtures.judge.oracles import assert_aligned, assert_refused, assert_success
from vkmap_cts.fixtures.judge.properties import placed_map
from vkmap_cts.fixtures.judge.strategies import allocation_sizes
from vkmap_cts.fixtures.rules.coverage import covers, require, require_entry, violates
from vkmap_cts.fixtures.vk import abi
from vkmap_cts.fixtures.vk.address_space import reserved
from vkmap_cts.fixtures.vk.arguments import MAP2_ENTRIES, OtherStruct, PlacedInfo
from vkmap_cts.fixtures.vk.state import OBJECTS

PLACED = abi.VK_MEMORY_MAP_PLACED_BIT_EXT
WHOLE = abi.VK_WHOLE_SIZE
SIZE = 8192
entries = pytest.mark.parametrize("entry", MAP2_ENTRIES)


ROWS = [
    valid("VUID-VkMemoryMapInfo-sType-sType", "sType = VK_STRUCTURE_TYPE_MEMORY_MAP_INFO"),
    invalid("VUID-VkMemoryMapInfo-sType-sType", "sType = VK_STRUCTURE_TYPE_MEMORY_UNMAP_INFO", sType=abi.VK_STRUCTURE_TYPE_MEMORY_UNMAP_INFO),
    valid("VUID-VkMemoryMapInfo-pNext-pNext", "pNext = NULL"),
    valid("VUID-VkMemoryMapInfo-pNext-pNext", "pNext = VkMemoryMapPlacedInfoEXT, ignored with flags 0", next=(PlacedInfo(0),)),
    invalid("VUID-VkMemoryMapInfo-pNext-pNext", "pNext = a structure that does not extend it", next=(OtherStruct(abi.VK_STRUCTURE_TYPE_MEMORY_UNMAP_INFO),)),
    valid("VUID-VkMemoryMapInfo-sType-unique", "one VkMemoryMapPlacedInfoEXT", next=(PlacedInfo(0),)),
    invalid("VUID-VkMemoryMapInfo-sType-unique", "two VkMemoryMapPlacedInfoEXT", next=(PlacedInfo(0), PlacedInfo(0))),
    valid("VUID-VkMemoryMapInfo-flags-parameter", "flags = 0"),
    invalid("VUID-VkMemoryMapInfo-flags-parameter", "flags = 0x2, the lowest undefined bit", flags=0x2),
    invalid("VUID-VkMemoryMapInfo-flags-parameter", "flags = 0x80000000, the highest bit", flags=1 << 31),
    valid("VUID-VkMemoryMapInfo-memory-parameter", "memory = a live VkDeviceMemory"),
    invalid("VUID-VkMemoryMapInfo-memory-parameter", "memory = VK_NULL_HANDLE", memory=0),
    valid("UNASSIGNED-VkMemoryMapInfo-memory-parent", "memory allocated from the device of the call"),
    valid("VUID-VkMemoryMapInfo-memory-07958", "memory not host mapped"),
    valid("VUID-VkMemoryMapInfo-offset-07959", "offset = 0", offset=0),
    valid("VUID-VkMemoryMapInfo-offset-07959", "offset = allocationSize - 1", offset=last_byte),
    invalid("VUID-VkMemoryMapInfo-offset-07959", "offset = allocationSize", offset=whole),
    invalid("VUID-VkMemoryMapInfo-offset-07959", "offset = 2^64 - 1", offset=2**64 - 1),
    valid("VUID-VkMemoryMapInfo-size-07960", "size = 1", size=1),
    valid("VUID-VkMemoryMapInfo-size-07960", "size = VK_WHOLE_SIZE", size=WHOLE),
    invalid("VUID-VkMemoryMapInfo-size-07960", "size = 0", size=0),
    invalid("VUID-VkMemoryMapInfo-size-07960", "size = 0 at offset allocationSize - 1", offset=last_byte, size=0),
    valid("VUID-VkMemoryMapInfo-size-07961", "size = allocationSize", size=whole),
    valid("VUID-VkMemoryMapInfo-size-07961", "size = 1 at offset allocationSize - 1", offset=last_byte, size=1),
    valid("VUID-VkMemoryMapInfo-size-07961", "size = VK_WHOLE_SIZE at offset allocationSize - 1", offset=last_byte, size=WHOLE),
    invalid("VUID-VkMemoryMapInfo-size-07961", "size = allocationSize + 1", size=one_past),
    invalid("VUID-VkMemoryMapInfo-size-07961", "size = 2 at offset allocationSize - 1", offset=last_byte, size=2),
    invalid("VUID-VkMemoryMapInfo-size-07961", "size = 2^64 - 2", size=2**64 - 2),
    valid("VUID-VkMemoryMapInfo-memory-07962", "memory of a HOST_VISIBLE type"),
    valid("VUID-VkMemoryMapInfo-memory-07963", "memory allocated with one instance"),
]


@entries
@pytest.mark.parametrize("row", params(ROWS))
@given(allocation_size=allocation_sizes(), data=st.data())
def test_boundary_row(device, memory_pool, host_visible_types, entry, row, allocation_size, data):
    """A valid row maps with VK_SUCCESS and an aligned pointer on any HOST_VISIBLE type; an invalid row is refused with exactly its VUID."""
    require_entry(device, entry)
    mt = data.draw(st.sampled_from(host_visible_types), label="memory type")
    with memory_pool.lease(mt, allocation_size) as mem:
        call = row.call(mem.map2_call, allocation_size, entry=entry)
        if not row.valid:
            assert_refused(device.driver, call, {row.rule})
            return
        with judged(row):
            result = device.driver.map2(call)
            assert_success(result)
            assert_aligned(result, device.limits_alignment)
        mem.unmap2()


BETWEEN = {
    "VUID-VkMemoryMapInfo-offset-07959": lambda a: st.tuples(st.integers(0, a - 1), st.just(WHOLE)),
    "VUID-VkMemoryMapInfo-size-07960": lambda a: st.integers(0, a - 1).flatmap(lambda o: st.tuples(st.just(o), st.integers(1, a - o))),
    "VUID-VkMemoryMapInfo-size-07961": lambda a: st.integers(0, a - 1).flatmap(lambda o: st.tuples(st.just(o), st.integers(max(1, a - o - 64), a - o))),
}


@entries
@pytest.mark.parametrize("rule", [pytest.param(r, id=r.split("-", 2)[2], marks=covers(r)) for r in BETWEEN])
@given(allocation_size=allocation_sizes(), data=st.data())
def test_valid_range_between_the_boundaries(device, memory_pool, host_visible_types, entry, rule, allocation_size, data):
    """Offsets and sizes drawn inside the rule's valid region map with VK_SUCCESS and an aligned pointer."""
    require_entry(device, entry)
    offset, size = data.draw(BETWEEN[rule](allocation_size), label="offset, size")
    with memory_pool.lease(data.draw(st.sampled_from(host_visible_types), label="memory type"), allocation_size) as mem:
        result = mem.map2(offset=offset, size=size, entry=entry)
        assert_success(result)
        assert_aligned(result, device.limits_alignment)
        mem.unmap2()


@covers("UNASSIGNED-VkMemoryMapInfo-memory-parent")
@entries
def test_two_devices_map_their_own_memory_at_once(device, second_device, host_visible_types, entry):
    """Memory of two devices, each mapped through its own device, both at once."""
    require_entry(device, entry)
    a = device.allocate(host_visible_types[0], SIZE)
    b = second_device.allocate(host_visible_types[0], SIZE)
    try:
        ra, rb = a.map2(entry=entry), b.map2(entry=entry)
        assert_success(ra)
        assert_success(rb)
        assert ra.ptr != rb.ptr, f"UNASSIGNED-VkMemoryMapInfo-memory-parent: two live mappings share the address 0x{ra.ptr:x}"
        a.unmap2()
        b.unmap2()
    finally:
        device.free(a)
        second_device.free(b)


# -- invalid side, between and beyond the boundaries ------------------------------------------


@violates("VUID-VkMemoryMapInfo-sType-sType")
@entries
@given(stype=st.integers(-(2**31), 2**31 - 1).filter(lambda s: s != abi.VK_STRUCTURE_TYPE_MEMORY_MAP_INFO))
def test_wrong_stype(device, memory_pool, host_visible_types, entry, stype):
    """Any sType other than VK_STRUCTURE_TYPE_MEMORY_MAP_INFO."""
    require_entry(device, entry)
    with memory_pool.lease(host_visible_types[0], SIZE) as mem:
        call = mem.map2_call(entry=entry)
        call.info.sType = stype
        assert_refused(device.driver, call, {"VUID-VkMemoryMapInfo-sType-sType"})


@violates("VUID-VkMemoryMapInfo-pNext-pNext")
@entries
@given(stype=st.integers(0, 2**31 - 1).filter(lambda s: s != abi.VK_STRUCTURE_TYPE_MEMORY_MAP_PLACED_INFO_EXT), placed_first=st.booleans())
def test_foreign_structure_in_pnext(device, memory_pool, host_visible_types, entry, stype, placed_first):
    """A structure that does not extend VkMemoryMapInfo, alone or after a VkMemoryMapPlacedInfoEXT."""
    require_entry(device, entry)
    chain = (PlacedInfo(0), OtherStruct(stype)) if placed_first else (OtherStruct(stype),)
    with memory_pool.lease(host_visible_types[0], SIZE) as mem:
        assert_refused(device.driver, mem.map2_call(next=chain, entry=entry), {"VUID-VkMemoryMapInfo-pNext-pNext"})


@violates("VUID-VkMemoryMapInfo-sType-unique")
@entries
@given(copies=st.integers(2, 4))
def test_duplicate_structure_in_pnext(device, memory_pool, host_visible_types, entry, copies):
    """Two to four VkMemoryMapPlacedInfoEXT in one chain."""
    require_entry(device, entry)
    with memory_pool.lease(host_visible_types[0], SIZE) as mem:
        assert_refused(device.driver, mem.map2_call(next=(PlacedInfo(0),) * copies, entry=entry), {"VUID-VkMemoryMapInfo-sType-unique"})


@violates("VUID-VkMemoryMapInfo-flags-parameter")
@entries
@given(high=st.integers(1, 2**31 - 1))
def test_undefined_flag_bits(device, memory_pool, host_visible_types, entry, high):
    """flags with any bit outside VkMemoryMapFlagBits."""
    require_entry(device, entry)
    with memory_pool.lease(host_visible_types[0], SIZE) as mem:
        assert_refused(device.driver, mem.map2_call(flags=high << 1, entry=entry), {"VUID-VkMemoryMapInfo-flags-parameter"})


@violates("VUID-VkMemoryMapInfo-memory-parameter")
@entries
@given(handle=st.integers(1, 2**64 - 1))
def test_handle_that_is_no_memory(device, memory_pool, host_visible_types, entry, handle):
    """A memory handle that names no live VkDeviceMemory."""
    require_entry(device, entry)
    assume(handle not in OBJECTS.memories)  # a live handle would be valid: not this test's case
    with memory_pool.lease(host_visible_types[0], SIZE) as mem:
        call = mem.map2_call(entry=entry)
        call.info.memory = handle
        assert_refused(device.driver, call, {"VUID-VkMemoryMapInfo-memory-parameter"})


@violates("VUID-VkMemoryMapInfo-memory-parameter")
@entries
def test_freed_memory(device, host_visible_types, entry):
    """The handle of a memory object that was freed."""
    require_entry(device, entry)
    mem = device.allocate(host_visible_types[0], SIZE)
    call = mem.map2_call(entry=entry)
    device.free(mem)
    assert_refused(device.driver, call, {"VUID-VkMemoryMapInfo-memory-parameter"})


@violates("UNASSIGNED-VkMemoryMapInfo-memory-parent")
@entries
def test_memory_of_another_device(device, second_device, host_visible_types, entry):
    """Memory allocated from another device than the one the call is made on."""
    require_entry(device, entry)
    other = second_device.allocate(host_visible_types[0], SIZE)
    try:
        call = other.map2_call(entry=entry)
        call.device = device.state.handle
        assert_refused(device.driver, call, {"UNASSIGNED-VkMemoryMapInfo-memory-parent"})
    finally:
        second_device.free(other)


@violates("VUID-VkMemoryMapInfo-memory-07958")
@entries
@given(first=st.sampled_from(["vkMapMemory2KHR", "vkMapMemory2", "vkMapMemory"]))
def test_memory_already_mapped(device, memory_pool, host_visible_types, entry, first):
    """Memory already mapped by any of the three map entry points."""
    require_entry(device, entry)
    require_entry(device, first)
    with memory_pool.lease(host_visible_types[0], SIZE) as mem:
        assert_success(mem.map_with(first))
        try:
            assert_refused(device.driver, mem.map2_call(entry=entry), {"VUID-VkMemoryMapInfo-memory-07958"})
        finally:
            mem.unmap2()


@violates("VUID-VkMemoryMapInfo-offset-07959")
@entries
@given(allocation_size=allocation_sizes(65536), past=st.integers(0, 2**63))
def test_offset_at_or_past_the_end(device, memory_pool, host_visible_types, entry, allocation_size, past):
    """offset drawn from allocationSize up to 2^63 past it."""
    require_entry(device, entry)
    with memory_pool.lease(host_visible_types[0], allocation_size) as mem:
        assert_refused(device.driver, mem.map2_call(offset=allocation_size + past, entry=entry), {"VUID-VkMemoryMapInfo-offset-07959"})


@violates("VUID-VkMemoryMapInfo-size-07960")
@entries
@given(allocation_size=allocation_sizes(65536), data=st.data())
def test_size_zero(device, memory_pool, host_visible_types, entry, allocation_size, data):
    """size 0 at any valid offset."""
    require_entry(device, entry)
    offset = data.draw(st.integers(0, allocation_size - 1), label="offset")
    with memory_pool.lease(host_visible_types[0], allocation_size) as mem:
        assert_refused(device.driver, mem.map2_call(offset=offset, size=0, entry=entry), {"VUID-VkMemoryMapInfo-size-07960"})


@violates("VUID-VkMemoryMapInfo-size-07961")
@entries
@given(allocation_size=allocation_sizes(65536), data=st.data())
def test_size_past_the_end(device, memory_pool, host_visible_types, entry, allocation_size, data):
    """size drawn from allocationSize - offset + 1 up to 2^64 - 2, at any valid offset."""
    require_entry(device, entry)
    offset = data.draw(st.integers(0, allocation_size - 1), label="offset")
    size = data.draw(st.integers(allocation_size - offset + 1, 2**64 - 2), label="size")
    with memory_pool.lease(host_visible_types[0], allocation_size) as mem:
        assert_refused(device.driver, mem.map2_call(offset=offset, size=size, entry=entry), {"VUID-VkMemoryMapInfo-size-07961"})


@violates("VUID-VkMemoryMapInfo-memory-07962")
@entries
def test_memory_type_without_host_visible(device, physical_device, entry):
    """Memory of each type without HOST_VISIBLE (NotSupported where every type has it)."""
    require_entry(device, entry)
    hidden = [t for t in physical_device.memory_types if not t.host_visible]
    require(bool(hidden), f"{physical_device.name} has no memory type without HOST_VISIBLE")
    for mt in hidden:
        mem = device.allocate(mt, SIZE)
        try:
            assert_refused(device.driver, mem.map2_call(entry=entry), {"VUID-VkMemoryMapInfo-memory-07962"})
        finally:
            device.free(mem)


# -- placed maps (VK_EXT_map_memory_placed) ------------------------------------------------------
# Arguments given as functions take minPlacedMemoryMapAlignment; every row maps whole pages at an
# aligned, reserved address, next to another live mapping.

PLACED_ROWS = [
    valid("VUID-VkMemoryMapInfo-flags-09569", "VK_MEMORY_MAP_PLACED_BIT_EXT with memoryMapPlaced enabled"),
    valid("VUID-VkMemoryMapInfo-flags-09570", "a VkMemoryMapPlacedInfoEXT with a non-NULL pPlacedAddress"),
    valid("VUID-VkMemoryMapInfo-flags-09571", "offset = 0"),
    valid("VUID-VkMemoryMapInfo-flags-09572", "size = VK_WHOLE_SIZE", size=WHOLE),
    valid("VUID-VkMemoryMapInfo-flags-09572", "size = allocationSize", size="allocationSize"),
    valid("VUID-VkMemoryMapInfo-flags-09574", "size = allocationSize, a multiple of minPlacedMemoryMapAlignment", size="allocationSize"),
    valid("VUID-VkMemoryMapInfo-flags-09651", "size = VK_WHOLE_SIZE of an allocation that is a multiple of minPlacedMemoryMapAlignment", size=WHOLE),
    valid("VUID-VkMemoryMapInfo-flags-09575", "memory not imported from host memory"),
    valid("VUID-VkMemoryMapPlacedInfoEXT-sType-sType", "sType = VK_STRUCTURE_TYPE_MEMORY_MAP_PLACED_INFO_EXT"),
    valid("VUID-VkMemoryMapPlacedInfoEXT-pPlacedAddress-09577", "pPlacedAddress a multiple of minPlacedMemoryMapAlignment"),
    valid("VUID-VkMemoryMapPlacedInfoEXT-pPlacedAddress-09578", "the placed range ends where another live mapping's reservation begins"),
]


@entries
@pytest.mark.parametrize("row", params(PLACED_ROWS))
@given(pages=st.integers(1, 16))
def test_placed_boundary_row(placed_device, host_visible_types, entry, row, pages):
    """A placed map of whole pages at an aligned reserved address, next to another live mapping, maps there (or is declined, as the spec allows)."""
    require_entry(placed_device, entry)
    align = placed_device.placed.min_placed_memory_map_alignment
    size = pages * align
    mem = placed_device.allocate(host_visible_types[0], size)
    neighbour = placed_device.allocate(host_visible_types[0], align)
    try:
        assert_success(neighbour.map2())
        with reserved(size, align) as address:
            with judged(row):
                result = placed_map(mem, address, entry, size=size if row.args.get("size") == "allocationSize" else WHOLE)
            if result is not None:
                mem.unmap2()
        neighbour.unmap2()
    finally:
        placed_device.free(mem)
        placed_device.free(neighbour)


@covers("VUID-VkMemoryMapInfo-flags-09573")
@entries
def test_range_placed_map_at_an_aligned_offset(placed_device, host_visible_types, entry):
    """With memoryMapRangePlaced: a placed map at offset minPlacedMemoryMapAlignment of two pages maps there."""
    require_entry(placed_device, entry)
    placed = placed_device.placed
    require(placed.memory_map_range_placed, "memoryMapRangePlaced")
    align = placed.min_placed_memory_map_alignment
    mem = placed_device.allocate(host_visible_types[0], 4 * align)
    try:
        with reserved(2 * align, align) as address:
            if placed_map(mem, address, entry, offset=align, size=2 * align) is not None:
                mem.unmap2()
    finally:
        placed_device.free(mem)


def _placed_call(mem, address, entry, **info):
    return mem.map2_call(flags=PLACED, next=(PlacedInfo(address),), entry=entry, **info)


@violates("VUID-VkMemoryMapInfo-flags-09569")
@entries
def test_placed_flag_without_the_feature(device_without_placed, host_visible_types, entry):
    """VK_MEMORY_MAP_PLACED_BIT_EXT on a device without memoryMapPlaced enabled."""
    require_entry(device_without_placed, entry)
    mem = device_without_placed.allocate(host_visible_types[0], SIZE)
    try:
        assert_refused(device_without_placed.driver, _placed_call(mem, 1 << 40, entry), {"VUID-VkMemoryMapInfo-flags-09569"})
    finally:
        device_without_placed.free(mem)


@violates("VUID-VkMemoryMapInfo-flags-09570")
@entries
@pytest.mark.parametrize("shape", ["no VkMemoryMapPlacedInfoEXT", "NULL pPlacedAddress"])
def test_placed_flag_without_an_address(placed_device, host_visible_types, entry, shape):
    """VK_MEMORY_MAP_PLACED_BIT_EXT with no VkMemoryMapPlacedInfoEXT, or with a NULL pPlacedAddress."""
    require_entry(placed_device, entry)
    align = placed_device.placed.min_placed_memory_map_alignment
    mem = placed_device.allocate(host_visible_types[0], align)
    try:
        call = mem.map2_call(flags=PLACED, entry=entry) if shape.startswith("no") else _placed_call(mem, 0, entry)
        assert_refused(placed_device.driver, call, {"VUID-VkMemoryMapInfo-flags-09570"})
    finally:
        placed_device.free(mem)


# Arguments given as functions take (pages, k, align): allocations of ``pages`` pages (2 to 8), k of them mapped.
PLACED_INVALID_ROWS = [
    invalid("VUID-VkMemoryMapInfo-flags-09571", "offset = k pages without memoryMapRangePlaced", offset=lambda pa: pa[1] * pa[2]),
    invalid("VUID-VkMemoryMapInfo-flags-09572", "size = k pages, less than allocationSize, without memoryMapRangePlaced", size=lambda pa: pa[1] * pa[2]),
]


@entries
@pytest.mark.parametrize("row", params(PLACED_INVALID_ROWS))
@given(pages=st.integers(2, 8), data=st.data())
def test_placed_range_without_range_placement(placed_device, host_visible_types, entry, row, pages, data):
    """Without memoryMapRangePlaced, a placed map of part of the allocation."""
    require_entry(placed_device, entry)
    require(not placed_device.placed.memory_map_range_placed, "a device without memoryMapRangePlaced")
    align = placed_device.placed.min_placed_memory_map_alignment
    mem = placed_device.allocate(host_visible_types[0], pages * align)
    try:
        k = data.draw(st.integers(1, pages - 1), label="k pages")
        assert_refused(placed_device.driver, _placed_call(mem, 1 << 40, entry, **row.arguments((pages, k, align))), {row.rule})
    finally:
        placed_device.free(mem)


@violates("VUID-VkMemoryMapInfo-flags-09573")
@entries
def test_range_placed_offset_not_aligned(placed_device, host_visible_types, entry):
    """With memoryMapRangePlaced, a placed map at offset 64."""
    require_entry(placed_device, entry)
    require(placed_device.placed.memory_map_range_placed, "memoryMapRangePlaced")
    align = placed_device.placed.min_placed_memory_map_alignment
    mem = placed_device.allocate(host_visible_types[0], 4 * align)
    try:
        assert_refused(placed_device.driver, _placed_call(mem, 1 << 40, entry, offset=64, size=align), {"VUID-VkMemoryMapInfo-flags-09573"})
    finally:
        placed_device.free(mem)


@violates("VUID-VkMemoryMapInfo-flags-09575")
@entries
def test_placed_map_of_imported_host_memory(placed_device, import_host_memory, entry):
    """A placed map of memory imported from a host allocation (VK_EXTERNAL_MEMORY_HANDLE_TYPE_HOST_ALLOCATION_BIT_EXT)."""
    require_entry(placed_device, entry)
    mem = import_host_memory(placed_device.placed.min_placed_memory_map_alignment)
    try:
        assert_refused(placed_device.driver, _placed_call(mem, 1 << 40, entry), {"VUID-VkMemoryMapInfo-flags-09575"})
    finally:
        placed_device.free(mem)


PLACED_SIZE_ROWS = [
    invalid("VUID-VkMemoryMapInfo-flags-09574", "size = allocationSize, not a multiple of minPlacedMemoryMapAlignment", size="allocationSize"),
    invalid("VUID-VkMemoryMapInfo-flags-09651", "size = VK_WHOLE_SIZE of an allocation that is not a multiple of minPlacedMemoryMapAlignment", size=WHOLE),
]


@entries
@pytest.mark.parametrize("row", params(PLACED_SIZE_ROWS))
@given(extra=st.integers(1, 4095))
def test_placed_size_not_aligned(placed_device, host_visible_types, entry, row, extra):
    """A whole placed map of an allocation of one page plus ``extra`` bytes."""
    require_entry(placed_device, entry)
    align = placed_device.placed.min_placed_memory_map_alignment
    size = align + extra % align
    assume(size % align)
    mem = placed_device.allocate(host_visible_types[0], size)
    try:
        map_size = size if row.args["size"] == "allocationSize" else WHOLE
        assert_refused(placed_device.driver, _placed_call(mem, 1 << 40, entry, size=map_size), {row.rule})
    finally:
        placed_device.free(mem)
