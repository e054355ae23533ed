"""Adversarial self-tests: drivers made to break a guarantee in one way each must fail
the suite's property checks, and conformant emulations must pass them.  The real entry points are wrapped
(their pointers in ``Driver.pfn`` replaced by the in-process doubles of suites/selftest/doubles/in_process.py)
for the length of one test.
"""

import re

import pytest

from vkmap_cts.fixtures.judge.oracles import assert_success
from vkmap_cts.fixtures.judge.properties.alignment import mapped_alignment
from vkmap_cts.fixtures.judge.properties.contents import writes_stay_inside_the_range
from vkmap_cts.fixtures.judge.properties.device_access import device_and_host_agree
from vkmap_cts.fixtures.judge.properties.identical_to_map_memory import same_bytes_through_every_entry_point
from vkmap_cts.fixtures.judge.properties.mapped_bytes import write_whole
from vkmap_cts.fixtures.judge.strategies import MapRange
from vkmap_cts.fixtures.rules.coverage import entry_points
from vkmap_cts.fixtures.vk import abi
from vkmap_cts.fixtures.vk.abi import VK_WHOLE_SIZE
from vkmap_cts.fixtures.vk.errors import RuleBroken
from vkmap_cts.fixtures.vk.recording import PROCESS
from vkmap_cts.suites.selftest.doubles.in_process import (
    LosesBytesAtUnmap,
    NonCoherentEmulation,
    PlacedEmulation,
    PrivateCopy,
    SharedStaging,
    corrupting_whole_size,
    legacy_shifting,
    shifting,
    unwritten,
)

SIZE = 8192


@pytest.fixture
def mutate(device):
    """Replace entry points of ``device`` for one test; the real ones come back at teardown."""
    saved = dict(device.driver.pfn)

    def apply(**entries):
        for entry, fn in entries.items():
            device.driver.pfn[entry] = fn

    yield apply
    device.driver.pfn.clear()
    device.driver.pfn.update(saved)


@pytest.fixture
def mem(memory_pool, host_visible_types):
    with memory_pool.lease(host_visible_types[0], SIZE) as m:
        yield m


def _check_fails(check, *args) -> RuleBroken:
    """The check fails with a RuleBroken: a verdict naming its rule (not, say, a refused call of the suite's own)."""
    with pytest.raises(RuleBroken) as failed:
        check(*args)
    return failed.value


def _check_fails_with(rule, match, check, *args):
    """The check fails breaking ``rule`` (or one of a tuple of rules), for the reason ``match`` finds in what it
    observed."""
    broken = _check_fails(check, *args)
    assert broken.rule in ((rule,) if isinstance(rule, str) else rule) and re.search(match, broken.observed), broken


@pytest.mark.parametrize("entry", ["vkMapMemory2KHR", "vkMapMemory2"])
def test_misaligned_pointer_fails_the_alignment_check(device, mutate, mem, entry):
    real = device.driver.pfn[entry]
    mutate(**{entry: shifting(real, lambda offset: 8)})
    _check_fails(mapped_alignment, mem, entry, [MapRange(0, VK_WHOLE_SIZE)], device.limits_alignment)


def test_misalignment_only_for_nonzero_offsets_is_caught(device, mutate, mem):
    real = device.driver.pfn["vkMapMemory2KHR"]
    mutate(vkMapMemory2KHR=shifting(real, lambda offset: 16, when=lambda offset, size: offset > 0))
    mapped_alignment(mem, "vkMapMemory2KHR", [MapRange(0, VK_WHOLE_SIZE)], device.limits_alignment)  # offset 0: correct
    _check_fails(
        mapped_alignment,
        mem,
        "vkMapMemory2KHR",
        [MapRange(0, VK_WHOLE_SIZE), MapRange(100, 10)],
        device.limits_alignment,
    )


@pytest.mark.parametrize("bug, shift", [("offset ignored", lambda o: -o), ("offset applied twice", lambda o: o)])
def test_offset_bugs_fail_the_same_bytes_check(device, mutate, mem, bug, shift):
    """With a 64-byte offset the pointer is still aligned: only the bytes can tell."""
    real = device.driver.pfn["vkMapMemory2"]
    mutate(vkMapMemory2=shifting(real, shift))
    mapped_alignment(mem, "vkMapMemory2", [MapRange(64, 64)], device.limits_alignment)  # passes: aligned either way
    _check_fails(
        same_bytes_through_every_entry_point, mem, "vkMapMemory2KHR", "vkMapMemory2", "vkUnmapMemory2KHR", 64, 64, 1
    )


