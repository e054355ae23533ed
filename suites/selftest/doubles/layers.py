"""Building and enabling the self-test doubles that are Vulkan layers in C (buggy_layer.c, noncoherent_layer.c, both
on layer_common.h): each is compiled with ``cc`` into a folder with its manifest, and enabled in a child process by
the loader's variables."""

from __future__ import annotations

import json
import pathlib
import shutil
import subprocess


class CannotBuild(RuntimeError):
    """No C compiler or no Vulkan headers (vk_layer.h): the caller skips."""


def build(dest: pathlib.Path, source: pathlib.Path, library: str, manifest: str, layer: dict) -> pathlib.Path:
    """Compile ``source`` into ``dest``/``library`` and write the manifest ``dest``/``manifest`` for it, its "layer"
    object ``layer`` (name, description, ...) with the library's path, type and versions added; returns ``dest``."""
    cc = shutil.which("cc")
    if cc is None:
        raise CannotBuild("no C compiler: `cc` is not on PATH (Debian: apt-get install gcc)")
    dest = pathlib.Path(dest).resolve()
    dest.mkdir(parents=True, exist_ok=True)
    path = dest / library
    done = subprocess.run(
        [cc, "-shared", "-fPIC", "-O1", "-Wall", "-o", str(path), str(source), "-lpthread"],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        if "vulkan/" in done.stderr and "No such file" in done.stderr:
            raise CannotBuild(
                "no Vulkan headers (vulkan/vulkan.h, vulkan/vk_layer.h; Debian: apt-get install libvulkan-dev): "
                f"{done.stderr.strip()}"
            )
        raise CannotBuild(f"cc could not build {source.name}:\n{done.stderr.strip()}")
    fields = {
        "name": layer["name"],
        "type": "INSTANCE",
        "library_path": str(path),
        "api_version": "1.4.0",
        "implementation_version": "1",
        **layer,
    }
    (dest / manifest).write_text(json.dumps({"file_format_version": "1.1.0", "layer": fields}, indent=4) + "\n")
    return dest


def enabling(dest: pathlib.Path, name: str, variable: str, bug: str | None) -> dict[str, str]:
    """The variables (to merge into a child's environment) that make the loader enable the layer ``name`` built in
    ``dest``, with ``bug`` in its own ``variable``."""
    return {
        "VK_LAYER_PATH": str(
            pathlib.Path(dest).resolve()
        ),  # the loader's explicit-layer search path (replaces the default one)
        "VK_INSTANCE_LAYERS": name,  # enables it in every vkCreateInstance, as if the application had asked
        variable: bug or "",
    }
