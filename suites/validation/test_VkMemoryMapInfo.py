"""VkMemoryMapInfo (and VkMemoryMapInfoKHR): every rule of the structure, on both sides, through
vkMapMemory2KHR and vkMapMemory2.

Each rule's boundary is a table of rows (ROWS, PLACED_ROWS), valid and invalid: a valid row
reaches the driver, which must map with VK_SUCCESS and an aligned pointer; an invalid row
breaks that rule alone, and the reference validator must name exactly it before the driver
is called.  The drawn rows (DRAWN) draw values between and beyond the boundaries, each
breaking one rule.  Placed-map rules need VK_EXT_map_memory_placed (NotSupported elsewhere).
"""

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from vkmap_cts.fixtures.judge.boundaries import (
    beyond,
    drawn_range_rows,
    failure_names_row,
    flags_rows,
    invalid,
    map_row,
    memory_rows,
    no_live_handle,
    params,
    range_rows,
    stype_rows,
    undefined_flag_bits,
    valid,
)
from vkmap_cts.fixtures.judge.oracles import assert_aligned, assert_refused, assert_success
from vkmap_cts.fixtures.judge.properties.placed_maps import placed_map
from vkmap_cts.fixtures.judge.strategies import allocation_sizes
from vkmap_cts.fixtures.rules.coverage import covers, entry_points, needs_entry, require, violates
from vkmap_cts.fixtures.vk import abi
from vkmap_cts.fixtures.vk.address_space import reserved
from vkmap_cts.fixtures.vk.arguments import MAP2_ENTRIES, MAP_ENTRIES, OtherStruct, PlacedInfo
from vkmap_cts.fixtures.vk.errors import RuleBroken
from vkmap_cts.fixtures.vk.recording import PROCESS

PLACED = abi.VK_MEMORY_MAP_PLACED_BIT_EXT
SIZE = 8192
entries = entry_points("entry", MAP2_ENTRIES)


ROWS = [
    *stype_rows(
        "VUID-VkMemoryMapInfo-sType-sType", "VK_STRUCTURE_TYPE_MEMORY_MAP_INFO", "VK_STRUCTURE_TYPE_MEMORY_UNMAP_INFO"
    ),
    valid("VUID-VkMemoryMapInfo-pNext-pNext", "pNext = NULL"),
    valid(
        "VUID-VkMemoryMapInfo-pNext-pNext",
        "pNext = VkMemoryMapPlacedInfoEXT, ignored with flags 0",
        next=(PlacedInfo(0),),
    ),
    invalid(
        "VUID-VkMemoryMapInfo-pNext-pNext",
        "pNext = a structure that does not extend it",
        next=(OtherStruct(abi.VK_STRUCTURE_TYPE_MEMORY_UNMAP_INFO),),
    ),
    valid("VUID-VkMemoryMapInfo-sType-unique", "one VkMemoryMapPlacedInfoEXT", next=(PlacedInfo(0),)),
    invalid("VUID-VkMemoryMapInfo-sType-unique", "two VkMemoryMapPlacedInfoEXT", next=(PlacedInfo(0), PlacedInfo(0))),
    *flags_rows("VUID-VkMemoryMapInfo-flags-parameter"),
    *memory_rows("VUID-VkMemoryMapInfo-memory-parameter", "UNASSIGNED-VkMemoryMapInfo-memory-parent"),
    valid("VUID-VkMemoryMapInfo-memory-07958", "memory not host mapped"),
    *range_rows(
        "VUID-VkMemoryMapInfo-offset-07959", "VUID-VkMemoryMapInfo-size-07960", "VUID-VkMemoryMapInfo-size-07961"
    ),
    valid("VUID-VkMemoryMapInfo-memory-07962", "memory of a HOST_VISIBLE type"),
    valid("VUID-VkMemoryMapInfo-memory-07963", "memory allocated with one instance"),
]


