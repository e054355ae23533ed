"""Build and enable VK_LAYER_VKMAP_noncoherent (noncoherent_layer.c), a driver double: a Vulkan layer that
makes a correct driver (lavapipe) offer what it lacks, conformantly, so the suite can be run against it:
a HOST_VISIBLE memory type without HOST_COHERENT (a twin, on the same heap, of each coherent
host-visible type; its maps are private copy-on-write views that only vkFlushMappedMemoryRanges and
vkInvalidateMappedMemoryRanges reconcile with the memory), and VK_EXT_map_memory_placed (placed maps,
VK_MEMORY_UNMAP_RESERVE_BIT_EXT).

``build(dest)`` compiles the layer and writes its manifest into ``dest``; ``enabling(dest, bug)`` gives
the environment that makes the Vulkan loader load it into every instance of a child process, with
``bug`` None (conformant) or one of ``flush-moves-nothing`` (a flush copies nothing into the memory),
``invalidate-moves-nothing`` (an invalidate copies nothing into the mapping), ``stale-after-placed`` (a plain map after
a placed map and its unmap hands out the released placed address again); anything else: conformant."""

from __future__ import annotations

import pathlib

from vkmap_cts.suites.selftest.doubles import layers

NAME = "VK_LAYER_VKMAP_noncoherent"
SOURCE = pathlib.Path(__file__).with_name("noncoherent_layer.c")
LIBRARY = "libvkmap_noncoherent_layer.so"
MANIFEST = "VkLayer_vkmap_noncoherent.json"
BUGS = ("flush-moves-nothing", "invalidate-moves-nothing", "stale-after-placed")


CannotBuild = layers.CannotBuild


def build(dest: pathlib.Path) -> pathlib.Path:
    """Compile the layer into ``dest`` and write its manifest there; returns ``dest``."""
    layer = {
        "name": NAME,
        "description": "vkmap-cts driver double: a conformant driver over another one, adding a non-coherent "
        "HOST_VISIBLE memory type and VK_EXT_map_memory_placed (broken as VKMAP_NONCOHERENT_LAYER_BUG says)",
        # The loader accepts an extension in vkCreateDevice only where the driver or an enabled layer lists it.
        "device_extensions": [{"name": "VK_EXT_map_memory_placed", "spec_version": "1", "entrypoints": []}],
    }
    return layers.build(dest, SOURCE, LIBRARY, MANIFEST, layer)


def enabling(dest: pathlib.Path, bug: str | None = None) -> dict[str, str]:
    """The variables (to merge into a child's environment) that make the loader enable the layer built in ``dest``, with
    ``bug`` (None: conformant)."""
    return layers.enabling(dest, NAME, "VKMAP_NONCOHERENT_LAYER_BUG", bug)
