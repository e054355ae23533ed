"""A pytest plugin for the self-tests and ci/bench: a driver whose vkMapMemory2KHR and vkMapMemory2
ignore VkMemoryMapInfo::offset (the pointer is that of offset 0), a bug every guarantee on
contents and alignment catches.  Loaded with ``-p offset_ignoring_driver`` and this folder on
PYTHONPATH; never by a normal run."""

from vkmap_cts.fixtures.access import driver
from vkmap_cts.fixtures.vk.abi import ffi

_real_init = driver.Driver.__init__


def _ignoring_offset(real):
    def mapped(device, info, pp):
        result = real(device, info, pp)
        if result == 0:
            pp[0] = ffi.cast("void*", int(ffi.cast("uintptr_t", pp[0])) - info.offset)
        return result

    return mapped


def _init(self, *args, **kwargs):
    _real_init(self, *args, **kwargs)
    for entry in ("vkMapMemory2KHR", "vkMapMemory2"):
        if entry in self.pfn:
            self.pfn[entry] = _ignoring_offset(self.pfn[entry])


driver.Driver.__init__ = _init
