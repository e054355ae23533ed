"""Adversarial self-tests: drivers made to break a guarantee in one way each must fail
the suite's property checks.  The real entry points are wrapped (their pointers in
``Driver.pfn`` replaced by Python functions around them) for the length of one test.
"""

import pytest

from vkmap_cts.fixtures.access.driver import SENTINEL
from vkmap_cts.fixtures.judge.oracles import assert_success
from vkmap_cts.fixtures.judge.properties import (
    device_and_host_agree,
    mapped_alignment,
    same_bytes_through_every_entry_point,
    write_whole,
    writes_stay_inside_the_range,
)
from vkmap_cts.fixtures.judge.strategies import MapRange
from vkmap_cts.fixtures.vk import abi
from vkmap_cts.fixtures.vk.abi import ffi

W = abi.VK_WHOLE_SIZE
SIZE = 8192


def _ptr(pp) -> int:
    return int(ffi.cast("uintptr_t", pp[0]))


def _set(pp, value: int) -> None:
    pp[0] = ffi.cast("void*", value)


def _mapped_size(info) -> int:
    """The size of the range a VkMemoryMapInfo maps (VK_WHOLE_SIZE resolved from the suite's state)."""
    from vkmap_cts.fixtures.vk.state import OBJECTS

    if info.size != W:
        return info.size
    return OBJECTS.memories[int(ffi.cast("uintptr_t", info.memory))].size - info.offset


def _shifting(real, shift, when=lambda offset, size: True):
    """A map entry point (the 2 forms) that returns the driver's pointer moved by shift(offset)."""

    def mutant(device, info, pp):
        result = real(device, info, pp)
        if result == 0 and when(info.offset, info.size):
            _set(pp, _ptr(pp) + shift(info.offset))
        return result

    return mutant


class PrivateCopy:
    """Maps hand out a private copy of the memory; unmap drops it (a stale copy: writes are lost)."""

    def __init__(self, real_map, real_unmap):
        self.real_map, self.real_unmap, self.copies = real_map, real_unmap, {}

    def map(self, device, info, pp):
        result = self.real_map(device, info, pp)
        if result == 0:
            size = _mapped_size(info)
            buffer = ffi.new("uint8_t[]", size + 256)  # aligned as the driver's pointer is: only the copy is wrong
            base = int(ffi.cast("uintptr_t", buffer))
            copy = ffi.cast("uint8_t*", base + (info.offset - base) % 256)
            ffi.memmove(copy, ffi.cast("uint8_t*", pp[0]), size)
            self.copies[int(ffi.cast("uintptr_t", info.memory))] = buffer
            pp[0] = ffi.cast("void*", copy)
        return result

    def unmap(self, device, info):
        self.copies.pop(int(ffi.cast("uintptr_t", info.memory)), None)
        return self.real_unmap(device, info)


class LosesBytesAtUnmap:
    """Unmap puts back what the memory held when it was mapped: writes through the mapping are lost."""

    def __init__(self, real_map, real_unmap):
        self.real_map, self.real_unmap, self.saved = real_map, real_unmap, {}

    def map(self, device, info, pp):
        result = self.real_map(device, info, pp)
        if result == 0:
            size = _mapped_size(info)
            self.saved[int(ffi.cast("uintptr_t", info.memory))] = (
                _ptr(pp),
                bytes(ffi.buffer(ffi.cast("uint8_t*", pp[0]), size)),
            )
        return result

    def unmap(self, device, info):
        from vkmap_cts.fixtures.vk.state import OBJECTS

        handle = int(ffi.cast("uintptr_t", info.memory))
        ptr, data = self.saved.pop(handle, (None, b""))
        live = OBJECTS.memories[handle].mapped
        if ptr is not None and live is not None and live.ptr == ptr:  # only a mapping this mutant made
            ffi.memmove(ffi.cast("uint8_t*", ptr), data, len(data))
        return self.real_unmap(device, info)


def _unwritten(real):
    def mutant(device, info, pp):
        result = real(device, info, pp)
        _set(pp, SENTINEL)
        return result

    return mutant


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


def _check_fails(check, *args):
    with pytest.raises(AssertionError):
        check(*args)


