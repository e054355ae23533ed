"""Adversarial self-tests: drivers made to break a guarantee in one way each must fail
the suite's property checks.  The real entry points are wrapped (their pointers in
``Driver.pfn`` replaced by Python functions around them) for the length of one test.
"""
import pytest

from fixtures import abi
from fixtures.abi import ffi
from fixtures.driver import SENTINEL
from fixtures.oracles import assert_bytes_equal, assert_success
from fixtures.properties import device_and_host_agree, mapped_alignment, same_bytes_through_every_entry_point, writes_stay_inside_the_range
from fixtures.strategies import MapRange

W = abi.VK_WHOLE_SIZE
SIZE = 8192


def _ptr(pp) -> int:
    return int(ffi.cast("uintptr_t", pp[0]))


def _set(pp, value: int) -> None:
    pp[0] = ffi.cast("void*", value)


def _mapped_size(info) -> int:
    """The size of the range a VkMemoryMapInfo maps (VK_WHOLE_SIZE resolved from the suite's state)."""
    from fixtures.state import OBJECTS

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
            copy = ffi.new("uint8_t[]", size)
            ffi.memmove(copy, ffi.cast("uint8_t*", pp[0]), size)
            self.copies[int(ffi.cast("uintptr_t", info.memory))] = copy
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
            self.saved[int(ffi.cast("uintptr_t", info.memory))] = (_ptr(pp), bytes(ffi.buffer(ffi.cast("uint8_t*", pp[0]), size)))
        return result

    def unmap(self, device, info):
        from fixtures.state import OBJECTS

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
    _check_fails(same_bytes_through_every_entry_point, mem, "vkMapMemory2KHR", "vkMapMemory2", "vkUnmapMemory2KHR", 64, 64, 1)


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
    same_bytes_through_every_entry_point(mem, "vkMapMemory", "vkMapMemory2KHR", "vkUnmapMemory", 0, 64, 2)  # explicit size: fine
    _check_fails(same_bytes_through_every_entry_point, mem, "vkMapMemory", "vkMapMemory2KHR", "vkUnmapMemory", 0, W, 3)


@pytest.mark.parametrize("entry, unmap_entry", [("vkMapMemory2KHR", "vkUnmapMemory2KHR"), ("vkMapMemory2", "vkUnmapMemory2")])
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
    mapped_alignment(mem, "vkMapMemory2KHR", [MapRange(0, W), MapRange(100, 10), MapRange(64, 64)], device.limits_alignment)
    same_bytes_through_every_entry_point(mem, "vkMapMemory2KHR", "vkMapMemory2", "vkUnmapMemory2KHR", 64, 64, 1)
    same_bytes_through_every_entry_point(mem, "vkMapMemory", "vkMapMemory2KHR", "vkUnmapMemory", 0, 64, 3)
    writes_stay_inside_the_range(mem, "vkMapMemory2KHR", 128, 256, 5)


@pytest.mark.parametrize("entry, unmap_entry", [("vkMapMemory2KHR", "vkUnmapMemory2KHR"), ("vkMapMemory2", "vkUnmapMemory2")])
def test_bytes_lost_at_unmap_fail_the_stateful_models_check(device, mutate, mem, entry, unmap_entry):
    """The model's read step (fixtures.model) sees the loss: map, learn, write, unmap, map again, read."""
    from fixtures.model import ModelMemory

    bad = LosesBytesAtUnmap(device.driver.pfn[entry], device.driver.pfn[unmap_entry])
    mutate(**{entry: bad.map, unmap_entry: bad.unmap})
    model = ModelMemory(mem.size)
    assert_success(mem.map_with(entry))
    model.map(entry, 0, W)
    model.learn(bytes(mem.bytes()))
    mem.bytes()[10:20] = bytes(range(1, 11))
    model.write(10, bytes(range(1, 11)))
    mem.unmap_with(unmap_entry)
    model.unmap()
    assert_success(mem.map_with(entry))
    model.map(entry, 0, W)
    with pytest.raises(AssertionError, match="differ"):
        assert_bytes_equal(bytes(mem.bytes()), model.expected(), "model")
    mem.unmap_with(unmap_entry)
