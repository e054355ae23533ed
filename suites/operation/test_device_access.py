"""It is the device memory: bytes written through a mapping are what the device reads,
and bytes the device writes are what the mapping shows, while the memory stays mapped.

Spec: Memory mapping ("host access to device memory"); vkFlushMappedMemoryRanges and
vkInvalidateMappedMemoryRanges for memory types without HOST_COHERENT, with ranges
rounded to nonCoherentAtomSize.
"""

from hypothesis import given, settings
from hypothesis import strategies as st

from vkmap_cts.fixtures.judge.properties.device_access import device_and_host_agree
from vkmap_cts.fixtures.rules.coverage import covers, entry_points
from vkmap_cts.fixtures.vk.arguments import MAP_ENTRIES

PAGE = 4096


@covers("GUARANTEE-device-coherent", "GUARANTEE-map-success")
@entry_points("entry", MAP_ENTRIES)
@settings(max_examples=8)
@given(data=st.data(), pages=st.integers(2, 16), seed=st.integers(0, 2**32))
def test_host_writes_reach_the_device_and_device_writes_reach_the_host(
    device, memory_pool, transfers, host_visible_types, entry, data, pages, seed
):
    """While mapped, host writes are what a device copy reads, and a device fill is what the mapping shows."""
    mt = data.draw(st.sampled_from(host_visible_types), label="memory type")
    first = data.draw(st.integers(0, pages - 1), label="first mapped page")
    count = data.draw(st.integers(1, pages - first), label="mapped pages")
    offset, size = first * PAGE, count * PAGE
    with memory_pool.lease(mt, pages * PAGE) as mem, memory_pool.lease(mt, size) as other:
        try:
            device_and_host_agree(mem, other, transfers, entry, offset, size, seed)
        finally:
            transfers.release_buffers()