def test_bug_only_for_whole_size_is_caught(device, mutate, mem):
    mutate(vkMapMemory2KHR=corrupting_whole_size(device.driver.pfn["vkMapMemory2KHR"]))
    same_bytes_through_every_entry_point(
        mem, "vkMapMemory", "vkMapMemory2KHR", "vkUnmapMemory", 0, 64, 2
    )  # explicit size: fine
    _check_fails(
        same_bytes_through_every_entry_point,
        mem,
        "vkMapMemory",
        "vkMapMemory2KHR",
        "vkUnmapMemory",
        0,
        VK_WHOLE_SIZE,
        3,
    )


def test_an_unmap_that_fails_inside_the_drivers_loop_fails_its_check(device, mutate, mem):
    """The driver's one loop stops at an unmap that returns an error: its check fails and names the rule, the journal
    holds the pairs before it, the map that held with its checks, then the failed unmap, and the suite's state has
    the memory unmapped (any result but a declined reservation unmaps), so the next map is valid usage."""
    from vkmap_cts.fixtures.rules.return_codes import under_pressure

    real = device.driver.pfn["vkUnmapMemory2KHR"]
    calls = []

    def third_unmap_fails(dev, info):
        calls.append(real(dev, info))
        return abi.VK_ERROR_MEMORY_MAP_FAILED if len(calls) == 3 else calls[-1]

    mutate(vkUnmapMemory2KHR=third_unmap_fails)
    ranges = [MapRange(0, VK_WHOLE_SIZE), MapRange(64, 64), MapRange(100, 10), MapRange(0, 8)]
    PROCESS.journal.begin_example()
    with under_pressure("a test double whose third unmap fails"):  # the per-test return-code oracle sees it too
        _check_fails_with(
            "GUARANTEE-map-success",
            "^vkUnmapMemory2KHR .* returned VK_ERROR_MEMORY_MAP_FAILED",
            mapped_alignment,
            mem,
            "vkMapMemory2KHR",
            ranges,
            device.limits_alignment,
        )
    events = PROCESS.journal.snapshot()["events"]
    calls_made = [(e["entry"], e.get("offset"), e.get("result")) for e in events if e["op"] == "call"]
    assert calls_made == [
        ("vkMapMemory2KHR", 0, 0),
        ("vkUnmapMemory2KHR", None, 0),
        ("vkMapMemory2KHR", 64, 0),
        ("vkUnmapMemory2KHR", None, 0),
        ("vkMapMemory2KHR", 100, 0),
        ("vkUnmapMemory2KHR", None, abi.VK_ERROR_MEMORY_MAP_FAILED),
    ]
    failed = [e for e in events if e["op"] == "check" and not e["passed"]]
    assert [e["rule"] for e in failed] == ["GUARANTEE-map-success"] and failed[0]["call"] == len(events) - 2
    assert mem.mapping is None
    assert mem.map2().ok  # valid usage: the suite's state follows the driver's
    mem.unmap2()


@pytest.mark.parametrize(
    "entry, unmap_entry", [("vkMapMemory2KHR", "vkUnmapMemory2KHR"), ("vkMapMemory2", "vkUnmapMemory2")]
)
def test_private_copy_fails_the_contents_checks(device, mutate, mem, entry, unmap_entry):
    bad = PrivateCopy(device.driver.pfn[entry], device.driver.pfn[unmap_entry])
    mutate(**{entry: bad.map, unmap_entry: bad.unmap})
    _check_fails(same_bytes_through_every_entry_point, mem, entry, "vkMapMemory", unmap_entry, 0, VK_WHOLE_SIZE, 4)
    _check_fails(writes_stay_inside_the_range, mem, entry, 128, 256, 5)


