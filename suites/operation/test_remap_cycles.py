"""Beyond CTS: remap cycles.  One memory object mapped, written, unmapped and mapped again many
times, each cycle through its own pair of map and unmap entry points (vkMapMemory2KHR, vkMapMemory2,
vkMapMemory; any unmap): the contents are kept from cycle to cycle, and every address is judged
afresh, as a driver that caches a memory object's mapping across unmaps hands out stale ones.

Spec: vkMapMemory2 ("behaves identically to vkMapMemory"); vkMapMemory ppData (minMemoryMapAlignment).
"""

from hypothesis import given
from hypothesis import strategies as st

from vkmap_cts.fixtures.judge.properties.remap_cycles import remap_cycles
from vkmap_cts.fixtures.judge.strategies import allocation_sizes, valid_map_ranges
from vkmap_cts.fixtures.rules.coverage import covers
from vkmap_cts.fixtures.vk.arguments import MAP_ENTRIES, UNMAP_ENTRIES


@st.composite
def cycles(draw, device, allocation_size: int):
    """2 to 24 cycles of (map entry, unmap entry, offset, size), entry points drawn among the device's."""
    maps = [e for e in MAP_ENTRIES if device.driver.has(e)]
    unmaps = [e for e in UNMAP_ENTRIES if device.driver.has(e)]
    out = []
    for _ in range(draw(st.integers(2, 24), label="cycles")):
        r = draw(valid_map_ranges(allocation_size))
        out.append((draw(st.sampled_from(maps)), draw(st.sampled_from(unmaps)), r.offset, r.size))
    return out


@covers(
    "GUARANTEE-contents-preserved",
    "GUARANTEE-identical-to-vkMapMemory",
    "GUARANTEE-map-alignment",
    "GUARANTEE-ppdata-written",
)
@given(data=st.data(), allocation_size=allocation_sizes(1 << 16), seed=st.integers(0, 2**32))
def test_remap_cycles_through_mixed_entry_points_keep_the_contents(
    device, memory_pool, host_visible_types, data, allocation_size, seed
):
    """Map, write and unmap one memory object many times through mixed entry points: each map is aligned and backed, and
    shows the earlier cycles' bytes."""
    mt = data.draw(st.sampled_from(host_visible_types), label="memory type")
    steps = data.draw(cycles(device, allocation_size), label="cycles")
    with memory_pool.lease(mt, allocation_size) as mem:
        remap_cycles(mem, steps, seed, device.limits_alignment)
