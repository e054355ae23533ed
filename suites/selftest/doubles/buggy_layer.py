"""Build and enable VK_LAYER_VKMAP_buggy (buggy_layer.c), a self-test double: a Vulkan layer that puts
one mapping bug between the loader and a correct driver, so a test can check that the suite catches it
and that each standalone reproducer exits 1 with the layer and 0 without it.

``build(dest)`` compiles the layer and writes its manifest into ``dest``; ``enabling(dest, bug)`` gives
the environment that makes the Vulkan loader load it into every instance of a child process, with
``bug`` one of ``misaligned``, ``ignored-offset``, ``lost-bytes``, ``crash``, ``hang`` (anything else: pass-through)."""

from __future__ import annotations

import json
import pathlib
import shutil
import subprocess

NAME = "VK_LAYER_VKMAP_buggy"
SOURCE = pathlib.Path(__file__).with_name("buggy_layer.c")
LIBRARY = "libvkmap_buggy_layer.so"
MANIFEST = "VkLayer_vkmap_buggy.json"
BUGS = ("misaligned", "ignored-offset", "lost-bytes", "crash", "hang")


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
    done = subprocess.run([cc, "-shared", "-fPIC", "-O1", "-o", str(library), str(SOURCE), "-lpthread"], capture_output=True, text=True)
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
            "description": "vkmap-cts self-test double: breaks vkMapMemory/vkMapMemory2(KHR) as VKMAP_BUGGY_LAYER_BUG says",
        },
    }
    (dest / MANIFEST).write_text(json.dumps(manifest, indent=4) + "\n")
    return dest


def enabling(dest: pathlib.Path, bug: str) -> dict[str, str]:
    """The variables (to merge into a child's environment) that make the loader enable the layer built in ``dest``, with ``bug``."""
    folder = str(pathlib.Path(dest).resolve())
    return {
        "VK_LAYER_PATH": folder,  # the loader's explicit-layer search path (replaces the default one)
        "VK_INSTANCE_LAYERS": NAME,  # enables it in every vkCreateInstance, as if the application had asked
        "VKMAP_BUGGY_LAYER_BUG": bug,
    }
