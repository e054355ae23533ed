"""Concurrency: threads mapping, writing, reading and unmapping different memory objects
at the same time see only their own bytes.

Spec: vkMapMemory2KHR Host Synchronization ("Host access to pMemoryMapInfo->memory must be
externally synchronized"): only access to the same memory object needs it.
"""

import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vkmap_cts.fixtures.judge.properties.concurrency import threads_see_only_their_own_bytes
from vkmap_cts.fixtures.rules.coverage import covers
from vkmap_cts.fixtures.vk.arguments import MAP_ENTRIES

THREADS = 4
ROUNDS = 40


@covers("GUARANTEE-concurrent-maps", "GUARANTEE-identical-to-vkMapMemory")
@pytest.mark.heavy
@settings(max_examples=5)
@given(
    sizes=st.lists(st.sampled_from([64, 4096, 65536, 1 << 20]), min_size=THREADS, max_size=THREADS),
    seed=st.integers(0, 2**20),
)
def test_threads_on_different_memory_objects_see_only_their_own_bytes(
    device, memory_pool, host_visible_types, sizes, seed
):
    """Each thread cycles through every map entry point and pairs each map with another entry point's unmap."""
    entries = [e for e in MAP_ENTRIES if device.driver.has(e)]
    with contextlib.ExitStack() as leases:
        mems = [
            leases.enter_context(memory_pool.lease(host_visible_types[i % len(host_visible_types)], size))
            for i, size in enumerate(sizes)
        ]
        threads_see_only_their_own_bytes(mems, entries, seed, ROUNDS)