def _check_fails_with(match, check, *args):
    """The check fails, for the reason ``match`` names (not, say, a refused call of the suite's own)."""
    with pytest.raises(AssertionError, match=match):
        check(*args)


@pytest.mark.parametrize("entry", ["vkMapMemory2KHR", "vkMapMemory2"])
def test_misaligned_pointer_fails_the_alignment_check(device, mutate, mem, entry):
    real = device.driver.pfn[entry]
    mutate(**{entry: _shifting(real, lambda offset: 8)})
    _check_fails(mapped_alignment, mem, entry, [MapRange(0, W)], device.limits_alignment)


def test_misalignment_only_for_nonzero_offsets_is_caught(device, mutate, mem):
    real = device.driver.pfn["vkMapMemory2KHR"]
    mutate(vkMapMemory2KHR=_shifting(real, lambda offset: 16, when=lambda offset, size: offset > 0))
    mapped_alignment(mem, "vkMapMemory2KHR", [MapRange(0, W)], device.limits_alignment)  # offset 0: correct
    _check_fails(mapped_alignment, mem, "vkMapMemory2KHR", [MapRange(0, W), MapRange(100, 10)], device.limits_alignment)


@pytest.mark.parametrize("bug, shift", [("offset ignored", lambda o: -o), ("offset applied twice", lambda o: o)])
def test_offset_bugs_fail_the_same_bytes_check(device, mutate, mem, bug, shift):
    """With a 64-byte offset the pointer is still aligned: only the bytes can tell."""
    real = device.driver.pfn["vkMapMemory2"]
    mutate(vkMapMemory2=_shifting(real, shift))
    mapped_alignment(mem, "vkMapMemory2", [MapRange(64, 64)], device.limits_alignment)  # passes: aligned either way
    _check_fails(
        same_bytes_through_every_entry_point, mem, "vkMapMemory2KHR", "vkMapMemory2", "vkUnmapMemory2KHR", 64, 64, 1
    )


def _corrupting_whole_size(real):
    """A map that flips the first mapped byte, only when size is VK_WHOLE_SIZE."""

    def mutant(device, info, pp):
        result = real(device, info, pp)
        if result == 0 and info.size == W:
            p = ffi.cast("uint8_t*", pp[0])
            p[0] = p[0] ^ 0xFF
        return result

    return mutant


def test_bug_only_for_whole_size_is_caught(device, mutate, mem):
    mutate(vkMapMemory2KHR=_corrupting_whole_size(device.driver.pfn["vkMapMemory2KHR"]))
    same_bytes_through_every_entry_point(
        mem, "vkMapMemory", "vkMapMemory2KHR", "vkUnmapMemory", 0, 64, 2
    )  # explicit size: fine
    _check_fails(same_bytes_through_every_entry_point, mem, "vkMapMemory", "vkMapMemory2KHR", "vkUnmapMemory", 0, W, 3)


def test_an_unmap_that_fails_inside_the_drivers_loop_fails_its_check(device, mutate, mem):
    """The driver's one loop stops at an unmap that returns an error: its check fails and names the rule, the journal
    holds the pairs before it, the map that held with its checks, then the failed unmap, and the suite's state has
    the memory unmapped (any result but a declined reservation unmaps), so the next map is valid usage."""
    from vkmap_cts.fixtures.rules.return_codes import under_pressure
    from vkmap_cts.fixtures.vk import journal

    real = device.driver.pfn["vkUnmapMemory2KHR"]
    calls = []

    def third_unmap_fails(dev, info):
        calls.append(real(dev, info))
        return abi.VK_ERROR_MEMORY_MAP_FAILED if len(calls) == 3 else calls[-1]

    mutate(vkUnmapMemory2KHR=third_unmap_fails)
    ranges = [MapRange(0, W), MapRange(64, 64), MapRange(100, 10), MapRange(0, 8)]
    journal.begin_example()
    with under_pressure("a test double whose third unmap fails"):  # the per-test return-code oracle sees it too
        _check_fails_with(
            "GUARANTEE-map-success: vkUnmapMemory2KHR .* returned VK_ERROR_MEMORY_MAP_FAILED",
            mapped_alignment,
            mem,
            "vkMapMemory2KHR",
            ranges,
            device.limits_alignment,
        )
    events = journal.snapshot()["events"]
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
    _check_fails(same_bytes_through_every_entry_point, mem, entry, "vkMapMemory", unmap_entry, 0, W, 4)
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
    _check_fails(writes_stay_inside_the_range, mem, "vkMapMemory2KHR", 0, W, 6)