@entries
@pytest.mark.parametrize("row", params(ROWS))
@given(allocation_size=allocation_sizes(), data=st.data())
def test_boundary_row(device, memory_pool, host_visible_types, entry, row, allocation_size, data):
    """A valid row maps with VK_SUCCESS and an aligned pointer on any HOST_VISIBLE type; an invalid row is refused with
    exactly its VUID."""
    mt = data.draw(st.sampled_from(host_visible_types), label="memory type")
    with memory_pool.lease(mt, allocation_size) as mem:
        if map_row(device, row, row.call(mem.map2_call, allocation_size, entry=entry), device.driver.map2):
            mem.unmap2()


BETWEEN = {
    "VUID-VkMemoryMapInfo-offset-07959": lambda a: st.tuples(st.integers(0, a - 1), st.just(abi.VK_WHOLE_SIZE)),
    "VUID-VkMemoryMapInfo-size-07960": lambda a: st.integers(0, a - 1).flatmap(
        lambda o: st.tuples(st.just(o), st.integers(1, a - o))
    ),
    "VUID-VkMemoryMapInfo-size-07961": lambda a: st.integers(0, a - 1).flatmap(
        lambda o: st.tuples(st.just(o), st.integers(max(1, a - o - 64), a - o))
    ),
}


@entries
@pytest.mark.parametrize("rule", [pytest.param(r, id=r.split("-", 2)[2], marks=covers(r)) for r in BETWEEN])
@given(allocation_size=allocation_sizes(), data=st.data())
def test_valid_range_between_the_boundaries(
    device, memory_pool, host_visible_types, entry, rule, allocation_size, data
):
    """Offsets and sizes drawn inside the rule's valid region map with VK_SUCCESS and an aligned pointer."""
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
    with (
        device.allocation(host_visible_types[0], SIZE) as a,
        second_device.allocation(host_visible_types[0], SIZE) as b,
    ):
        ra, rb = a.map2(entry=entry), b.map2(entry=entry)
        assert_success(ra)
        assert_success(rb)
        if ra.ptr == rb.ptr:
            raise RuleBroken(
                "UNASSIGNED-VkMemoryMapInfo-memory-parent", f"two live mappings share the address 0x{ra.ptr:x}"
            )
        a.unmap2()
        b.unmap2()


# -- invalid side, between and beyond the boundaries ------------------------------------------


def _foreign_chains(allocation_size, drawn):
    """A structure that does not extend VkMemoryMapInfo, alone or after a VkMemoryMapPlacedInfoEXT."""
    foreign = (
        st.integers(0, 2**31 - 1)
        .filter(lambda s: s != abi.VK_STRUCTURE_TYPE_MEMORY_MAP_PLACED_INFO_EXT)
        .map(OtherStruct)
    )
    return st.tuples(st.booleans(), foreign).map(lambda t: (PlacedInfo(0), t[1]) if t[0] else (t[1],))


DRAWN = [
    beyond(
        "VUID-VkMemoryMapInfo-sType-sType",
        "any sType but VK_STRUCTURE_TYPE_MEMORY_MAP_INFO",
        sType=st.integers(-(2**31), 2**31 - 1).filter(lambda s: s != abi.VK_STRUCTURE_TYPE_MEMORY_MAP_INFO),
    ),
    beyond(
        "VUID-VkMemoryMapInfo-pNext-pNext",
        "a structure that does not extend it, alone or after a VkMemoryMapPlacedInfoEXT",
        next=_foreign_chains,
    ),
    beyond(
        "VUID-VkMemoryMapInfo-sType-unique",
        "two to four VkMemoryMapPlacedInfoEXT",
        next=st.integers(2, 4).map(lambda n: (PlacedInfo(0),) * n),
    ),
    undefined_flag_bits("VUID-VkMemoryMapInfo-flags-parameter", "VkMemoryMapFlagBits"),
    no_live_handle("VUID-VkMemoryMapInfo-memory-parameter", "memory", PROCESS.objects.memories, "VkDeviceMemory"),
    *drawn_range_rows(
        "VUID-VkMemoryMapInfo-offset-07959", "VUID-VkMemoryMapInfo-size-07960", "VUID-VkMemoryMapInfo-size-07961"
    ),
]


