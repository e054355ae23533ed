"""Concurrency: threads mapping, writing, reading and unmapping different memory objects
at the same time see only their own bytes.

Spec: vkMapMemory2KHR Host Synchronization ("Host access to pMemoryMapInfo->memory must be
externally synchronized"): only access to the same memory object needs it.
"""
import threading

from hypothesis import given, settings
from hypothesis import strategies as st

from fixtures.arguments import MAP_ENTRIES, UNMAP_FOR
from fixtures.coverage import covers
from fixtures.oracles import assert_bytes_equal, assert_success, pattern

THREADS = 4
ROUNDS = 40


def _worker(mem, entries, seed, barrier, errors):
    try:
        barrier.wait()
        for i in range(ROUNDS):
            entry = entries[(seed + i) % len(entries)]
            data = pattern(seed * 1000 + i, mem.size)
            result = mem.map_with(entry)
            assert_success(result)
            mem.bytes()[:] = data
            mem.unmap_with(UNMAP_FOR[entry])
            result = mem.map_with(entries[(seed + i + 1) % len(entries)])
            assert_success(result)
            seen = bytes(mem.bytes())
            mem.unmap_with("vkUnmapMemory2KHR")
            assert_bytes_equal(seen, data, f"thread {seed}, round {i}, {mem}")
    except BaseException as e:  # reported by the main thread
        errors.append(e)


@covers("GUARANTEE-concurrent-maps")
@settings(max_examples=5)
@given(sizes=st.lists(st.sampled_from([64, 4096, 65536, 1 << 20]), min_size=THREADS, max_size=THREADS), seed=st.integers(0, 2**20))
def test_threads_on_different_memory_objects_see_only_their_own_bytes(device, memory_pool, host_visible_types, sizes, seed):
    entries = [e for e in MAP_ENTRIES if device.driver.has(e)]
    leases = [memory_pool.lease(host_visible_types[i % len(host_visible_types)], size) for i, size in enumerate(sizes)]
    mems = [lease.__enter__() for lease in leases]
    try:
        errors, barrier = [], threading.Barrier(len(mems))
        threads = [threading.Thread(target=_worker, args=(m, entries, seed + i, barrier, errors)) for i, m in enumerate(mems)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        assert not any(t.is_alive() for t in threads), "a thread did not finish within 120 s"
        if errors:
            raise errors[0]
    finally:
        for lease in reversed(leases):
            lease.__exit__(None, None, None)