def test_unwritten_ppdata_fails_the_success_check(device, mutate, mem):
    mutate(vkMapMemory2KHR=_unwritten(device.driver.pfn["vkMapMemory2KHR"]))
    with pytest.raises(AssertionError, match="not written"):
        mapped_alignment(mem, "vkMapMemory2KHR", [MapRange(0, W)], device.limits_alignment)
    if mem.mapping is not None:  # the suite believed the map succeeded; the real mapping exists
        mem.unmap2()


def test_the_real_driver_passes_the_same_checks(device, mem):
    """Control: without a mutant, every check above passes on the same inputs."""
    mapped_alignment(
        mem, "vkMapMemory2KHR", [MapRange(0, W), MapRange(100, 10), MapRange(64, 64)], device.limits_alignment
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
    model.map(entry, 0, W)
    model.reference.read("GUARANTEE-stateful-model", 0, mem.read(), "first read")
    mem.write(bytes(range(1, 11)), at=10)
    model.reference.write(10, bytes(range(1, 11)))
    mem.unmap_with(unmap_entry)
    model.unmap()
    assert_success(mem.map_with(entry))
    model.map(entry, 0, W)
    with pytest.raises(AssertionError, match="GUARANTEE-stateful-model: .*differ"):
        model.reference.read("GUARANTEE-stateful-model", 0, mem.read(), "model")
    mem.unmap_with(unmap_entry)


def _handle(memory) -> int:
    return int(ffi.cast("uintptr_t", memory))


def _legacy_shifting(real, shift):
    """vkMapMemory returning the driver's pointer moved by shift(offset): a bug of the legacy entry point only."""

    def mutant(device, memory, offset, size, flags, pp):
        result = real(device, memory, offset, size, flags, pp)
        if result == 0:
            _set(pp, _ptr(pp) + shift(offset))
        return result

    return mutant


@pytest.mark.parametrize("bug, shift", [("offset ignored", lambda o: -o), ("offset applied twice", lambda o: o)])
def test_offset_bug_only_in_vkMapMemory_is_caught(device, mutate, mem, bug, shift):
    """The 2 forms are right; only vkMapMemory is wrong, so the comparison reads through vkMapMemory."""
    mutate(vkMapMemory=_legacy_shifting(device.driver.pfn["vkMapMemory"], shift))
    same_bytes_through_every_entry_point(
        mem, "vkMapMemory2KHR", "vkMapMemory2KHR", "vkUnmapMemory2KHR", 128, 64, 11
    )  # control
    _check_fails_with(
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


class SharedStaging:
    """Every map, by any entry point, hands out one staging buffer shared by all memory objects: the
    memory is copied in at map and back at unmap.  Right while one memory object is mapped at a time;
    with several threads, each on its own object, the objects overwrite each other's bytes."""

    def __init__(self, real: dict, capacity: int):
        self.real = real
        self.raw = ffi.new("uint8_t[]", capacity + 4096)
        self.base = (_handle(self.raw) + 4095) & ~4095  # page-aligned, like a real mapping
        self.live = {}  # memory handle -> (driver's pointer, size)

    def _stage(self, memory, pp, size: int) -> None:
        import time

        ptr = _ptr(pp)
        self.live[_handle(memory)] = (ptr, size)
        ffi.memmove(ffi.cast("uint8_t*", self.base), ffi.cast("uint8_t*", ptr), size)
        _set(pp, self.base)
        time.sleep(0.001)  # widen the window in which another thread's map takes the buffer

    def _unstage(self, memory) -> None:
        ptr, size = self.live.pop(_handle(memory), (None, 0))
        if ptr is not None:
            ffi.memmove(ffi.cast("uint8_t*", ptr), ffi.cast("uint8_t*", self.base), size)

    def entries(self) -> dict:
        def map2(entry):
            def mutant(device, info, pp):
                result = self.real[entry](device, info, pp)
                if result == 0:
                    self._stage(info.memory, pp, _mapped_size(info))
                return result

            return mutant

        def unmap2(entry):
            def mutant(device, info):
                self._unstage(info.memory)
                return self.real[entry](device, info)

            return mutant

        def map_legacy(device, memory, offset, size, flags, pp):
            from vkmap_cts.fixtures.vk.state import OBJECTS

            result = self.real["vkMapMemory"](device, memory, offset, size, flags, pp)
            if result == 0:
                self._stage(memory, pp, OBJECTS.memories[_handle(memory)].size - offset if size == W else size)
            return result

        def unmap_legacy(device, memory):
            self._unstage(memory)
            return self.real["vkUnmapMemory"](device, memory)

        out = {"vkMapMemory": map_legacy, "vkUnmapMemory": unmap_legacy}
        for entry, unmap_entry in (("vkMapMemory2KHR", "vkUnmapMemory2KHR"), ("vkMapMemory2", "vkUnmapMemory2")):
            if entry in self.real:
                out[entry], out[unmap_entry] = map2(entry), unmap2(unmap_entry)
        return out


def test_state_shared_between_memory_objects_fails_only_the_concurrency_check(
    device, mutate, memory_pool, host_visible_types
):
    """A bug that shows only under concurrency: one thread passes, four threads on four objects fail."""
    import contextlib

    from vkmap_cts.fixtures.judge.properties import threads_see_only_their_own_bytes
    from vkmap_cts.fixtures.vk.arguments import MAP_ENTRIES

    entries = [e for e in MAP_ENTRIES if device.driver.has(e)]
    mutate(**SharedStaging(dict(device.driver.pfn), SIZE).entries())
    with contextlib.ExitStack() as leases:
        mems = [leases.enter_context(memory_pool.lease(host_visible_types[0], SIZE)) for _ in range(4)]
        threads_see_only_their_own_bytes(mems[:1], entries, 1, 8)  # one thread: the copies hide the bug
        for m in mems:  # one object after another: hidden too
            same_bytes_through_every_entry_point(m, "vkMapMemory2KHR", "vkMapMemory", "vkUnmapMemory2", 64, W, 13)
        _check_fails_with(
            r"thread \d+, round \d+.*bytes differ", threads_see_only_their_own_bytes, mems, entries, 2, 20
        )


class NonCoherentEmulation:
    """Memory that behaves like a type without HOST_COHERENT: a map hands out a host copy; only
    vkFlushMappedMemoryRanges moves host writes to the memory and only vkInvalidateMappedMemoryRanges
    moves the memory's bytes to the copy, for exactly the ranges given.  Each range is checked as
    the specification requires (VUID-VkMappedMemoryRange-offset-00687, -size-01390, -size-00685)."""

    def __init__(self, real: dict, lib, atom: int, bug: str | None = None):
        self.real, self.lib, self.atom, self.bug = real, lib, atom, bug  # bug: "flush ignored", "invalidate garbles"
        self.copies = {}  # memory handle -> (driver's pointer, host copy, mapped offset, mapped size)
        self.buffers = {}  # memory handle -> the allocation holding its copy
        self.ranges = []  # (function, offset, size) of every range flushed or invalidated

    def map(self, device, info, pp):
        result = self.real["vkMapMemory2KHR"](device, info, pp)
        if result == 0:
            size = _mapped_size(info)
            buffer = ffi.new("uint8_t[]", size + 256)  # the copy starts where ptr - offset keeps minMemoryMapAlignment
            base = int(ffi.cast("uintptr_t", buffer))
            copy = ffi.cast("uint8_t*", base + (info.offset - base) % 256)
            ffi.memmove(copy, ffi.cast("uint8_t*", pp[0]), size)
            self.copies[_handle(info.memory)] = (_ptr(pp), copy, info.offset, size)
            self.buffers[_handle(info.memory)] = buffer
            pp[0] = ffi.cast("void*", copy)
        return result

    def unmap(self, device, info):
        self.copies.pop(_handle(info.memory), None)  # unflushed host writes are lost
        return self.real["vkUnmapMemory2KHR"](device, info)

    def _move(self, name, count, ranges, to_memory: bool) -> None:
        for i in range(count):
            self._move_one(name, ranges[i], to_memory)

    def _move_one(self, name, r, to_memory: bool) -> None:
        from vkmap_cts.fixtures.vk.state import OBJECTS

        handle, offset, size = _handle(r.memory), r.offset, r.size
        allocation = OBJECTS.memories[handle].size
        if size == W:  # "to the end of the current mapping of the allocation"
            _, _, mapped_offset, mapped_size = self.copies[handle]
            assert mapped_offset <= offset < mapped_offset + mapped_size, (
                f"{name}: VK_WHOLE_SIZE at {offset}, outside the mapping (VUID-VkMappedMemoryRange-size-00686)"
            )
            size = mapped_offset + mapped_size - offset
            self.ranges.append((name, offset, W))
        else:
            self.ranges.append((name, offset, size))
        if name == "vkFlushMappedMemoryRanges" and self.bug == "flush ignored":
            return
        if name == "vkInvalidateMappedMemoryRanges" and self.bug == "invalidate garbles":
            ptr, copy, mapped_offset, _ = self.copies[handle]
            ffi.memmove(copy + (offset - mapped_offset), b"\x5a" * size, size)
            return
        assert offset % self.atom == 0, (
            f"{name}: offset {offset} is not a multiple of nonCoherentAtomSize (VUID-VkMappedMemoryRange-offset-00687)"
        )
        assert r.size == W or size % self.atom == 0 or offset + size == allocation, (
            f"{name}: size {size} is neither a multiple of nonCoherentAtomSize nor to the end "
            "(VUID-VkMappedMemoryRange-size-01390)"
        )
        ptr, copy, mapped_offset, mapped_size = self.copies[handle]
        inside = mapped_offset <= offset and offset + size <= mapped_offset + mapped_size
        assert inside, (
            f"{name}: [{offset}, +{size}) is not inside the mapped range (VUID-VkMappedMemoryRange-size-00685)"
        )
        memory = ffi.cast("uint8_t*", ptr + offset - mapped_offset)
        host = ffi.cast("uint8_t*", copy) + (offset - mapped_offset)
        ffi.memmove(memory, host, size) if to_memory else ffi.memmove(host, memory, size)

    def lib_proxy(self):
        emulation = self

        class Lib:
            def __getattr__(self, name):
                return getattr(emulation.lib, name)

            def vkFlushMappedMemoryRanges(self, device, count, ranges):
                emulation._move("vkFlushMappedMemoryRanges", count, ranges, to_memory=True)
                return emulation.lib.vkFlushMappedMemoryRanges(device, count, ranges)

            def vkInvalidateMappedMemoryRanges(self, device, count, ranges):
                emulation._move("vkInvalidateMappedMemoryRanges", count, ranges, to_memory=False)
                return emulation.lib.vkInvalidateMappedMemoryRanges(device, count, ranges)

        return Lib()


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


class PlacedEmulation:
    """Placed maps and reserving unmaps on a driver without VK_EXT_map_memory_placed: a placed map
    takes the driver's ordinary mapping, copies the memory into an anonymous mapping laid over the
    caller's reservation at pPlacedAddress, and hands that out; an unmap copies it back.  What a
    RESERVE unmap does is the double's bug, or not:

        None           keeps the range reserved (PROT_NONE) and returns VK_SUCCESS
        "correctly"    declines: VK_ERROR_MEMORY_MAP_FAILED, the memory still mapped (as the spec allows)
        "but unmaps"   returns VK_ERROR_MEMORY_MAP_FAILED, yet unmaps and releases the range
        "other code"   unmaps, keeps the range, and returns VK_ERROR_UNKNOWN
    """

    def __init__(self, real: dict, decline: str | None, in_place: bool = False):
        from vkmap_cts.fixtures.vk import address_space

        self.real, self.decline, self.libc = real, decline, address_space._libc
        self.in_place = in_place  # the bug of copying into the pages at pPlacedAddress instead of replacing them
        self.placed = {}  # memory handle -> (driver's pointer, placed address, size)

    def _fixed(self, address: int, size: int, prot: int) -> None:
        import mmap

        p = self.libc.mmap(
            address, size, prot, mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS | 0x10 | 0x4000, -1, 0
        )  # MAP_FIXED | MAP_NORESERVE
        assert p == address, "the double could not lay a mapping over the reservation"

    def map2(self, entry):
        def placed_map(device, info, pp):
            if not info.flags & abi.VK_MEMORY_MAP_PLACED_BIT_EXT:
                return self.real[entry](device, info, pp)
            address = int(ffi.cast("uintptr_t", ffi.cast("VkMemoryMapPlacedInfoEXT*", info.pNext).pPlacedAddress))
            flags, chain = info.flags, info.pNext
            info.flags, info.pNext = 0, ffi.NULL
            try:
                result = self.real[entry](device, info, pp)
            finally:
                info.flags, info.pNext = flags, chain
            if result == 0:
                size = _mapped_size(info)
                if not self.in_place:
                    self._fixed(address, size, 0x3)  # PROT_READ | PROT_WRITE
                ffi.memmove(ffi.cast("uint8_t*", address), ffi.cast("uint8_t*", pp[0]), size)
                self.placed[_handle(info.memory)] = (_ptr(pp), address, size)
                _set(pp, address)
            return result

        return placed_map

    def unmap2(self, entry):
        def unmap(device, info):
            key = _handle(info.memory)
            if key not in self.placed:
                return self.real[entry](device, info)
            reserve = info.flags & abi.VK_MEMORY_UNMAP_RESERVE_BIT_EXT
            if reserve and self.decline == "correctly":
                return abi.VK_ERROR_MEMORY_MAP_FAILED
            ptr, address, size = self.placed.pop(key)
            ffi.memmove(ffi.cast("uint8_t*", ptr), ffi.cast("uint8_t*", address), size)
            if reserve and self.decline == "but unmaps":
                self.libc.munmap(address, size)
            elif not self.in_place:
                self._fixed(address, size, 0)  # PROT_NONE: reserved again
            flags, info.flags = info.flags, 0
            try:
                result = self.real[entry](device, info)
            finally:
                info.flags = flags
            if reserve and self.decline == "but unmaps":
                return abi.VK_ERROR_MEMORY_MAP_FAILED
            if reserve and self.decline == "other code":
                return -13  # VK_ERROR_UNKNOWN
            return result

        return unmap

    def entries(self) -> dict:
        out = {}
        for m, u in (("vkMapMemory2KHR", "vkUnmapMemory2KHR"), ("vkMapMemory2", "vkUnmapMemory2")):
            if m in self.real:
                out[m], out[u] = self.map2(m), self.unmap2(u)
        return out


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
    from vkmap_cts.fixtures.judge.properties import placed_map, reserve_unmap_keeps_its_promise
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
@pytest.mark.parametrize("entry", ["vkUnmapMemory2KHR", "vkUnmapMemory2"])
def test_a_reserving_unmap_that_keeps_or_declines_as_the_spec_allows_passes(
    device, emulated_placed, host_visible_types, entry, decline, outcome
):
    """A driver that keeps the range reserved, or declines and leaves the memory mapped with its bytes, passes the
    RESERVE check."""
    from vkmap_cts.fixtures.rules.coverage import require_entry

    require_entry(device, entry)
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
        pytest.raises(AssertionError, match=f"^GUARANTEE-unmap-reserve: .*{match}"),
    ):
        _reserve_unmap(device, host_visible_types, "vkUnmapMemory2KHR")


@pytest.mark.parametrize("entry", ["vkMapMemory2KHR", "vkMapMemory2"])
@pytest.mark.parametrize("reserve", [False, True], ids=["exact_size", "unmap_reserve"])
def test_cts_placed_cases_pass_a_driver_that_replaces_the_pages_and_fail_one_that_writes_into_them(
    device, emulated_placed, host_visible_types, entry, reserve
):
    """CTS's exact_size and unmap_reserve checks: an emulated placed map that lays its own pages over the guarded
    memfd view passes; one that copies into the view's pages (the file's pages behind the range are written) fails."""
    from vkmap_cts.fixtures.judge.properties import placed_between_guards
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
                _check_fails_with("GUARANTEE-placed-replaces-exactly|GUARANTEE-unmap-reserve", *check)
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
    from vkmap_cts.fixtures.judge.properties import mapping_operation

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
                _check_fails_with("GUARANTEE-host-view-model: .* defined bytes differ", *check)
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
    from vkmap_cts.fixtures.judge.properties import mapping_operation

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
            _check_fails_with("GUARANTEE-host-view-model", *check)
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
    from vkmap_cts.fixtures.judge.properties import remap_cycles

    bad = LosesBytesAtUnmap(device.driver.pfn[entry], device.driver.pfn[unmap_entry])
    mutate(**{entry: bad.map, unmap_entry: bad.unmap})
    _check_fails_with(
        "GUARANTEE-contents-preserved",
        remap_cycles,
        mem,
        [(entry, unmap_entry, 0, W), (entry, unmap_entry, 64, 128)],
        4,
        device.limits_alignment,
    )
    assert mem.mapping is None, "the failing check left the cycle's map in place"


@pytest.mark.parametrize("entry", ["vkMapMemory2KHR", "vkMapMemory2"])
def test_offsets_kept_in_32_bits_fail_the_maps_past_4_gib(device, mutate, host_visible_types, entry):
    """A driver that keeps a map's offset in 32 bits (maps offset 2^32 + x at x) fails the check of maps past 4 GiB; the
    real one passes."""
    from vkmap_cts.fixtures.judge.properties import far_offsets_map_their_own_bytes

    size = (4 << 30) + 8192
    if 2 * size > device.physical.heap_budgets()[host_visible_types[0].heap_index]:
        pytest.skip("no room for a 4 GiB allocation")
    mem = device.allocate(host_visible_types[0], size)
    try:
        far_offsets_map_their_own_bytes(mem, entry, (1 << 32) + 64, 4096, 1, device.limits_alignment)
        mutate(**{entry: _shifting(device.driver.pfn[entry], lambda o: -(o >> 32 << 32))})
        _check_fails_with(
            "GUARANTEE-identical-to-vkMapMemory: .*the bytes written there",
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
    from vkmap_cts.fixtures.judge.properties import imported_memory_shares_the_host_bytes

    mem = import_host_memory(2 * device.physical.min_imported_host_pointer_alignment)
    try:
        imported_memory_shares_the_host_bytes(mem, transfers, "vkMapMemory2KHR", 1)
        bad = PrivateCopy(device.driver.pfn["vkMapMemory2KHR"], device.driver.pfn["vkUnmapMemory2KHR"])
        mutate(vkMapMemory2KHR=bad.map, vkUnmapMemory2KHR=bad.unmap)
        _check_fails_with(
            "GUARANTEE-imported-host-memory: .*read through the host pointer",
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
    mutate(vkMapMemory2KHR=_shifting(real, lambda o: 1, when=lambda offset, size: offset == 100))
    journal.begin_example()
    ranges = [MapRange(0, W), MapRange(64, 64), MapRange(100, 10), MapRange(0, 8)]
    before = dict(device.driver.calls)
    _check_fails_with(
        "^GUARANTEE-map-alignment: .*misaligned by 1",
        mapped_alignment,
        mem,
        "vkMapMemory2KHR",
        ranges,
        device.limits_alignment,
    )
    made = {e: device.driver.calls[e] - before.get(e, 0) for e in ("vkMapMemory2KHR", "vkUnmapMemory2KHR")}
    assert made == {"vkMapMemory2KHR": 3, "vkUnmapMemory2KHR": 3}, f"the driver's call counts: {made}"
    events = journal.snapshot()["events"]
    assert [e["op"] for e in events[:10]] == ["call", "check", "check", "call", "check"] * 2
    assert events[10]["op"] == "call" and events[10]["offset"] == 100
    assert journal.failed_check(events)["rule"] == "GUARANTEE-map-alignment"
    assert mem.mapping is None