@entries
@pytest.mark.parametrize("row", params(DRAWN))
@given(allocation_size=allocation_sizes(65536), data=st.data())
def test_drawn_violation(device, memory_pool, host_visible_types, entry, row, allocation_size, data):
    """Values drawn beyond the rule's boundary, each breaking it alone, are refused with exactly its VUID."""
    with memory_pool.lease(host_visible_types[0], allocation_size) as mem:
        assert_refused(
            device.driver,
            row.call(mem.map2_call, allocation_size, entry=entry, **row.draw(data, allocation_size)),
            {row.rule},
        )


@violates("VUID-VkMemoryMapInfo-memory-parameter")
@entries
def test_freed_memory(device, host_visible_types, entry):
    """The handle of a memory object that was freed."""
    mem = device.allocate(host_visible_types[0], SIZE)
    call = mem.map2_call(entry=entry)
    device.free(mem)
    assert_refused(device.driver, call, {"VUID-VkMemoryMapInfo-memory-parameter"})


@violates("UNASSIGNED-VkMemoryMapInfo-memory-parent")
@entries
def test_memory_of_another_device(device, second_device, host_visible_types, entry):
    """Memory allocated from another device than the one the call is made on."""
    with second_device.allocation(host_visible_types[0], SIZE) as other:
        call = other.map2_call(entry=entry)
        call.device = device.state.handle
        assert_refused(device.driver, call, {"UNASSIGNED-VkMemoryMapInfo-memory-parent"})


@violates("VUID-VkMemoryMapInfo-memory-07958")
@entries
@needs_entry(*MAP_ENTRIES)
@given(first=st.sampled_from(MAP_ENTRIES))
def test_memory_already_mapped(device, memory_pool, host_visible_types, entry, first):
    """Memory already mapped by any of the three map entry points."""
    with memory_pool.lease(host_visible_types[0], SIZE) as mem:
        assert_success(mem.map_with(first))
        try:
            assert_refused(device.driver, mem.map2_call(entry=entry), {"VUID-VkMemoryMapInfo-memory-07958"})
        finally:
            mem.unmap2()


@violates("VUID-VkMemoryMapInfo-memory-07962")
@entries
def test_memory_type_without_host_visible(device, physical_device, entry):
    """Memory of each type without HOST_VISIBLE (NotSupported where every type has it)."""
    hidden = [t for t in physical_device.memory_types if not t.host_visible]
    require(bool(hidden), f"{physical_device.name} has no memory type without HOST_VISIBLE")
    for mt in hidden:
        with device.allocation(mt, SIZE) as mem:
            assert_refused(device.driver, mem.map2_call(entry=entry), {"VUID-VkMemoryMapInfo-memory-07962"})


# -- placed maps (VK_EXT_map_memory_placed) ------------------------------------------------------
# Arguments given as functions take minPlacedMemoryMapAlignment; every row maps whole pages at an
# aligned, reserved address, next to another live mapping.

PLACED_ROWS = [
    valid("VUID-VkMemoryMapInfo-flags-09569", "VK_MEMORY_MAP_PLACED_BIT_EXT with memoryMapPlaced enabled"),
    valid("VUID-VkMemoryMapInfo-flags-09570", "a VkMemoryMapPlacedInfoEXT with a non-NULL pPlacedAddress"),
    valid("VUID-VkMemoryMapInfo-flags-09571", "offset = 0"),
    valid("VUID-VkMemoryMapInfo-flags-09572", "size = VK_WHOLE_SIZE", size=abi.VK_WHOLE_SIZE),
    valid("VUID-VkMemoryMapInfo-flags-09572", "size = allocationSize", size="allocationSize"),
    valid(
        "VUID-VkMemoryMapInfo-flags-09574",
        "size = allocationSize, a multiple of minPlacedMemoryMapAlignment",
        size="allocationSize",
    ),
    valid(
        "VUID-VkMemoryMapInfo-flags-09651",
        "size = VK_WHOLE_SIZE of an allocation that is a multiple of minPlacedMemoryMapAlignment",
        size=abi.VK_WHOLE_SIZE,
    ),
    valid("VUID-VkMemoryMapInfo-flags-09575", "memory not imported from host memory"),
    valid("VUID-VkMemoryMapPlacedInfoEXT-sType-sType", "sType = VK_STRUCTURE_TYPE_MEMORY_MAP_PLACED_INFO_EXT"),
    valid(
        "VUID-VkMemoryMapPlacedInfoEXT-pPlacedAddress-09577", "pPlacedAddress a multiple of minPlacedMemoryMapAlignment"
    ),
    valid(
        "VUID-VkMemoryMapPlacedInfoEXT-pPlacedAddress-09578",
        "the placed range ends where another live mapping's reservation begins",
    ),
]