def test_private_copy_fails_the_device_access_check(device, mutate, memory_pool, transfers, host_visible_types):
    bad = PrivateCopy(device.driver.pfn["vkMapMemory2KHR"], device.driver.pfn["vkUnmapMemory2KHR"])
    with memory_pool.lease(host_visible_types[0], SIZE) as mem, memory_pool.lease(host_visible_types[0], 4096) as other:
        try:
            device_and_host_agree(mem, other, transfers, "vkMapMemory2KHR", 4096, 4096, 7)  # control: the real driver
            mutate(vkMapMemory2KHR=bad.map, vkUnmapMemory2KHR=bad.unmap)
            _check_fails(device_and_host_agree, mem, other, transfers, "vkMapMemory2KHR", 4096, 4096, 8)
        finally:
            transfers.release_buffers()


def test_bytes_lost_at_unmap_fail_the_contents_check(device, mutate, mem):
    bad = LosesBytesAtUnmap(device.driver.pfn["vkMapMemory2KHR"], device.driver.pfn["vkUnmapMemory2KHR"])
    mutate(vkMapMemory2KHR=bad.map, vkUnmapMemory2KHR=bad.unmap)
    _check_fails(writes_stay_inside_the_range, mem, "vkMapMemory2KHR", 0, VK_WHOLE_SIZE, 6)


def test_unwritten_ppdata_fails_the_success_check(device, mutate, mem):
    mutate(vkMapMemory2KHR=unwritten(device.driver.pfn["vkMapMemory2KHR"]))
    _check_fails_with(
        "GUARANTEE-ppdata-written",
        "not written",
        mapped_alignment,
        mem,
        "vkMapMemory2KHR",
        [MapRange(0, VK_WHOLE_SIZE)],
        device.limits_alignment,
    )
    if mem.mapping is not None:  # the suite believed the map succeeded; the real mapping exists
        mem.unmap2()


def test_the_real_driver_passes_the_same_checks(device, mem):
    """Control: without a mutant, every check above passes on the same inputs."""
    mapped_alignment(
        mem,
        "vkMapMemory2KHR",
        [MapRange(0, VK_WHOLE_SIZE), MapRange(100, 10), MapRange(64, 64)],
        device.limits_alignment,
    )
    same_bytes_through_every_entry_point(mem, "vkMapMemory2KHR", "vkMapMemory2", "vkUnmapMemory2KHR", 64, 64, 1)
    same_bytes_through_every_entry_point(mem, "vkMapMemory", "vkMapMemory2KHR", "vkUnmapMemory", 0, 64, 3)
    writes_stay_inside_the_range(mem, "vkMapMemory2KHR", 128, 256, 5)


@pytest.mark.parametrize(
    "entry, unmap_entry", [("vkMapMemory2KHR", "vkUnmapMemory2KHR"), ("vkMapMemory2", "vkUnmapMemory2")]
)
def test_bytes_lost_at_unmap_fail_the_stateful_models_check(device, mutate, mem, entry, unmap_entry):
    """The model's read step (vkmap_cts.fixtures.judge.model) sees the loss: map, learn, write, unmap, map again,
    read."""
    from vkmap_cts.fixtures.judge.coherence import ReferenceMemory
    from vkmap_cts.fixtures.judge.model import ModelMemory

    bad = LosesBytesAtUnmap(device.driver.pfn[entry], device.driver.pfn[unmap_entry])
    mutate(**{entry: bad.map, unmap_entry: bad.unmap})
    model = ModelMemory(mem.size, ReferenceMemory(mem.size, device.physical.non_coherent_atom_size, coherent=True))
    assert_success(mem.map_with(entry))
    model.map(entry, 0, VK_WHOLE_SIZE)
    model.reference.read("GUARANTEE-stateful-model", 0, mem.read(), "first read")
    mem.write(bytes(range(1, 11)), at=10)
    model.reference.write(10, bytes(range(1, 11)))
    mem.unmap_with(unmap_entry)
    model.unmap()
    assert_success(mem.map_with(entry))
    model.map(entry, 0, VK_WHOLE_SIZE)
    _check_fails_with(
        "GUARANTEE-stateful-model", "differ", model.reference.read, "GUARANTEE-stateful-model", 0, mem.read(), "model"
    )
    mem.unmap_with(unmap_entry)


