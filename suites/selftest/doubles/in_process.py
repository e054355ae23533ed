"""In-process driver doubles: Python functions that stand in for map and unmap entry points of a real driver
(``device.driver.pfn[entry]``), each around the real one, for the length of one test of
suites/selftest/test_mutant_drivers.py (its ``mutate`` fixture installs them and puts the real ones back).

A broken double names its bug and the guarantee (fixtures/rules/guarantees.py) that a check must fail it for; a
conformant one quotes the specification's sentence that allows what it does, so that the suite is shown to pass it.
"""

from __future__ import annotations

import mmap
import time

from vkmap_cts.fixtures.access.driver import SENTINEL
from vkmap_cts.fixtures.rules.ranges import resolved_size
from vkmap_cts.fixtures.vk import abi, address_space
from vkmap_cts.fixtures.vk.abi import VK_WHOLE_SIZE, ffi
from vkmap_cts.fixtures.vk.recording import PROCESS


def _ptr(pp) -> int:
    return int(ffi.cast("uintptr_t", pp[0]))


def _set(pp, value: int) -> None:
    pp[0] = ffi.cast("void*", value)


def _handle(memory) -> int:
    return int(ffi.cast("uintptr_t", memory))


def _mapped_size(info) -> int:
    """The size of the range a VkMemoryMapInfo maps (VK_WHOLE_SIZE resolved from the suite's state)."""
    return resolved_size(PROCESS.objects.memories[_handle(info.memory)].size, info.offset, info.size)


# -- broken pointers -------------------------------------------------------------------------------


def shifting(real, shift, when=lambda offset, size: True):
    """A map entry point (the 2 forms) that returns the driver's pointer moved by shift(offset).  Broken, as
    ``shift`` says: the pointer misaligned (GUARANTEE-map-alignment), the offset ignored or applied twice, or kept in
    32 bits (GUARANTEE-identical-to-vkMapMemory)."""

    def mutant(device, info, pp):
        result = real(device, info, pp)
        if result == 0 and when(info.offset, info.size):
            _set(pp, _ptr(pp) + shift(info.offset))
        return result

    return mutant


def legacy_shifting(real, shift):
    """vkMapMemory returning the driver's pointer moved by shift(offset).  Broken: a bug of the legacy entry point
    only, which the 2 forms do not share (GUARANTEE-identical-to-vkMapMemory)."""

    def mutant(device, memory, offset, size, flags, pp):
        result = real(device, memory, offset, size, flags, pp)
        if result == 0:
            _set(pp, _ptr(pp) + shift(offset))
        return result

    return mutant


def unwritten(real):
    """A map that returns the driver's result but leaves *ppData as the suite set it.  Broken: a VK_SUCCESS without
    a pointer to the mapped range (GUARANTEE-ppdata-written)."""

    def mutant(device, info, pp):
        result = real(device, info, pp)
        _set(pp, SENTINEL)
        return result

    return mutant


def corrupting_whole_size(real):
    """A map that flips the first mapped byte, only when size is VK_WHOLE_SIZE.  Broken: VK_WHOLE_SIZE maps other
    bytes than the explicit size it stands for (GUARANTEE-identical-to-vkMapMemory)."""

    def mutant(device, info, pp):
        result = real(device, info, pp)
        if result == 0 and info.size == VK_WHOLE_SIZE:
            p = ffi.cast("uint8_t*", pp[0])
            p[0] = p[0] ^ 0xFF
        return result

    return mutant


# -- broken bytes ----------------------------------------------------------------------------------


class PrivateCopy:
    """Maps hand out a private copy of the memory; unmap drops it.  Broken: a stale copy, whose writes never reach
    the memory, the device or an imported host pointer (GUARANTEE-contents-preserved, GUARANTEE-device-coherent,
    GUARANTEE-imported-host-memory)."""

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
            self.copies[_handle(info.memory)] = buffer
            pp[0] = ffi.cast("void*", copy)
        return result

    def unmap(self, device, info):
        self.copies.pop(_handle(info.memory), None)
        return self.real_unmap(device, info)


class LosesBytesAtUnmap:
    """Unmap puts back what the memory held when it was mapped.  Broken: writes through the mapping are lost
    (GUARANTEE-contents-preserved, GUARANTEE-stateful-model)."""

    def __init__(self, real_map, real_unmap):
        self.real_map, self.real_unmap, self.saved = real_map, real_unmap, {}

    def map(self, device, info, pp):
        result = self.real_map(device, info, pp)
        if result == 0:
            size = _mapped_size(info)
            self.saved[_handle(info.memory)] = (
                _ptr(pp),
                bytes(ffi.buffer(ffi.cast("uint8_t*", pp[0]), size)),
            )
        return result

    def unmap(self, device, info):
        handle = _handle(info.memory)
        ptr, data = self.saved.pop(handle, (None, b""))
        live = PROCESS.objects.memories[handle].mapped
        if ptr is not None and live is not None and live.ptr == ptr:  # only a mapping this mutant made
            ffi.memmove(ffi.cast("uint8_t*", ptr), data, len(data))
        return self.real_unmap(device, info)


