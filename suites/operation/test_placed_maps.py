"""VK_EXT_map_memory_placed: the map lands at pPlacedAddress, its bytes are the memory's,
and VK_MEMORY_UNMAP_RESERVE_BIT_EXT keeps the range reserved (without it, released).

NotSupported where the device lacks the extension or memoryMapPlaced.
"""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vkmap_cts.fixtures.judge.oracles import assert_bytes_equal, assert_success, pattern
from vkmap_cts.fixtures.judge.properties import read_range, write_whole
from vkmap_cts.fixtures.rules.coverage import covers, require, require_entry
from vkmap_cts.fixtures.vk import abi
from vkmap_cts.fixtures.vk.address_space import reserved
from vkmap_cts.fixtures.vk.arguments import MAP2_ENTRIES, PlacedInfo
from vkmap_cts.fixtures.vk.process_maps import fully_mapped, unmapped

PLACED = abi.VK_MEMORY_MAP_PLACED_BIT_EXT
RESERVE = abi.VK_MEMORY_UNMAP_RESERVE_BIT_EXT


@covers("GUARANTEE-placed-alignment-limit")
def test_min_placed_alignment_is_a_power_of_two(placed_device):
    """minPlacedMemoryMapAlignment is a power of two."""
    a = placed_device.placed.min_placed_memory_map_alignment
    assert a > 0 and a & (a - 1) == 0, f"minPlacedMemoryMapAlignment {a} is not a power of two"


@covers("GUARANTEE-placed-address", "GUARANTEE-identical-to-vkMapMemory")
@pytest.mark.parametrize("entry", MAP2_ENTRIES)
@settings(max_examples=10)
@given(pages=st.integers(1, 8), seed=st.integers(0, 2**32), data=st.data())
def test_placed_mapping_is_at_the_address_and_shows_the_memory(placed_device, host_visible_types, entry, pages, seed, data):
    """Bytes written through a normal mapping are read through a placed one, and the reverse; the
    normal mapping after a placed one must be backed by the process's address space."""
    require_entry(placed_device, entry)
    mt = data.draw(st.sampled_from(host_visible_types), label="memory type")
    align = placed_device.placed.min_placed_memory_map_alignment
    size = pages * align
    mem = placed_device.allocate(mt, size)
    try:
        before = pattern(seed, size)
        write_whole(mem, "vkMapMemory2KHR", before)
        with reserved(size, align) as address:
            result = mem.map2(flags=PLACED, next=(PlacedInfo(address),), entry=entry)
            assert_success(result)
            assert result.ptr == address, f"{result}: placed at 0x{result.ptr:x}, asked for 0x{address:x}"
            assert_bytes_equal("GUARANTEE-identical-to-vkMapMemory", bytes(mem.bytes()), before, f"{mem}: read through the placed mapping")
            after = pattern(seed + 1, size)
            mem.bytes()[:] = after
            mem.unmap2()
        assert_bytes_equal(
            "GUARANTEE-identical-to-vkMapMemory",
            read_range(mem, "vkMapMemory", 0, abi.VK_WHOLE_SIZE, check_mapped=True),
            after,
            f"{mem}: written through the placed mapping, read through vkMapMemory",
        )
    finally:
        placed_device.free(mem)


@covers("GUARANTEE-unmap-reserve")
@pytest.mark.parametrize("reserve", [True, False], ids=["RESERVE", "no RESERVE"])
@pytest.mark.parametrize("entry", ["vkUnmapMemory2KHR", "vkUnmapMemory2"])
def test_unmap_reserve_keeps_the_range_reserved_and_plain_unmap_releases_it(placed_device, host_visible_types, entry, reserve):
    """After a placed map, an unmap with VK_MEMORY_UNMAP_RESERVE_BIT_EXT keeps the range reserved; a plain unmap releases it."""
    require_entry(placed_device, entry)
    if reserve:
        require(placed_device.placed.memory_unmap_reserve, "memoryUnmapReserve")
    align = placed_device.placed.min_placed_memory_map_alignment
    size = 4 * align
    mem = placed_device.allocate(host_visible_types[0], size)
    try:
        with reserved(size, align) as address:
            assert_success(mem.map2(flags=PLACED, next=(PlacedInfo(address),)))
            assert fully_mapped(address, address + size), "the placed mapping is not in /proc/self/maps"
            assert mem.unmap2(flags=RESERVE if reserve else 0, entry=entry) == abi.VK_SUCCESS
            if reserve:
                assert fully_mapped(address, address + size), f"after {entry} with VK_MEMORY_UNMAP_RESERVE_BIT_EXT the range [0x{address:x}, +{size}) is no longer reserved"
            else:
                assert unmapped(address, address + size), f"after {entry} without VK_MEMORY_UNMAP_RESERVE_BIT_EXT the range [0x{address:x}, +{size}) is still mapped"
    finally:
        placed_device.free(mem)