@pytest.mark.parametrize("bug, shift", [("offset ignored", lambda o: -o), ("offset applied twice", lambda o: o)])
def test_offset_bug_only_in_vkMapMemory_is_caught(device, mutate, mem, bug, shift):
    """The 2 forms are right; only vkMapMemory is wrong, so the comparison reads through vkMapMemory."""
    mutate(vkMapMemory=legacy_shifting(device.driver.pfn["vkMapMemory"], shift))
    same_bytes_through_every_entry_point(
        mem, "vkMapMemory2KHR", "vkMapMemory2KHR", "vkUnmapMemory2KHR", 128, 64, 11
    )  # control
    _check_fails_with(
        "GUARANTEE-identical-to-vkMapMemory",
        "read via vkMapMemory at offset 128",
        same_bytes_through_every_entry_point,
        mem,
        "vkMapMemory2KHR",
        "vkMapMemory",
        "vkUnmapMemory2KHR",
        128,
        64,
        12,
    )


def test_state_shared_between_memory_objects_fails_only_the_concurrency_check(
    device, mutate, memory_pool, host_visible_types
):
    """A bug that shows only under concurrency: one thread passes, four threads on four objects fail."""
    import contextlib

    from vkmap_cts.fixtures.judge.properties.concurrency import threads_see_only_their_own_bytes
    from vkmap_cts.fixtures.vk.arguments import MAP_ENTRIES

    entries = [e for e in MAP_ENTRIES if device.driver.has(e)]
    mutate(**SharedStaging(dict(device.driver.pfn), SIZE).entries())
    with contextlib.ExitStack() as leases:
        mems = [leases.enter_context(memory_pool.lease(host_visible_types[0], SIZE)) for _ in range(4)]
        threads_see_only_their_own_bytes(mems[:1], entries, 1, 8)  # one thread: the copies hide the bug
        for m in mems:  # one object after another: hidden too
            same_bytes_through_every_entry_point(
                m, "vkMapMemory2KHR", "vkMapMemory", "vkUnmapMemory2", 64, VK_WHOLE_SIZE, 13
            )
        _check_fails_with(
            "GUARANTEE-concurrent-maps",
            r"thread \d+, round \d+.*bytes differ",
            threads_see_only_their_own_bytes,
            mems,
            entries,
            2,
            20,
        )


def test_non_coherent_memory_is_judged_through_flush_and_invalidate(
    device, mutate, memory_pool, transfers, host_visible_types, monkeypatch
):
    """The path for memory types without HOST_COHERENT (neither lavapipe nor the NVIDIA reference has
    one), run against an emulation: with flushes and invalidates over atom-rounded ranges inside the
    mapping the check passes; a check that skipped them (treating the memory as coherent) fails."""
    atom = device.physical.non_coherent_atom_size
    emulation = NonCoherentEmulation(dict(device.driver.pfn), transfers.lib, atom)
    monkeypatch.setattr(transfers, "lib", emulation.lib_proxy())
    mutate(vkMapMemory2KHR=emulation.map, vkUnmapMemory2KHR=emulation.unmap)
    with memory_pool.lease(host_visible_types[0], SIZE) as mem, memory_pool.lease(host_visible_types[0], 4096) as other:
        try:
            device_and_host_agree(mem, other, transfers, "vkMapMemory2KHR", 4096, 4096, 9, coherent=False)
            assert {name for name, _, _ in emulation.ranges} == {
                "vkFlushMappedMemoryRanges",
                "vkInvalidateMappedMemoryRanges",
            }
            _check_fails_with(
                "GUARANTEE-device-coherent",
                "host writes, as the device copied them",
                device_and_host_agree,
                mem,
                other,
                transfers,
                "vkMapMemory2KHR",
                4096,
                4096,
                10,
                True,
            )
        finally:
            transfers.release_buffers()


@pytest.fixture
def emulated_placed(device, mutate):
    """``device`` as if it had VK_EXT_map_memory_placed (memoryMapPlaced, memoryUnmapReserve, 4096) for one test:
    returns a function that installs a PlacedEmulation with the given RESERVE behaviour."""
    from vkmap_cts.fixtures.vk.instance import PlacedMapSupport

    saved = device.state.placed, device.state.extensions
    device.state.placed = PlacedMapSupport(True, False, True, 4096)
    device.state.extensions = device.state.extensions | {"VK_EXT_map_memory_placed"}

    def install(decline, in_place=False):
        mutate(**PlacedEmulation(dict(device.driver.pfn), decline, in_place).entries())

    yield install
    device.state.placed, device.state.extensions = saved


