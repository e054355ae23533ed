"""minMemoryMapAlignment: the limit, and every successful map by every entry point honouring it.

Spec: vkMapMemory2KHR ppData ("This pointer minus VkMemoryMapInfoKHR::offset must be
aligned to at least VkPhysicalDeviceLimits::minMemoryMapAlignment"); vkMapMemory
ppData likewise; the Required Limits table (minMemoryMapAlignment: min 64, a power
of two).
"""

from hypothesis import given
from hypothesis import strategies as st

from vkmap_cts.fixtures.judge.limits import placed_alignment_failure
from vkmap_cts.fixtures.judge.properties.alignment import mapped_alignment
from vkmap_cts.fixtures.judge.strategies import allocation_sizes, range_batches
from vkmap_cts.fixtures.rules.coverage import covers, entry_points, not_supported
from vkmap_cts.fixtures.vk.arguments import MAP_ENTRIES
from vkmap_cts.fixtures.vk.errors import RuleBroken

REQUIRED_MIN = 64  # Required Limits: minMemoryMapAlignment, "min" limit type


@covers("GUARANTEE-min-memory-map-alignment-limit")
def test_limit_is_a_power_of_two_of_at_least_64_and_the_same_through_properties2(physical_device):
    """minMemoryMapAlignment is a power of two, at least 64, and the same through both property queries."""
    a, v2 = physical_device.min_memory_map_alignment, physical_device.min_memory_map_alignment_v2
    for held, observed in (
        (a >= REQUIRED_MIN, f"minMemoryMapAlignment {a} is below the required minimum {REQUIRED_MIN}"),
        (a & (a - 1) == 0, f"minMemoryMapAlignment {a} is not a power of two"),
        (v2 == a, f"vkGetPhysicalDeviceProperties2 says {v2}, vkGetPhysicalDeviceProperties {a}"),
    ):
        if not held:
            raise RuleBroken("GUARANTEE-min-memory-map-alignment-limit", observed)


@covers("GUARANTEE-min-placed-memory-map-alignment-limit")
def test_placed_alignment_limit_allows_a_placed_map(physical_device):
    """Where memoryMapPlaced is supported, minPlacedMemoryMapAlignment is neither 0 nor above 65536."""
    if physical_device.placed is None or not physical_device.placed.memory_map_placed:
        not_supported("the device does not support memoryMapPlaced (VK_EXT_map_memory_placed)")
    failure = placed_alignment_failure(physical_device.placed)
    if failure is not None:
        raise failure


@covers("GUARANTEE-map-alignment", "GUARANTEE-map-success", "GUARANTEE-ppdata-written")
@entry_points("entry", MAP_ENTRIES)
@given(data=st.data(), allocation_size=allocation_sizes())
def test_every_map_is_aligned(device, memory_pool, host_visible_types, entry, data, allocation_size):
    """Batches of valid ranges (offset 0, size - 1, 64-aligned and random; VK_WHOLE_SIZE, to the end, 1 byte,
    random sizes) on any HOST_VISIBLE type, allocation sizes from 1 byte to 1 MiB."""
    mt = data.draw(st.sampled_from(host_visible_types), label="memory type")
    batch = data.draw(range_batches(allocation_size), label="ranges")
    with memory_pool.lease(mt, allocation_size) as mem:
        mapped_alignment(mem, entry, batch.ranges(), device.limits_alignment)
