"""dEQP-VK.memory.mapping, family by family, through vkMapMemory2KHR, vkMapMemory2 and vkMapMemory, on
every HOST_VISIBLE memory type and every allocation kind: suballocation, and memory dedicated to a
buffer or a linear image (VkMemoryDedicatedAllocateInfo).  ``fixtures/rules/cts.py`` lists the families
and the CTS cases of each; CTS's values are the explicit examples, and hypothesis draws between and
beyond them.  Every read is judged by the reference model of defined bytes and flushed
nonCoherentAtomSize atoms (``fixtures/judge/coherence.py``): on HOST_COHERENT memory every byte written
must read back; without it, only what the specification leaves defined.

Where CTS and the specification part, the specification decides: flush and invalidate ranges are
rounded out to atoms and kept inside the mapping (CTS's VK_WHOLE_SIZE rule can send a range of size 0),
an `_overlapping` case overlaps (CTS runs the `_separate` ranges), and on non-coherent memory a `remap`
expects nothing of unflushed writes ("Unmapping non-coherent memory does not implicitly flush").
"""

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from vkmap_cts.fixtures.access.resources import KINDS, RecordingAllocator
from vkmap_cts.fixtures.judge.properties.cts_mapping import free_while_mapped, mapping_operation
from vkmap_cts.fixtures.rules import cts
from vkmap_cts.fixtures.rules.coverage import covers, entry_points, require
from vkmap_cts.fixtures.vk.abi import VK_WHOLE_SIZE
from vkmap_cts.fixtures.vk.arguments import MAP_ENTRIES

KIND = pytest.mark.parametrize("kind", KINDS)
OPERATION = pytest.mark.parametrize("operation", cts.OPERATIONS)
ENTRY = entry_points("entry", MAP_ENTRIES)
# 90 items a test, each running CTS's rows as explicit examples: hypothesis draws an eighth of the profile's examples
# more.
DRAWN = settings(max_examples=max(2, settings.default.max_examples // 8))
GUARANTEES = (
    "GUARANTEE-host-view-model",
    "GUARANTEE-map-success",
    "GUARANTEE-map-alignment",
    "GUARANTEE-identical-to-vkMapMemory",
)


def _on_every_type(pool, types, kind, allocation_size, check) -> None:
    """``check(mem)`` on an allocation of ``kind`` of each memory type that can back it (lent by the pool: every
    check writes what it reads, so an allocation may serve many)."""
    ran = 0
    for mt in types:
        with pool.lease(mt, allocation_size, kind) as mem:
            if mem is None:
                continue  # the type cannot back this buffer or image (CTS skips it too)
            check(mem)
            ran += 1
    require(ran, f"a HOST_VISIBLE memory type that can back a {kind} of {allocation_size} bytes")


def _full_examples(test):
    for a in cts.ALLOCATION_SIZES:
        test = example(allocation_size=a, whole_map=False, whole=True, seed=a)(test)
    return test


@st.composite
def sub_ranges(draw):
    """(allocation size, offset, size) of a map that is neither empty nor the whole allocation."""
    allocation = draw(st.integers(2, (1 << 20) + 1), label="allocation size")
    offset = draw(st.integers(0, allocation - 1), label="offset")
    size = draw(st.integers(1, allocation - offset), label="size")
    return allocation, offset, size


def _sub_examples(test):
    for a, o, s in cts.sub_rows():
        test = example(row=(a, o, s), whole=True, seed=a ^ o ^ s)(test)
    return test


@covers(*GUARANTEES)
@KIND
@OPERATION
@ENTRY
@DRAWN
@_full_examples
@given(
    allocation_size=st.integers(1, (1 << 20) + 1),
    whole_map=st.booleans(),
    whole=st.booleans(),
    seed=st.integers(0, 2**32 - 1),
)
def test_full_mapping(
    device, memory_pool, transfers, host_visible_types, kind, operation, entry, allocation_size, whole_map, whole, seed
):
    """CTS's full maps: a whole allocation mapped, written, then flushed, invalidated or remapped as the operation says,
    reads back as the model allows."""
    case = cts.case_name(kind, operation, entry, allocation_size) or "between CTS's values"

    def check(mem):
        size = VK_WHOLE_SIZE if whole_map else mem.size
        mapping_operation(mem, transfers, entry, operation, 0, size, seed, whole, case)

    _on_every_type(memory_pool, host_visible_types, kind, allocation_size, check)


@covers(*GUARANTEES)
@KIND
@OPERATION
@ENTRY
@DRAWN
@_sub_examples
@given(row=sub_ranges(), whole=st.booleans(), seed=st.integers(0, 2**32 - 1))
def test_sub_mapping(device, memory_pool, transfers, host_visible_types, kind, operation, entry, row, whole, seed):
    """CTS's sub maps: a range at an offset mapped, written, then flushed, invalidated or remapped as the operation
    says, reads back as the model allows."""
    allocation_size, offset, size = row
    case = cts.case_name(kind, operation, entry, allocation_size, offset, size) or "between CTS's values"
    _on_every_type(
        memory_pool,
        host_visible_types,
        kind,
        allocation_size,
        lambda mem: mapping_operation(mem, transfers, entry, operation, offset, size, seed, whole, case),
    )


def _variable_size(memory_type) -> int:
    """CTS's `variable` size: the largest power of two up to 256 MiB below a quarter of the heap."""
    size = 256 << 20
    while size > 4096 and memory_type.heap_size <= 4 * size:
        size //= 2
    return size


@covers("GUARANTEE-implicit-unmap", "GUARANTEE-map-success", "GUARANTEE-contents-preserved")
@pytest.mark.heavy
@KIND
@ENTRY
@DRAWN
@example(size=None, seed=1)
@given(size=st.sampled_from(cts.ALLOCATION_SIZES), seed=st.integers(0, 2**32 - 1))
def test_free_while_mapped(device, host_visible_types, kind, entry, size, seed):
    """CTS's implicit_unmap: memory freed while mapped releases its host allocations, and the next allocation maps its
    own bytes (size None: CTS's `variable` size)."""
    for mt in host_visible_types:
        allocator = RecordingAllocator()
        free_while_mapped(device, mt, kind, entry, _variable_size(mt) if size is None else size, seed, allocator)


@covers("GUARANTEE-host-view-model", "GUARANTEE-map-success")
@OPERATION
@ENTRY
@DRAWN
@given(row=sub_ranges(), whole=st.booleans(), seed=st.integers(0, 2**32 - 1))
def test_non_coherent_memory(device, memory_pool, physical_device, transfers, operation, entry, row, whole, seed):
    """Every operation on each HOST_VISIBLE type without HOST_COHERENT, judged by the model of defined bytes and flushed
    atoms (NotSupported where the device has none)."""
    require(
        physical_device.non_coherent_types,
        "a HOST_VISIBLE memory type without HOST_COHERENT (every type of this device is coherent: flushes and "
        "invalidates are "
        "judged on coherent memory, and the non-coherent model by the self-tests' emulation)",
    )
    allocation_size, offset, size = row
    case = cts.case_name("suballocation", operation, entry, allocation_size, offset, size) or "between CTS's values"
    _on_every_type(
        memory_pool,
        physical_device.non_coherent_types,
        "suballocation",
        allocation_size,
        lambda mem: mapping_operation(mem, transfers, entry, operation, offset, size, seed, whole, case),
    )
