"""VK_EXT_map_memory_placed: the map lands at pPlacedAddress, its bytes are the memory's,
and VK_MEMORY_UNMAP_RESERVE_BIT_EXT keeps the range reserved (without it, released).

NotSupported where the device lacks the extension or memoryMapPlaced.
"""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vkmap_cts.fixtures.judge.coherence import HostBytes
from vkmap_cts.fixtures.judge.oracles import assert_bytes_equal, pattern
from vkmap_cts.fixtures.judge.properties.mapped_bytes import read_range, write_whole
from vkmap_cts.fixtures.judge.properties.placed_maps import placed_map, reserve_unmap_keeps_its_promise
from vkmap_cts.fixtures.rules.coverage import covers, entry_points, not_supported, require
from vkmap_cts.fixtures.vk import abi
from vkmap_cts.fixtures.vk.address_space import reclaim, reserved
from vkmap_cts.fixtures.vk.arguments import MAP2_ENTRIES

PLACED = abi.VK_MEMORY_MAP_PLACED_BIT_EXT
RESERVE = abi.VK_MEMORY_UNMAP_RESERVE_BIT_EXT


@covers("GUARANTEE-placed-address", "GUARANTEE-identical-to-vkMapMemory")
@pytest.mark.isolated
@entry_points("entry", MAP2_ENTRIES)
@settings(max_examples=10)
@given(pages=st.integers(1, 8), seed=st.integers(0, 2**32), data=st.data())
def test_placed_mapping_is_at_the_address_and_shows_the_memory(
    placed_device, host_visible_types, entry, pages, seed, data
):
    """Bytes written through a normal mapping are read through a placed one, and the reverse; the normal mapping after a
    placed one (once the application took its range back) must be backed and show the memory."""
    mt = data.draw(st.sampled_from(host_visible_types), label="memory type")
    align = placed_device.placed.min_placed_memory_map_alignment
    size = pages * align
    mem = placed_device.allocate(mt, size)
    try:
        before = pattern(seed, size)
        write_whole(mem, "vkMapMemory2KHR", before)
        with reserved(size, align) as address:
            if placed_map(mem, address, entry) is None:
                not_supported(
                    "the driver declined the placed map (VK_ERROR_MEMORY_MAP_FAILED, which the specification allows)"
                )
            assert_bytes_equal(
                "GUARANTEE-identical-to-vkMapMemory", mem.read(), before, f"{mem}: read through the placed mapping"
            )
            after = pattern(seed + 1, size)
            host = HostBytes(mem)  # flushed before the unmap where the type is not HOST_COHERENT
            host.write(after)
            host.unmap("vkUnmapMemory2KHR")
            # The application takes its range back, as one that manages its address space does: a map that still
            # handed out an address there would show the application's pages, not the memory's.
            reclaim(address, size)
        assert_bytes_equal(
            "GUARANTEE-identical-to-vkMapMemory",
            read_range(mem, "vkMapMemory", 0, abi.VK_WHOLE_SIZE, check_mapped=True),
            after,
            f"{mem}: written through the placed mapping, read through vkMapMemory",
        )
    finally:
        placed_device.free(mem)


@covers("GUARANTEE-unmap-reserve")
@pytest.mark.isolated
@entry_points("entry", ["vkUnmapMemory2KHR", "vkUnmapMemory2"])
@settings(max_examples=5)
@given(pages=st.integers(1, 4), seed=st.integers(0, 2**32))
def test_unmap_reserve_keeps_the_range_reserved_or_declines(placed_device, host_visible_types, entry, pages, seed):
    """After a placed map, an unmap with VK_MEMORY_UNMAP_RESERVE_BIT_EXT either keeps the range reserved, or fails and
    leaves the memory mapped."""
    require(placed_device.placed.memory_unmap_reserve, "memoryUnmapReserve")
    align = placed_device.placed.min_placed_memory_map_alignment
    size = pages * align
    mem = placed_device.allocate(host_visible_types[0], size)
    other = placed_device.allocate(host_visible_types[0], size)
    try:
        with reserved(size, align) as address:
            if placed_map(mem, address) is None:
                not_supported(
                    "the driver declined the placed map (VK_ERROR_MEMORY_MAP_FAILED, which the specification allows)"
                )
            reserve_unmap_keeps_its_promise(mem, entry, other, seed)
    finally:
        placed_device.free(mem)
        placed_device.free(other)
