"""dEQP-VK.memory.map_placed, case by case, through vkMapMemory2KHR and vkMapMemory2 (and their unmaps):
a placed map between guard pages of a memfd seen through a second view, the device's access to placed
memory, and VK_MEMORY_UNMAP_RESERVE_BIT_EXT after a placed and after a normal map, judged through
/proc/self/maps and mmap(NULL) probes.  CTS's sizes are the explicit examples (4 KiB, 8 KiB, 64 KiB,
1 MiB); hypothesis draws other multiples of minPlacedMemoryMapAlignment.

CTS requires VK_SUCCESS of a reserving unmap (VK_CHECK); the specification does not ("the memory unmap
operation may fail, in which case the memory object will remain host mapped and vkUnmapMemory2 will
return VK_ERROR_MEMORY_MAP_FAILED"), and neither does this suite: both outcomes are judged.
NotSupported where the device lacks VK_EXT_map_memory_placed, memoryMapPlaced or memoryUnmapReserve.
"""

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from vkmap_cts.fixtures.judge.properties.cts_map_placed import normal_map_reserve_unmap, placed_between_guards
from vkmap_cts.fixtures.judge.properties.device_access import device_and_host_agree
from vkmap_cts.fixtures.rules import cts
from vkmap_cts.fixtures.rules.coverage import covers, entry_points, not_supported, require
from vkmap_cts.fixtures.vk.address_space import reserved
from vkmap_cts.fixtures.vk.arguments import MAP2_ENTRIES, UNMAP2_ENTRIES, UNMAP_FOR

DECLINED = "the driver declined the placed map (VK_ERROR_MEMORY_MAP_FAILED, which the specification allows)"


def placed_sizes(test):
    """Each in a process of its own (a placed map can leave a driver broken): CTS's sizes as explicit examples,
    and up to four more multiples of a page."""
    test = given(size=st.integers(1, 64).map(lambda pages: pages * 4096))(test)
    for n in cts.PLACED_SIZES:
        test = example(size=n)(test)
    return pytest.mark.isolated(settings(max_examples=4)(test))


def _size(device, size: int) -> int:
    align = device.placed.min_placed_memory_map_alignment
    return -(-size // align) * align


@covers("GUARANTEE-placed-replaces-exactly", "GUARANTEE-placed-address")
@entry_points("entry", MAP2_ENTRIES)
@placed_sizes
def test_exact_size(placed_device, host_visible_types, entry, size):
    """CTS's exact_size: a placed map between guard pages replaces exactly its pages, and what is written through it
    reaches the memory."""
    mem = placed_device.allocate(host_visible_types[0], _size(placed_device, size))
    try:
        if placed_between_guards(mem, entry, UNMAP_FOR[entry], reserve=False) == "declined":
            not_supported(DECLINED)
    finally:
        placed_device.free(mem)


@covers("GUARANTEE-placed-replaces-exactly", "GUARANTEE-unmap-reserve")
@entry_points("entry", MAP2_ENTRIES)
@placed_sizes
def test_unmap_reserve(placed_device, host_visible_types, entry, size):
    """CTS's unmap_reserve: after a placed map between guard pages, a reserving unmap keeps the range reserved (or
    declines), and the guards are untouched."""
    require(placed_device.placed.memory_unmap_reserve, "memoryUnmapReserve")
    mem = placed_device.allocate(host_visible_types[0], _size(placed_device, size))
    other = placed_device.allocate(host_visible_types[0], _size(placed_device, size))
    try:
        if placed_between_guards(mem, entry, UNMAP_FOR[entry], reserve=True, other=other, seed=size) == "declined":
            not_supported(DECLINED)
    finally:
        placed_device.free(mem)
        placed_device.free(other)


@covers("GUARANTEE-unmap-reserve")
@entry_points("entry", UNMAP2_ENTRIES)
@placed_sizes
def test_normal_unmap_reserve(placed_device, host_visible_types, entry, size):
    """CTS's normal_unmap_reserve: a reserving unmap of a normal (not placed) map keeps the range reserved from
    mmap(NULL) and vkMapMemory, or declines."""
    require(placed_device.placed.memory_unmap_reserve, "memoryUnmapReserve")
    mem = placed_device.allocate(host_visible_types[0], size)
    other = placed_device.allocate(host_visible_types[0], size)
    try:
        normal_map_reserve_unmap(mem, entry, other, seed=size)
    finally:
        placed_device.free(mem)
        placed_device.free(other)


@covers("GUARANTEE-device-coherent", "GUARANTEE-placed-address")
@pytest.mark.isolated
@entry_points("entry", MAP2_ENTRIES)
def test_gpu_access_read_write(placed_device, physical_device, transfers, entry):
    """CTS's gpu_access.read_write: host writes through a placed map of 64 KiB are what the device copies, and a device
    fill is what the placed map shows."""
    types = sorted(
        physical_device.host_visible_types, key=lambda t: not t.flags & 0x1
    )  # DEVICE_LOCAL first, as CTS picks
    size = _size(placed_device, 65536)
    mem = placed_device.allocate(types[0], size)
    other = placed_device.allocate(types[0], size)
    try:
        with reserved(size, placed_device.placed.min_placed_memory_map_alignment) as address:
            if device_and_host_agree(mem, other, transfers, entry, 0, size, seed=7, placed_at=address) == "declined":
                not_supported(DECLINED)
    finally:
        transfers.release_buffers()
        placed_device.free(mem)
        placed_device.free(other)
