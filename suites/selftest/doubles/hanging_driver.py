"""A pytest plugin for the isolation self-tests: a driver whose every vkMapMemory2KHR and
vkMapMemory2 call never returns (blocked inside C, where no signal can end it).  Loaded with
``-p hanging_driver`` and this folder on PYTHONPATH; never by a normal run."""

import ctypes

from vkmap_cts.fixtures.access import driver

_real_init = driver.Driver.__init__


def _hangs(*args):
    ctypes.CDLL(None).sleep(3600)


def _init(self, *args, **kwargs):
    _real_init(self, *args, **kwargs)
    for entry in ("vkMapMemory2KHR", "vkMapMemory2"):
        if entry in self.pfn:
            self.pfn[entry] = _hangs


driver.Driver.__init__ = _init