def _reserve_unmap(device, host_visible_types, entry, seed=5):
    from vkmap_cts.fixtures.judge.properties.placed_maps import placed_map, reserve_unmap_keeps_its_promise
    from vkmap_cts.fixtures.vk.address_space import reserved

    mem = device.allocate(host_visible_types[0], 2 * 4096)
    other = device.allocate(host_visible_types[0], 2 * 4096)
    try:
        with reserved(2 * 4096, 4096) as address:
            assert placed_map(mem, address) is not None
            try:
                return reserve_unmap_keeps_its_promise(mem, entry, other, seed)
            finally:
                if mem.mapping is not None:
                    mem.unmap2()
    finally:
        device.free(mem)
        device.free(other)


@pytest.mark.parametrize("decline, outcome", [(None, "reserved"), ("correctly", "declined")])
@entry_points("entry", ["vkUnmapMemory2KHR", "vkUnmapMemory2"])
def test_a_reserving_unmap_that_keeps_or_declines_as_the_spec_allows_passes(
    device, emulated_placed, host_visible_types, entry, decline, outcome
):
    """A driver that keeps the range reserved, or declines and leaves the memory mapped with its bytes, passes the
    RESERVE check."""
    emulated_placed(decline)
    assert _reserve_unmap(device, host_visible_types, entry) == outcome


@pytest.mark.parametrize(
    "decline, match", [("but unmaps", "no longer mapped"), ("other code", "returned VK_ERROR_UNKNOWN")]
)
def test_a_reserving_unmap_that_declines_and_unmaps_or_returns_another_code_fails(
    device, emulated_placed, host_visible_types, decline, match
):
    """A driver that says it declined yet unmapped, or that fails with a code the spec does not give, fails the RESERVE
    check."""
    from vkmap_cts.fixtures.rules.return_codes import under_pressure

    emulated_placed(decline)
    with (
        under_pressure("a test double whose unmap returns a code the check must reject"),
        pytest.raises(RuleBroken, match=f"^GUARANTEE-unmap-reserve: .*{match}") as failed,
    ):
        _reserve_unmap(device, host_visible_types, "vkUnmapMemory2KHR")
    assert failed.value.rule == "GUARANTEE-unmap-reserve"


@pytest.mark.parametrize("entry", ["vkMapMemory2KHR", "vkMapMemory2"])
@pytest.mark.parametrize("reserve", [False, True], ids=["exact_size", "unmap_reserve"])
def test_cts_placed_cases_pass_a_driver_that_replaces_the_pages_and_fail_one_that_writes_into_them(
    device, emulated_placed, host_visible_types, entry, reserve
):
    """CTS's exact_size and unmap_reserve checks: an emulated placed map that lays its own pages over the guarded
    memfd view passes; one that copies into the view's pages (the file's pages behind the range are written) fails."""
    from vkmap_cts.fixtures.judge.properties.cts_map_placed import placed_between_guards
    from vkmap_cts.fixtures.vk.arguments import UNMAP_FOR

    if not device.driver.has(entry):
        pytest.skip(f"{entry} is not on this device")
    for in_place in (False, True):
        emulated_placed(None, in_place=in_place)
        mem = device.allocate(host_visible_types[0], 2 * 4096)
        other = device.allocate(host_visible_types[0], 2 * 4096)
        try:
            check = (placed_between_guards, mem, entry, UNMAP_FOR[entry], reserve, other, 3)
            if in_place:
                _check_fails_with(("GUARANTEE-placed-replaces-exactly", "GUARANTEE-unmap-reserve"), "", *check)
            else:
                assert check[0](*check[1:]) == ("reserved" if reserve else "placed")
        finally:
            device.free(mem)
            device.free(other)


OPERATIONS_WITH_RANGES = [
    "flush",
    "subflush",
    "subflush_separate",
    "subflush_overlapping",
    "invalidate",
    "subinvalidate",
    "subinvalidate_separate",
    "subinvalidate_overlapping",
]


