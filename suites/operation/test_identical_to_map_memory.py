"""vkMapMemory2KHR "behaves identically to vkMapMemory": the mappings of every entry point
expose the same bytes of the same memory, and any map entry point pairs with any unmap.

Spec: vkMapMemory2KHR Description; vkUnmapMemory2KHR.
"""

from hypothesis import given
from hypothesis import strategies as st

from vkmap_cts.fixtures.judge.properties.identical_to_map_memory import same_bytes_through_every_entry_point
from vkmap_cts.fixtures.judge.strategies import allocation_sizes, valid_map_ranges
from vkmap_cts.fixtures.rules.coverage import covers, entry_points, needs_entry
from vkmap_cts.fixtures.vk.arguments import MAP_ENTRIES, UNMAP_ENTRIES


@covers("GUARANTEE-identical-to-vkMapMemory", "GUARANTEE-contents-preserved", "GUARANTEE-map-success")
@entry_points("writer", MAP_ENTRIES)
@entry_points("reader", MAP_ENTRIES)
@needs_entry(*UNMAP_ENTRIES)
@given(
    data=st.data(),
    allocation_size=allocation_sizes(1 << 18),
    unmapper=st.sampled_from(UNMAP_ENTRIES),
    seed=st.integers(0, 2**32),
)
def test_bytes_written_through_one_entry_point_are_read_through_another(
    device, memory_pool, host_visible_types, writer, reader, data, allocation_size, unmapper, seed
):
    """Write the whole allocation through ``writer``'s mapping, unmap with any entry point, map a range through
    ``reader``: the same bytes at the same offset."""
    mt = data.draw(st.sampled_from(host_visible_types), label="memory type")
    r = data.draw(valid_map_ranges(allocation_size), label="range")
    with memory_pool.lease(mt, allocation_size) as mem:
        same_bytes_through_every_entry_point(mem, writer, reader, unmapper, r.offset, r.size, seed)
