"""Beyond CTS: allocations above 4 GiB, mapped at offsets at and above 2^32.  A driver that keeps an
offset or a size in 32 bits maps the wrong bytes here and nowhere else: the bytes written at
``offset`` through a whole mapping must be the bytes a map at ``offset`` shows, and the reverse.

Each allocation is bounded by its heap: its size and, with VK_EXT_memory_budget, the budget this
process has left (NotSupported beyond it).  maxMemoryAllocationSize is no bound: "Some platforms may
have a limit on the maximum size of a single allocation ... an attempt to allocate more than this
limit may return VK_ERROR_OUT_OF_DEVICE_MEMORY" (Vulkan 1.1, chapters/memory.adoc, vkAllocateMemory),
so an allocation that fails with an out-of-memory code is NotSupported, and one that succeeds is
judged like any other.

Spec: vkMapMemory ("offset is a zero-based byte offset from the beginning of the memory object. size
is the size of the memory range to map, or VK_WHOLE_SIZE to map from offset to the end of the
allocation"); ppData (minMemoryMapAlignment).
"""

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from vkmap_cts.fixtures.access.device import AllocationFailed
from vkmap_cts.fixtures.judge.properties.large_allocations import far_offsets_map_their_own_bytes
from vkmap_cts.fixtures.rules.coverage import covers, not_supported
from vkmap_cts.fixtures.vk.abi import VK_WHOLE_SIZE
from vkmap_cts.fixtures.vk.arguments import MAP_ENTRIES

GiB = 1 << 30
# Allocation sizes: just past 2^32 (a page, then 64 KiB past it), and 5 GiB, as measured on the H100.
SIZES = [
    pytest.param(4 * GiB + 4096, id="4GiB+4KiB"),
    pytest.param(4 * GiB + 65536, id="4GiB+64KiB"),
    pytest.param(5 * GiB, id="5GiB"),
]


@pytest.fixture(scope="module")
def large_memory(device):
    """``get(memory_type, size)``: an allocation of ``size`` bytes of ``memory_type``, kept while the module's tests
    ask for that size (each example writes what it reads), or NotSupported where the heap's budget has no room for
    it or the allocation fails with an out-of-memory code.  One allocation per memory type at a time, and one
    process at a time (a lock shared by the xdist workers, held from the first allocation to the module's end):
    never more than one allocation above 4 GiB per memory type on the machine."""
    import fcntl
    import os
    import tempfile

    held: dict = {}  # memory type index -> (size, Memory or the reason there is none)
    lock = None

    def get(mt, size):
        nonlocal lock
        if lock is None:
            lock = os.open(
                os.path.join(tempfile.gettempdir(), "vkmap-cts-large-allocations.lock"), os.O_RDWR | os.O_CREAT, 0o666
            )
            fcntl.flock(lock, fcntl.LOCK_EX)
        if held.get(mt.index, (None,))[0] != size:
            old = held.pop(mt.index, (None, None))[1]
            if old is not None and not isinstance(old, str):
                device.free(old)
            budget = device.physical.heap_budgets()[mt.heap_index]
            if 2 * size > budget:
                held[mt.index] = (
                    size,
                    f"a {size}-byte allocation on heap {mt.heap_index}, whose budget left is {budget} bytes (half of "
                    "it at most)",
                )
            else:
                try:
                    mem = device.allocate(mt, size)
                    mem.state.pooled = True  # lent across the module's tests, as a pool's
                    held[mt.index] = (size, mem)
                except AllocationFailed as e:
                    if not e.out_of_memory:
                        raise
                    held[mt.index] = (size, f"{e} (the specification lets an allocation fail so)")
        found = held[mt.index][1]
        if isinstance(found, str):
            not_supported(found)
        if (
            found.mapping is not None
        ):  # an example whose check failed mid-way: lent again as it was lent first, unmapped
            found.unmap()
        return found

    yield get
    for _, mem in held.values():
        if not isinstance(mem, str):
            device.free(mem)
    if lock is not None:
        os.close(lock)


@covers(
    "GUARANTEE-outside-range-untouched",
    "GUARANTEE-identical-to-vkMapMemory",
    "GUARANTEE-map-alignment",
    "GUARANTEE-ppdata-written",
)
@pytest.mark.heavy
@pytest.mark.parametrize("size", SIZES)
@settings(max_examples=4)
@example(offset=2**32, length=4096, seed=1).via("offset 2^32")
@example(offset=2**32 + 64, length=VK_WHOLE_SIZE, seed=2).via("offset 2^32 + 64, VK_WHOLE_SIZE")
@example(offset=2**32 - 64, length=128, seed=3).via("a range across 2^32")
@example(offset=-4096, length=VK_WHOLE_SIZE, seed=4).via("the last page, VK_WHOLE_SIZE")
@given(
    offset=st.integers(2**32 - 4096, 2**32 + 65536),
    length=st.sampled_from([1, 64, 4096, VK_WHOLE_SIZE]),
    seed=st.integers(0, 2**32),
)
def test_maps_past_4_gib_show_their_own_bytes(device, large_memory, host_visible_types, size, offset, length, seed):
    """On every HOST_VISIBLE type, an allocation above 4 GiB mapped through each map entry point the device has, at an
    offset near or past 2^32, shows the bytes at that offset, not at offset mod 2^32.  One test a size, the entry points
    taking turns on one allocation: an allocation this large is made once a run (on some drivers it holds a lock every
    other process's calls wait for), not once an entry point and worker."""
    offset = offset % size
    if length != VK_WHOLE_SIZE:
        length = min(length, size - offset)
    for entry in MAP_ENTRIES:
        if not device.driver.has(entry):
            continue  # core vkMapMemory2 on a device used below Vulkan 1.4: the others still run
        for mt in host_visible_types:
            mem = large_memory(mt, size)
            far_offsets_map_their_own_bytes(mem, entry, offset, length, seed, device.limits_alignment)