@pytest.mark.parametrize("operation", ["simple", "remap", *OPERATIONS_WITH_RANGES])
@pytest.mark.parametrize(
    "offset, size, whole", [(0, SIZE, True), (17, 4085, True), (1025, 4085, False), (129, 31, False)]
)
def test_cts_operations_on_emulated_non_coherent_memory(
    device, mutate, transfers, host_visible_types, monkeypatch, operation, offset, size, whole
):
    """CTS's mapping operations on memory that behaves as non-coherent (an emulation, as neither reference driver has
    such a type): judged by the model of defined bytes and flushed atoms, a correct driver passes every operation; one
    whose invalidate garbles the bytes fails every invalidating operation."""
    from vkmap_cts.fixtures.judge.properties.cts_mapping import mapping_operation

    atom = device.physical.non_coherent_atom_size
    for bug in (None, "invalidate garbles"):
        emulation = NonCoherentEmulation(dict(device.driver.pfn), transfers.lib, atom, bug)
        monkeypatch.setattr(transfers, "lib", emulation.lib_proxy())
        mutate(vkMapMemory2KHR=emulation.map, vkUnmapMemory2KHR=emulation.unmap)
        mem = device.allocate(host_visible_types[0], SIZE)
        try:
            write_whole(mem, "vkMapMemory", bytes(SIZE))  # not what an earlier test left at the same place
            check = (
                mapping_operation,
                mem,
                transfers,
                "vkMapMemory2KHR",
                operation,
                offset,
                size,
                5,
                whole,
                "emulated",
                False,
            )
            if bug is not None and operation.startswith(("invalidate", "subinvalidate")):
                _check_fails_with("GUARANTEE-host-view-model", " defined bytes differ", *check)
            else:
                check[0](*check[1:])
        finally:
            if mem.mapping is not None:
                mem.unmap2()
            device.free(mem)


@pytest.mark.parametrize("operation", OPERATIONS_WITH_RANGES)
def test_cts_operations_see_a_flush_that_is_ignored(
    device, mutate, transfers, host_visible_types, monkeypatch, operation
):
    """On emulated non-coherent memory whose flushes move nothing to the memory, every operation that flushes and then
    reads what reached the memory (after a remap or an invalidate of flushed atoms) fails; the model judges the rest."""
    from vkmap_cts.fixtures.judge.properties.cts_mapping import mapping_operation

    emulation = NonCoherentEmulation(
        dict(device.driver.pfn), transfers.lib, device.physical.non_coherent_atom_size, "flush ignored"
    )
    monkeypatch.setattr(transfers, "lib", emulation.lib_proxy())
    mutate(vkMapMemory2KHR=emulation.map, vkUnmapMemory2KHR=emulation.unmap)
    mem = device.allocate(host_visible_types[0], SIZE)
    try:
        write_whole(mem, "vkMapMemory", bytes(SIZE))  # not what an earlier test left at the same place
        check = (mapping_operation, mem, transfers, "vkMapMemory2KHR", operation, 0, SIZE, 6, True, "emulated", False)
        if operation.startswith(("invalidate", "subinvalidate")):
            _check_fails_with("GUARANTEE-host-view-model", "", *check)
        else:
            check[0](*check[1:])  # nothing read depends on the flush having reached the memory
    finally:
        if mem.mapping is not None:
            mem.unmap2()
        device.free(mem)


@pytest.mark.parametrize(
    "entry, unmap_entry", [("vkMapMemory2KHR", "vkUnmapMemory2KHR"), ("vkMapMemory2", "vkUnmapMemory2")]
)
def test_bytes_lost_at_unmap_fail_the_remap_cycles(device, mutate, mem, entry, unmap_entry):
    """Remap cycles through a pair of entry points that loses the bytes written before each unmap fail the contents
    check."""
    from vkmap_cts.fixtures.judge.properties.remap_cycles import remap_cycles

    bad = LosesBytesAtUnmap(device.driver.pfn[entry], device.driver.pfn[unmap_entry])
    mutate(**{entry: bad.map, unmap_entry: bad.unmap})
    _check_fails_with(
        "GUARANTEE-contents-preserved",
        "",
        remap_cycles,
        mem,
        [(entry, unmap_entry, 0, VK_WHOLE_SIZE), (entry, unmap_entry, 64, 128)],
        4,
        device.limits_alignment,
    )
    assert mem.mapping is None, "the failing check left the cycle's map in place"