@entries
@pytest.mark.parametrize("row", params(PLACED_ROWS))
@given(pages=st.integers(1, 16))
def test_placed_boundary_row(placed_device, host_visible_types, entry, row, pages):
    """A placed map of whole pages at an aligned reserved address, next to another live mapping, maps there (or is
    declined, as the spec allows)."""
    align = placed_device.placed.min_placed_memory_map_alignment
    size = pages * align
    with (
        placed_device.allocation(host_visible_types[0], size) as mem,
        placed_device.allocation(host_visible_types[0], align) as neighbour,
    ):
        assert_success(neighbour.map2())
        with reserved(size, align) as address:
            with failure_names_row(row):
                result = placed_map(
                    mem, address, entry, size=size if row.args.get("size") == "allocationSize" else abi.VK_WHOLE_SIZE
                )
            if result is not None:
                mem.unmap2()
        neighbour.unmap2()


@covers("VUID-VkMemoryMapInfo-flags-09573")
@entries
def test_range_placed_map_at_an_aligned_offset(placed_device, host_visible_types, entry):
    """With memoryMapRangePlaced: a placed map at offset minPlacedMemoryMapAlignment of two pages maps there."""
    placed = placed_device.placed
    require(placed.memory_map_range_placed, "memoryMapRangePlaced")
    align = placed.min_placed_memory_map_alignment
    with placed_device.allocation(host_visible_types[0], 4 * align) as mem:
        with reserved(2 * align, align) as address:
            if placed_map(mem, address, entry, offset=align, size=2 * align) is not None:
                mem.unmap2()


def _placed_call(mem, address, entry, **info):
    return mem.map2_call(flags=PLACED, next=(PlacedInfo(address),), entry=entry, **info)


@violates("VUID-VkMemoryMapInfo-flags-09569")
@entries
def test_placed_flag_without_the_feature(device_without_placed, host_visible_types, entry):
    """VK_MEMORY_MAP_PLACED_BIT_EXT on a device without memoryMapPlaced enabled."""
    with device_without_placed.allocation(host_visible_types[0], SIZE) as mem:
        assert_refused(
            device_without_placed.driver, _placed_call(mem, 1 << 40, entry), {"VUID-VkMemoryMapInfo-flags-09569"}
        )


@violates("VUID-VkMemoryMapInfo-flags-09570")
@entries
@pytest.mark.parametrize("shape", ["no VkMemoryMapPlacedInfoEXT", "NULL pPlacedAddress"])
def test_placed_flag_without_an_address(placed_device, host_visible_types, entry, shape):
    """VK_MEMORY_MAP_PLACED_BIT_EXT with no VkMemoryMapPlacedInfoEXT, or with a NULL pPlacedAddress."""
    align = placed_device.placed.min_placed_memory_map_alignment
    with placed_device.allocation(host_visible_types[0], align) as mem:
        call = mem.map2_call(flags=PLACED, entry=entry) if shape.startswith("no") else _placed_call(mem, 0, entry)
        assert_refused(placed_device.driver, call, {"VUID-VkMemoryMapInfo-flags-09570"})


