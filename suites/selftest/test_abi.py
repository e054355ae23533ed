"""The suite's own C declarations match Khronos' registry (vulkan-object's vk.xml).

Names, member order and types, enum values, and sizes and offsets as an LP64
compiler lays them out.
"""

import pytest
import vulkan_object

from vkmap_cts.fixtures.vk import abi

REG = vulkan_object.get_vulkan_object()

# Sizes of the registry's base types on LP64 hosts (x86-64, aarch64).
BASE = {
    "VkStructureType": 4,
    "VkFlags": 4,
    "VkMemoryMapFlags": 4,
    "VkMemoryUnmapFlags": 4,
    "VkBool32": 4,
    "VkDeviceSize": 8,
    "VkDeviceMemory": 8,
    "uint32_t": 4,
}


def _registry_layout(name):
    """(member, offset) pairs and total size computed from the registry's member types."""
    offset, align_max, out = 0, 1, []
    for m in REG.structs[name].members:
        size = 8 if m.pointer else BASE[m.type]
        offset = (offset + size - 1) // size * size
        out.append((m.name, offset))
        offset += size
        align_max = max(align_max, size)
    return out, (offset + align_max - 1) // align_max * align_max


@pytest.mark.parametrize("name", abi.STRUCTS)
def test_struct_layout_matches_registry(name):
    members, size = _registry_layout(name)
    ctype = abi.ffi.typeof(name)
    assert [f for f, _ in ctype.fields] == [m for m, _ in members]
    assert [abi.ffi.offsetof(name, f) for f, _ in members] == [o for _, o in members]
    assert abi.ffi.sizeof(name) == size


def _ctype(type_name, pointer, const=False):
    """The cffi type the registry's member type resolves to through the suite's typedefs."""
    return abi.ffi.typeof(("const " if const else "") + type_name + ("*" if pointer else ""))


@pytest.mark.parametrize("name", abi.STRUCTS)
def test_struct_member_types_match_registry(name):
    ctype = abi.ffi.typeof(name)
    for (fname, field), m in zip(ctype.fields, REG.structs[name].members, strict=True):
        assert field.type is _ctype(m.type, m.pointer, m.const), (
            f"{name}.{fname}: declared {field.type.cname}, registry {m.fullType}"
        )


def test_khr_names_alias_core_structures():
    assert "VkMemoryMapInfoKHR" in REG.structs["VkMemoryMapInfo"].aliases
    assert "VkMemoryUnmapInfoKHR" in REG.structs["VkMemoryUnmapInfo"].aliases


def _enum_value(enum, name):
    for f in REG.enums[enum].fields:
        if f.name == name or name in f.aliases:
            return f.value
    raise KeyError(name)


@pytest.mark.parametrize(
    "name",
    [
        "VK_STRUCTURE_TYPE_MEMORY_MAP_INFO",
        "VK_STRUCTURE_TYPE_MEMORY_UNMAP_INFO",
        "VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MAP_MEMORY_PLACED_FEATURES_EXT",
        "VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MAP_MEMORY_PLACED_PROPERTIES_EXT",
        "VK_STRUCTURE_TYPE_MEMORY_MAP_PLACED_INFO_EXT",
    ],
)
def test_structure_type_values(name):
    assert getattr(abi, name) == _enum_value("VkStructureType", name)


def test_flag_values():
    assert {f.name: f.value for f in REG.bitmasks["VkMemoryMapFlagBits"].flags} == {
        "VK_MEMORY_MAP_PLACED_BIT_EXT": abi.VK_MEMORY_MAP_PLACED_BIT_EXT
    }
    assert {f.name: f.value for f in REG.bitmasks["VkMemoryUnmapFlagBits"].flags} == {
        "VK_MEMORY_UNMAP_RESERVE_BIT_EXT": abi.VK_MEMORY_UNMAP_RESERVE_BIT_EXT
    }


def test_result_names_match_registry():
    values = {f.value: f.name for f in REG.enums["VkResult"].fields}
    for code, name in abi.RESULT_NAMES.items():
        assert values[code] == name


def test_whole_size_is_all_ones():
    assert abi.VK_WHOLE_SIZE == 2**64 - 1
    assert REG.constants["VK_WHOLE_SIZE"].value == abi.VK_WHOLE_SIZE


@pytest.mark.parametrize("entry", ["vkMapMemory2", "vkUnmapMemory2", "vkMapMemory", "vkUnmapMemory"])
def test_pfn_signatures_match_registry(entry):
    ctype = abi.ffi.typeof("PFN_" + entry)
    params = REG.commands[entry].params
    assert list(ctype.args) == [
        _ctype(p.type, p.pointer, p.const)
        if p.type != "void" or not p.pointer
        else abi.ffi.typeof("void*" + "*" * (p.fullType.count("*") - 1))
        for p in params
    ]
    assert ctype.result is abi.ffi.typeof(REG.commands[entry].returnType)