class SharedStaging:
    """Every map, by any entry point, hands out one staging buffer shared by all memory objects: the memory is
    copied in at map and back at unmap.  Right while one memory object is mapped at a time.  Broken under
    concurrency: with several threads, each on its own object, the objects overwrite each other's bytes, though only
    access to one memory object needs external synchronization (GUARANTEE-concurrent-maps)."""

    def __init__(self, real: dict, capacity: int):
        self.real = real
        self.raw = ffi.new("uint8_t[]", capacity + 4096)
        self.base = (_handle(self.raw) + 4095) & ~4095  # page-aligned, like a real mapping
        self.live = {}  # memory handle -> (driver's pointer, size)

    def _stage(self, memory, pp, size: int) -> None:
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
            result = self.real["vkMapMemory"](device, memory, offset, size, flags, pp)
            if result == 0:
                self._stage(memory, pp, resolved_size(PROCESS.objects.memories[_handle(memory)].size, offset, size))
            return result

        def unmap_legacy(device, memory):
            self._unstage(memory)
            return self.real["vkUnmapMemory"](device, memory)

        out = {"vkMapMemory": map_legacy, "vkUnmapMemory": unmap_legacy}
        for entry, unmap_entry in (("vkMapMemory2KHR", "vkUnmapMemory2KHR"), ("vkMapMemory2", "vkUnmapMemory2")):
            if entry in self.real:
                out[entry], out[unmap_entry] = map2(entry), unmap2(unmap_entry)
        return out


# -- emulations of what lavapipe lacks -------------------------------------------------------------


class NonCoherentEmulation:
    """Memory that behaves like a type without HOST_COHERENT: a map hands out a host copy; only
    vkFlushMappedMemoryRanges moves host writes to the memory and only vkInvalidateMappedMemoryRanges moves the
    memory's bytes to the copy, for exactly the ranges given.  Each range is checked as the specification requires
    (VUID-VkMappedMemoryRange-offset-00687, -size-01390, -size-00685).

    Conformant without ``bug``: "If a range of non-coherent memory is written by the host and then invalidated
    without first being flushed, its contents are undefined.  Unmapping non-coherent memory does not implicitly
    flush the host mapped memory, and host writes that have not been flushed may not ever be visible to the device."
    (chapters/memory.adoc, vkFlushMappedMemoryRanges, vkInvalidateMappedMemoryRanges).  Broken with ``bug``:
    "flush ignored" (a flush moves nothing to the memory) or "invalidate garbles" (an invalidate writes other bytes
    than the memory's), both against GUARANTEE-device-coherent and GUARANTEE-host-view-model."""

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
        handle, offset, size = _handle(r.memory), r.offset, r.size
        allocation = PROCESS.objects.memories[handle].size
        if size == VK_WHOLE_SIZE:  # "to the end of the current mapping of the allocation"
            _, _, mapped_offset, mapped_size = self.copies[handle]
            assert mapped_offset <= offset < mapped_offset + mapped_size, (
                f"{name}: VK_WHOLE_SIZE at {offset}, outside the mapping (VUID-VkMappedMemoryRange-size-00686)"
            )
            size = resolved_size(mapped_offset + mapped_size, offset, size)
            self.ranges.append((name, offset, VK_WHOLE_SIZE))
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
        assert r.size == VK_WHOLE_SIZE or size % self.atom == 0 or offset + size == allocation, (
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


class PlacedEmulation:
    """Placed maps and reserving unmaps on a driver without VK_EXT_map_memory_placed: a placed map takes the
    driver's ordinary mapping, copies the memory into an anonymous mapping laid over the caller's reservation at
    pPlacedAddress, and hands that out; an unmap copies it back.

    Conformant placed map: "VK_MEMORY_MAP_PLACED_BIT_EXT requests that the implementation place the memory map at
    the virtual address specified by the application via VkMemoryMapPlacedInfoEXT::pPlacedAddress, replacing any
    existing mapping at that address." (chapters/memory.adoc, VkMemoryMapFlagBits).  Broken with ``in_place``: it
    copies into the pages at pPlacedAddress instead of replacing them (GUARANTEE-placed-replaces-exactly).

    What a RESERVE unmap does is ``decline``:

        None           keeps the range reserved (PROT_NONE) and returns VK_SUCCESS.  Conformant:
                       "VK_MEMORY_UNMAP_RESERVE_BIT_EXT requests that virtual address range currently occupied by
                       the memory map remain reserved after the vkUnmapMemory2 call completes."
        "correctly"    declines: VK_ERROR_MEMORY_MAP_FAILED, the memory still mapped.  Conformant: "When
                       VK_MEMORY_UNMAP_RESERVE_BIT_EXT is set, the memory unmap operation may fail, in which case the
                       memory object will remain host mapped and vkUnmapMemory2 will return
                       VK_ERROR_MEMORY_MAP_FAILED." (chapters/memory.adoc, VkMemoryUnmapFlagBits)
        "but unmaps"   broken: returns VK_ERROR_MEMORY_MAP_FAILED, yet unmaps and releases the range
                       (GUARANTEE-unmap-reserve)
        "other code"   broken: unmaps, keeps the range, and returns VK_ERROR_UNKNOWN (GUARANTEE-unmap-reserve)
    """

    def __init__(self, real: dict, decline: str | None, in_place: bool = False):
        self.real, self.decline, self.libc = real, decline, address_space._libc
        self.in_place = in_place  # the bug of copying into the pages at pPlacedAddress instead of replacing them
        self.placed = {}  # memory handle -> (driver's pointer, placed address, size)

    def _fixed(self, address: int, size: int, prot: int) -> None:
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
