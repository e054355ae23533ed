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

import json
import pathlib
import shutil
import subprocess

NAME = "VK_LAYER_VKMAP_noncoherent"
SOURCE = pathlib.Path(__file__).with_name("noncoherent_layer.c")
LIBRARY = "libvkmap_noncoherent_layer.so"
MANIFEST = "VkLayer_vkmap_noncoherent.json"
BUGS = ("flush-moves-nothing", "invalidate-moves-nothing", "stale-after-placed")


class CannotBuild(RuntimeError):
    """No C compiler or no Vulkan headers (vk_layer.h): the caller skips."""


def build(dest: pathlib.Path) -> pathlib.Path:
    """Compile the layer into ``dest`` and write its manifest there; returns ``dest``."""
    cc = shutil.which("cc")
    if cc is None:
        raise CannotBuild("no C compiler: `cc` is not on PATH (Debian: apt-get install gcc)")
    dest = pathlib.Path(dest).resolve()
    dest.mkdir(parents=True, exist_ok=True)
    library = dest / LIBRARY
    done = subprocess.run([cc, "-shared", "-fPIC", "-O1", "-Wall", "-o", str(library), str(SOURCE), "-lpthread"], capture_output=True, text=True)
    if done.returncode != 0:
        if "vulkan/" in done.stderr and "No such file" in done.stderr:
            raise CannotBuild(f"no Vulkan headers (vulkan/vulkan.h, vulkan/vk_layer.h; Debian: apt-get install libvulkan-dev): {done.stderr.strip()}")
        raise CannotBuild(f"cc could not build {SOURCE.name}:\n{done.stderr.strip()}")
    manifest = {
        "file_format_version": "1.1.0",
        "layer": {
            "name": NAME,
            "type": "INSTANCE",
            "library_path": str(library),
            "api_version": "1.4.0",
            "implementation_version": "1",
            "description": "vkmap-cts driver double: a conformant driver over another one, adding a non-coherent HOST_VISIBLE memory type "
            "and VK_EXT_map_memory_placed (broken as VKMAP_NONCOHERENT_LAYER_BUG says)",
            # The loader accepts an extension in vkCreateDevice only where the driver or an enabled layer lists it.
            "device_extensions": [{"name": "VK_EXT_map_memory_placed", "spec_version": "1", "entrypoints": []}],
        },
    }
    (dest / MANIFEST).write_text(json.dumps(manifest, indent=4) + "\n")
    return dest


def enabling(dest: pathlib.Path, bug: str | None = None) -> dict[str, str]:
    """The variables (to merge into a child's environment) that make the loader enable the layer built in ``dest``, with ``bug`` (None: conformant)."""
    folder = str(pathlib.Path(dest).resolve())
    return {
        "VK_LAYER_PATH": folder,  # the loader's explicit-layer search path (replaces the default one)
        "VK_INSTANCE_LAYERS": NAME,  # enables it in every vkCreateInstance, as if the application had asked
        "VKMAP_NONCOHERENT_LAYER_BUG": bug or "",
    }
