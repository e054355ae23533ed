"""VkMemoryMapPlacedInfoEXT: pPlacedAddress alignment (09577) and overlap (09578); a wrong sType.

VUID-VkMemoryMapPlacedInfoEXT-sType-sType has a valid side only: in a pNext chain a structure is
what its sType says, so a wrong sType makes it a structure that does not extend VkMemoryMapInfo.

The valid side of each is a row of PLACED_ROWS in test_VkMemoryMapInfo.py.
"""

from hypothesis import given
from hypothesis import strategies as st

from vkmap_cts.fixtures.judge.oracles import assert_refused, assert_success
from vkmap_cts.fixtures.rules.coverage import entry_points, violates
from vkmap_cts.fixtures.vk import abi
from vkmap_cts.fixtures.vk.address_space import reserved
from vkmap_cts.fixtures.vk.arguments import MAP2_ENTRIES, PlacedInfo

PLACED = abi.VK_MEMORY_MAP_PLACED_BIT_EXT
entries = entry_points("entry", MAP2_ENTRIES)


@violates("VUID-VkMemoryMapInfo-pNext-pNext")
@entries
@given(stype=st.integers(-(2**31), 2**31 - 1).filter(lambda s: s != abi.VK_STRUCTURE_TYPE_MEMORY_MAP_PLACED_INFO_EXT))
def test_wrong_stype(device, memory_pool, host_visible_types, entry, stype):
    """A VkMemoryMapPlacedInfoEXT whose sType is not its own is, by its sType, a structure that does not extend
    VkMemoryMapInfo."""
    with memory_pool.lease(host_visible_types[0], 4096) as mem:
        assert_refused(
            device.driver,
            mem.map2_call(next=(PlacedInfo(0, sType=stype),), entry=entry),
            {"VUID-VkMemoryMapInfo-pNext-pNext"},
        )


@violates("VUID-VkMemoryMapPlacedInfoEXT-pPlacedAddress-09577")
@entries
@given(misalignment=st.integers(1, 2**12 - 1))
def test_address_not_aligned(placed_device, host_visible_types, entry, misalignment):
    """pPlacedAddress off a multiple of minPlacedMemoryMapAlignment by 1 to 4095 bytes."""
    align = placed_device.placed.min_placed_memory_map_alignment
    with placed_device.allocation(host_visible_types[0], align) as mem:
        address = (1 << 40) + misalignment % align
        call = mem.map2_call(flags=PLACED, next=(PlacedInfo(address),), entry=entry)
        assert_refused(placed_device.driver, call, {"VUID-VkMemoryMapPlacedInfoEXT-pPlacedAddress-09577"})


@violates("VUID-VkMemoryMapPlacedInfoEXT-pPlacedAddress-09578")
@entries
@given(pages=st.integers(1, 4), shift=st.integers(-3, 3))
def test_address_overlaps_a_live_mapping(placed_device, host_visible_types, entry, pages, shift):
    """The placed range overlaps the mapping of another memory object (placed there first)."""
    align = placed_device.placed.min_placed_memory_map_alignment
    with (
        placed_device.allocation(host_visible_types[0], 4 * align) as first,
        placed_device.allocation(host_visible_types[0], pages * align) as second,
    ):
        with reserved(12 * align, align) as base:
            existing = base + 4 * align
            assert_success(first.map2(flags=PLACED, next=(PlacedInfo(existing),)))
            try:
                start = existing + shift * align
                if start + pages * align <= existing:  # entirely below: no overlap; move onto it
                    start = existing
                call = second.map2_call(flags=PLACED, next=(PlacedInfo(start),), entry=entry)
                assert_refused(placed_device.driver, call, {"VUID-VkMemoryMapPlacedInfoEXT-pPlacedAddress-09578"})
            finally:
                first.unmap2()
