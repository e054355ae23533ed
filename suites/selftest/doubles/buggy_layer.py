"""Build and enable VK_LAYER_VKMAP_buggy (buggy_layer.c), a self-test double: a Vulkan layer that puts
one mapping bug between the loader and a correct driver, so a test can check that the suite catches it
and that each standalone reproducer exits 1 with the layer and 0 without it.

``build(dest)`` compiles the layer and writes its manifest into ``dest``; ``enabling(dest, bug)`` gives
the environment that makes the Vulkan loader load it into every instance of a child process, with
``bug`` one of ``misaligned``, ``ignored-offset``, ``lost-bytes``, ``crash``, ``hang`` (anything else: pass-through)."""

from __future__ import annotations

import pathlib

from vkmap_cts.suites.selftest.doubles import layers

NAME = "VK_LAYER_VKMAP_buggy"
SOURCE = pathlib.Path(__file__).with_name("buggy_layer.c")
LIBRARY = "libvkmap_buggy_layer.so"
MANIFEST = "VkLayer_vkmap_buggy.json"
BUGS = ("misaligned", "ignored-offset", "lost-bytes", "crash", "hang")


CannotBuild = layers.CannotBuild


def build(dest: pathlib.Path) -> pathlib.Path:
    """Compile the layer into ``dest`` and write its manifest there; returns ``dest``."""
    layer = {
        "name": NAME,
        "description": "vkmap-cts self-test double: breaks vkMapMemory/vkMapMemory2(KHR) as VKMAP_BUGGY_LAYER_BUG says",
    }
    return layers.build(dest, SOURCE, LIBRARY, MANIFEST, layer)


def enabling(dest: pathlib.Path, bug: str) -> dict[str, str]:
    """The variables (to merge into a child's environment) that make the loader enable the layer built in ``dest``, with
    ``bug``."""
    return layers.enabling(dest, NAME, "VKMAP_BUGGY_LAYER_BUG", bug)
