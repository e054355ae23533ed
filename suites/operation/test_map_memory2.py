"""vkMapMemory2KHR on every HOST_VISIBLE memory type: success, ppData, alignment, contents.

Spec: vkMapMemory2KHR ppData ("This pointer minus VkMemoryMapInfoKHR::offset must be
aligned to at least VkPhysicalDeviceLimits::minMemoryMapAlignment"), and the
description ("behaves identically to vkMapMemory").
"""

from hypothesis import given
from hypothesis import strategies as st

from vkmap_cts.fixtures.judge.coherence import HostBytes
from vkmap_cts.fixtures.judge.oracles import assert_aligned, assert_success, pattern
from vkmap_cts.fixtures.judge.strategies import MapRange, allocation_sizes, valid_map_ranges
from vkmap_cts.fixtures.rules.coverage import covers
from vkmap_cts.fixtures.vk.abi import VK_WHOLE_SIZE


def _check_round_trip(mem, rng: MapRange, alignment: int, seed: int) -> None:
    """Map, write every byte, unmap (flushed first on a type without HOST_COHERENT), map again: the bytes read back as
    the model of defined bytes and flushed atoms says (on a HOST_COHERENT type, every one of them)."""
    host = HostBytes(mem)
    result = mem.map2(offset=rng.offset, size=rng.size)
    assert_success(result)
    try:
        assert_aligned(result, alignment)
        host.write(pattern(seed, result.size))
    finally:
        host.unmap("vkUnmapMemory2KHR")

    again = mem.map2(offset=rng.offset, size=rng.size)
    assert_success(again)
    try:
        assert_aligned(again, alignment)
        host.judge("GUARANTEE-contents-preserved", f"{mem} {rng}: bytes written before unmap, read after remap")
    finally:
        mem.unmap_with("vkUnmapMemory2KHR")


@covers(
    "GUARANTEE-map-success",
    "GUARANTEE-ppdata-written",
    "GUARANTEE-map-alignment",
    "GUARANTEE-contents-preserved",
)
def test_whole_allocation_on_every_host_visible_type(device, memory_pool, host_visible_types):
    """Offset 0, VK_WHOLE_SIZE, on each HOST_VISIBLE type: VK_SUCCESS, aligned pointer, bytes survive unmap and
    remap."""
    for i, mt in enumerate(host_visible_types):
        with memory_pool.lease(mt, 65536) as mem:
            _check_round_trip(mem, MapRange(0, VK_WHOLE_SIZE), device.limits_alignment, seed=i)


@covers(
    "GUARANTEE-map-success",
    "GUARANTEE-ppdata-written",
    "GUARANTEE-map-alignment",
    "GUARANTEE-contents-preserved",
)
@given(data=st.data(), allocation_size=allocation_sizes(), seed=st.integers(0, 2**32))
def test_offsets_and_sizes_round_trip(device, memory_pool, host_visible_types, data, allocation_size, seed):
    """Any valid (offset, size), VK_WHOLE_SIZE included, on any HOST_VISIBLE type."""
    mt = data.draw(st.sampled_from(host_visible_types), label="memory type")
    rng = data.draw(valid_map_ranges(allocation_size), label="range")
    with memory_pool.lease(mt, allocation_size) as mem:
        _check_round_trip(mem, rng, device.limits_alignment, seed)
