"""Nothing lost: bytes written inside a mapped range land there and nowhere else, and survive unmap and remap."""

from hypothesis import given
from hypothesis import strategies as st

from vkmap_cts.fixtures.judge.properties.contents import writes_stay_inside_the_range
from vkmap_cts.fixtures.judge.strategies import allocation_sizes, valid_map_ranges
from vkmap_cts.fixtures.rules.coverage import covers, entry_points
from vkmap_cts.fixtures.vk.arguments import MAP_ENTRIES


@covers("GUARANTEE-outside-range-untouched", "GUARANTEE-contents-preserved")
@entry_points("entry", MAP_ENTRIES)
@given(data=st.data(), allocation_size=allocation_sizes(1 << 18), seed=st.integers(0, 2**32))
def test_writes_stay_inside_the_mapped_range(
    device, memory_pool, host_visible_types, entry, data, allocation_size, seed
):
    """Bytes written through a mapping of any valid range change that range of the memory and no other byte."""
    mt = data.draw(st.sampled_from(host_visible_types), label="memory type")
    r = data.draw(valid_map_ranges(allocation_size), label="range")
    with memory_pool.lease(mt, allocation_size) as mem:
        writes_stay_inside_the_range(mem, entry, r.offset, r.size, seed)