@pytest.mark.parametrize("entry", ["vkMapMemory2KHR", "vkMapMemory2"])
def test_offsets_kept_in_32_bits_fail_the_maps_past_4_gib(device, mutate, host_visible_types, entry):
    """A driver that keeps a map's offset in 32 bits (maps offset 2^32 + x at x) fails the check of maps past 4 GiB; the
    real one passes."""
    from vkmap_cts.fixtures.judge.properties.large_allocations import far_offsets_map_their_own_bytes

    size = (4 << 30) + 8192
    if 2 * size > device.physical.heap_budgets()[host_visible_types[0].heap_index]:
        pytest.skip("no room for a 4 GiB allocation")
    mem = device.allocate(host_visible_types[0], size)
    try:
        far_offsets_map_their_own_bytes(mem, entry, (1 << 32) + 64, 4096, 1, device.limits_alignment)
        mutate(**{entry: shifting(device.driver.pfn[entry], lambda o: -(o >> 32 << 32))})
        _check_fails_with(
            "GUARANTEE-identical-to-vkMapMemory",
            "the bytes written there",
            far_offsets_map_their_own_bytes,
            mem,
            entry,
            (1 << 32) + 64,
            4096,
            2,
            device.limits_alignment,
        )
    finally:
        if mem.mapping is not None:
            mem.unmap2()
        device.free(mem)


def test_a_private_copy_fails_the_imported_host_memory_check(device, mutate, transfers, import_host_memory):
    """Imported host memory mapped as a private copy: writes through the mapping never reach the host pointer, and the
    check fails."""
    from vkmap_cts.fixtures.judge.properties.imported_host_memory import imported_memory_shares_the_host_bytes

    mem = import_host_memory(2 * device.physical.min_imported_host_pointer_alignment)
    try:
        imported_memory_shares_the_host_bytes(mem, transfers, "vkMapMemory2KHR", 1)
        bad = PrivateCopy(device.driver.pfn["vkMapMemory2KHR"], device.driver.pfn["vkUnmapMemory2KHR"])
        mutate(vkMapMemory2KHR=bad.map, vkUnmapMemory2KHR=bad.unmap)
        _check_fails_with(
            "GUARANTEE-imported-host-memory",
            "read through the host pointer",
            imported_memory_shares_the_host_bytes,
            mem,
            transfers,
            "vkMapMemory2KHR",
            2,
        )
    finally:
        device.free(mem)


def test_a_map_that_fails_inside_the_drivers_one_loop_is_judged_by_the_oracles(device, mutate, mem):
    """The third of four ranges misaligned (only for offset 100): mapped_alignment's loop stops there, the oracle names
    the alignment rule, the journal holds the two ranges that held (five events each), the failing map and its failed
    check, the memory is unmapped again, and the driver's call counts are the calls made (three maps, three unmaps)."""
    from vkmap_cts.fixtures.vk import journal

    real = device.driver.pfn["vkMapMemory2KHR"]
    mutate(vkMapMemory2KHR=shifting(real, lambda o: 1, when=lambda offset, size: offset == 100))
    PROCESS.journal.begin_example()
    ranges = [MapRange(0, VK_WHOLE_SIZE), MapRange(64, 64), MapRange(100, 10), MapRange(0, 8)]
    before = dict(device.driver.calls)
    _check_fails_with(
        "GUARANTEE-map-alignment",
        "misaligned by 1$",
        mapped_alignment,
        mem,
        "vkMapMemory2KHR",
        ranges,
        device.limits_alignment,
    )
    made = {e: device.driver.calls[e] - before.get(e, 0) for e in ("vkMapMemory2KHR", "vkUnmapMemory2KHR")}
    assert made == {"vkMapMemory2KHR": 3, "vkUnmapMemory2KHR": 3}, f"the driver's call counts: {made}"
    events = PROCESS.journal.snapshot()["events"]
    assert [e["op"] for e in events[:10]] == ["call", "check", "check", "call", "check"] * 2
    assert events[10]["op"] == "call" and events[10]["offset"] == 100
    assert journal.failed_check(events)["rule"] == "GUARANTEE-map-alignment"
    assert mem.mapping is None