# Arguments given as functions take (pages, k, align): allocations of ``pages`` pages (2 to 8), k of them mapped.
PLACED_INVALID_ROWS = [
    invalid(
        "VUID-VkMemoryMapInfo-flags-09571",
        "offset = k pages without memoryMapRangePlaced",
        offset=lambda pa: pa[1] * pa[2],
    ),
    invalid(
        "VUID-VkMemoryMapInfo-flags-09572",
        "size = k pages, less than allocationSize, without memoryMapRangePlaced",
        size=lambda pa: pa[1] * pa[2],
    ),
]


@entries
@pytest.mark.parametrize("row", params(PLACED_INVALID_ROWS))
@given(pages=st.integers(2, 8), data=st.data())
def test_placed_range_without_range_placement(placed_device, host_visible_types, entry, row, pages, data):
    """Without memoryMapRangePlaced, a placed map of part of the allocation."""
    require(not placed_device.placed.memory_map_range_placed, "a device without memoryMapRangePlaced")
    align = placed_device.placed.min_placed_memory_map_alignment
    with placed_device.allocation(host_visible_types[0], pages * align) as mem:
        k = data.draw(st.integers(1, pages - 1), label="k pages")
        assert_refused(
            placed_device.driver, _placed_call(mem, 1 << 40, entry, **row.arguments((pages, k, align))), {row.rule}
        )


@violates("VUID-VkMemoryMapInfo-flags-09573")
@entries
def test_range_placed_offset_not_aligned(placed_device, host_visible_types, entry):
    """With memoryMapRangePlaced, a placed map at offset 64."""
    require(placed_device.placed.memory_map_range_placed, "memoryMapRangePlaced")
    align = placed_device.placed.min_placed_memory_map_alignment
    with placed_device.allocation(host_visible_types[0], 4 * align) as mem:
        assert_refused(
            placed_device.driver,
            _placed_call(mem, 1 << 40, entry, offset=64, size=align),
            {"VUID-VkMemoryMapInfo-flags-09573"},
        )


@violates("VUID-VkMemoryMapInfo-flags-09575")
@entries
def test_placed_map_of_imported_host_memory(placed_device, import_host_memory, entry):
    """A placed map of memory imported from a host allocation
    (VK_EXTERNAL_MEMORY_HANDLE_TYPE_HOST_ALLOCATION_BIT_EXT)."""
    mem = import_host_memory(placed_device.placed.min_placed_memory_map_alignment)
    try:
        assert_refused(placed_device.driver, _placed_call(mem, 1 << 40, entry), {"VUID-VkMemoryMapInfo-flags-09575"})
    finally:
        placed_device.free(mem)


# The allocation is one page plus ``extra`` bytes, so that neither size is a multiple of minPlacedMemoryMapAlignment.
PLACED_SIZE_DRAWN = [
    beyond(
        "VUID-VkMemoryMapInfo-flags-09574",
        "size = allocationSize, one page plus 1 to 4095 bytes",
        extra=st.integers(1, 4095),
        size=st.just("allocationSize"),
    ),
    beyond(
        "VUID-VkMemoryMapInfo-flags-09651",
        "size = VK_WHOLE_SIZE of one page plus 1 to 4095 bytes",
        extra=st.integers(1, 4095),
        size=st.just(abi.VK_WHOLE_SIZE),
    ),
]


@entries
@pytest.mark.parametrize("row", params(PLACED_SIZE_DRAWN))
@given(data=st.data())
def test_placed_size_not_aligned(placed_device, host_visible_types, entry, row, data):
    """A whole placed map of an allocation whose size is no multiple of minPlacedMemoryMapAlignment is refused with
    exactly its VUID."""
    drawn = row.draw(data)
    page = placed_device.placed.min_placed_memory_map_alignment
    allocation_size = page + drawn["extra"] % page
    assume(allocation_size % page)
    with placed_device.allocation(host_visible_types[0], allocation_size) as mem:
        size = allocation_size if drawn["size"] == "allocationSize" else drawn["size"]
        assert_refused(placed_device.driver, _placed_call(mem, 1 << 40, entry, size=size), {row.rule})
