"""Self-tests of the reference validator on synthetic object state (no driver):
each check rejects a violation with exactly its VUID and accepts the boundary case."""

import pytest

from vkmap_cts.fixtures.rules.validity import check
from vkmap_cts.fixtures.vk import abi
from vkmap_cts.fixtures.vk.arguments import (
    LegacyMapCall,
    LegacyUnmapCall,
    MapCall,
    MapInfo,
    OtherStruct,
    PlacedInfo,
    UnmapCall,
    UnmapInfo,
)
from vkmap_cts.fixtures.vk.instance import MemoryType, PhysicalDevice, PlacedMapSupport
from vkmap_cts.fixtures.vk.state import DeviceState, Mapping, MemoryState, ObjectState

SIZE = 8192
ALIGN = 4096
VISIBLE = MemoryType(0, 0x6, 0, 0, 1 << 30)
DEVICE_ONLY = MemoryType(1, 0x1, 1, 1, 1 << 30)


def physical(placed):
    return PhysicalDevice(
        index=0,
        handle=None,
        name="synthetic",
        vendor_id=0,
        device_id=0,
        device_type=0,
        api_version=abi.VK_API_VERSION_1_4,
        driver_version=0,
        driver_id=0,
        driver_name="",
        driver_info="",
        uuid="0" * 32,
        extensions=frozenset(),
        min_memory_map_alignment=64,
        min_memory_map_alignment_v2=64,
        non_coherent_atom_size=64,
        memory_types=(VISIBLE, DEVICE_ONLY),
        queue_families=(),
        placed=placed,
    )


@pytest.fixture
def world():
    return make_world()


def make_world():
    """Devices: A with every placed-map feature but range placement, B with VK_EXT_map_memory_placed but none of
    its features, C without the extension; memory on A and B."""
    objects = ObjectState()
    placed = PlacedMapSupport(True, False, True, ALIGN)
    a = objects.add_device(
        DeviceState(
            0xA0,
            physical(placed),
            abi.VK_API_VERSION_1_4,
            frozenset({"VK_KHR_map_memory2", "VK_EXT_map_memory_placed"}),
            placed,
        )
    )
    off = PlacedMapSupport(False, False, False, ALIGN)
    b = objects.add_device(
        DeviceState(
            0xB0,
            physical(placed),
            abi.VK_API_VERSION_1_4,
            frozenset({"VK_KHR_map_memory2", "VK_EXT_map_memory_placed"}),
            off,
        )
    )
    c = objects.add_device(
        DeviceState(0xC0, physical(None), abi.VK_API_VERSION_1_4, frozenset({"VK_KHR_map_memory2"}), None)
    )
    objects.add_memory(MemoryState(0x300, c, SIZE, VISIBLE))
    objects.add_memory(MemoryState(0x301, c, SIZE, VISIBLE, mapped=Mapping("vkMapMemory2", 0, SIZE, 0x7400_0000_0000)))
    objects.add_memory(MemoryState(0x100, a, SIZE, VISIBLE))
    objects.add_memory(
        MemoryState(0x101, a, SIZE, VISIBLE, mapped=Mapping("vkMapMemory2KHR", 0, SIZE, 0x7000_0000_0000))
    )
    objects.add_memory(MemoryState(0x102, a, SIZE, DEVICE_ONLY))
    objects.add_memory(MemoryState(0x103, a, SIZE + 64, VISIBLE))
    objects.add_memory(MemoryState(0x104, a, SIZE, VISIBLE, host_import=True))
    objects.add_memory(MemoryState(0x200, b, SIZE, VISIBLE))
    objects.add_memory(MemoryState(0x201, b, SIZE, VISIBLE))
    objects.add_memory(MemoryState(0x202, b, SIZE, VISIBLE, mapped=Mapping("vkMapMemory2", 0, SIZE, 0x7300_0000_0000)))
    objects.remove_memory(0x201)
    return objects


def map2(device=0xA0, memory=0x100, entry="vkMapMemory2", pp_data=True, **info):
    return MapCall(entry, device, MapInfo(memory, **info), pp_data)


def placed(address=0x7100_0000_0000, memory=0x100, **info):
    return map2(memory=memory, flags=abi.VK_MEMORY_MAP_PLACED_BIT_EXT, next=(PlacedInfo(address),), **info)


def unmap2(device=0xA0, memory=0x101, entry="vkUnmapMemory2", **info):
    return UnmapCall(entry, device, UnmapInfo(memory, **info))


def _khr(call):
    """The same call through the KHR entry point."""
    if isinstance(call, (MapCall, UnmapCall)):
        return type(call)(call.entry + "KHR", *[getattr(call, f) for f in call.__dataclass_fields__ if f != "entry"])
    return call


MAP_INFO = abi.VK_STRUCTURE_TYPE_MEMORY_MAP_INFO
CASES = [
    # (rule, violating call, accepted boundary call)
    ("VUID-vkMapMemory2-device-parameter", map2(device=0xDEAD), map2()),
    ("VUID-vkMapMemory2-pMemoryMapInfo-parameter", MapCall("vkMapMemory2", 0xA0, None), map2()),
    ("VUID-vkMapMemory2-ppData-parameter", map2(pp_data=False), map2()),
    ("VUID-VkMemoryMapInfo-sType-sType", map2(sType=abi.VK_STRUCTURE_TYPE_MEMORY_UNMAP_INFO), map2(sType=MAP_INFO)),
    (
        "VUID-VkMemoryMapInfo-pNext-pNext",
        map2(next=(OtherStruct(abi.VK_STRUCTURE_TYPE_MEMORY_UNMAP_INFO),)),
        map2(next=(PlacedInfo(0),)),
    ),
    ("VUID-VkMemoryMapInfo-sType-unique", map2(next=(PlacedInfo(0), PlacedInfo(0))), map2(next=(PlacedInfo(0),))),
    ("VUID-VkMemoryMapInfo-flags-parameter", map2(flags=0x2), map2(flags=0)),
    ("VUID-VkMemoryMapInfo-memory-parameter", map2(memory=0x999), map2()),
    (
        "VUID-VkMemoryMapInfo-memory-parameter",
        map2(device=0xB0, memory=0x201),
        map2(device=0xB0, memory=0x200),
    ),  # freed
    ("UNASSIGNED-VkMemoryMapInfo-memory-parent", map2(device=0xB0, memory=0x100), map2(device=0xB0, memory=0x200)),
    ("VUID-VkMemoryMapInfo-memory-07958", map2(memory=0x101), map2(memory=0x100)),
    ("VUID-VkMemoryMapInfo-offset-07959", map2(offset=SIZE), map2(offset=SIZE - 1)),
    ("VUID-VkMemoryMapInfo-size-07960", map2(size=0), map2(size=1)),
    ("VUID-VkMemoryMapInfo-size-07961", map2(offset=1, size=SIZE), map2(offset=1, size=SIZE - 1)),
    ("VUID-VkMemoryMapInfo-memory-07962", map2(memory=0x102), map2(memory=0x100)),
    (
        "VUID-VkMemoryMapInfo-flags-09569",
        placed(memory=0x200, size=abi.VK_WHOLE_SIZE)
        and MapCall("vkMapMemory2", 0xB0, MapInfo(0x200, flags=1, next=(PlacedInfo(0x7100_0000_0000),))),
        placed(),
    ),
    ("VUID-VkMemoryMapInfo-flags-09570", map2(flags=abi.VK_MEMORY_MAP_PLACED_BIT_EXT), placed()),
    ("VUID-VkMemoryMapInfo-flags-09570", placed(address=0), placed()),
    ("VUID-VkMemoryMapInfo-flags-09571", placed(offset=ALIGN), placed(offset=0)),
    ("VUID-VkMemoryMapInfo-flags-09572", placed(size=ALIGN), placed(size=SIZE)),
    ("VUID-VkMemoryMapInfo-flags-09574", placed(memory=0x103, size=SIZE + 64), placed(memory=0x100, size=SIZE)),
    ("VUID-VkMemoryMapInfo-flags-09651", placed(memory=0x103), placed(memory=0x100)),
    ("VUID-VkMemoryMapInfo-flags-09575", placed(memory=0x104), placed(memory=0x100)),
    ("VUID-VkMemoryMapInfo-pNext-pNext", map2(next=(PlacedInfo(0, sType=MAP_INFO),)), map2(next=(PlacedInfo(0),))),
    ("VUID-VkMemoryMapPlacedInfoEXT-pPlacedAddress-09577", placed(address=0x7100_0000_0000 + 64), placed()),
    (
        "VUID-VkMemoryMapPlacedInfoEXT-pPlacedAddress-09578",
        placed(address=0x7000_0000_0000 + ALIGN),
        placed(address=0x7000_0000_0000 + SIZE),
    ),
    ("VUID-vkUnmapMemory2-device-parameter", unmap2(device=0xDEAD), unmap2()),
    ("VUID-vkUnmapMemory2-pMemoryUnmapInfo-parameter", UnmapCall("vkUnmapMemory2", 0xA0, None), unmap2()),
    ("VUID-VkMemoryUnmapInfo-sType-sType", unmap2(sType=MAP_INFO), unmap2()),
    ("VUID-VkMemoryUnmapInfo-pNext-pNext", unmap2(next=(PlacedInfo(0),)), unmap2()),
    ("VUID-VkMemoryUnmapInfo-flags-parameter", unmap2(flags=0x2), unmap2(flags=abi.VK_MEMORY_UNMAP_RESERVE_BIT_EXT)),
    ("VUID-VkMemoryUnmapInfo-memory-parameter", unmap2(memory=0x999), unmap2()),
    ("UNASSIGNED-VkMemoryUnmapInfo-memory-parent", unmap2(device=0xB0), unmap2()),
    ("VUID-VkMemoryUnmapInfo-memory-07964", unmap2(memory=0x100), unmap2(memory=0x101)),
    (
        "VUID-VkMemoryUnmapInfo-flags-09579",
        unmap2(device=0xB0, memory=0x202, flags=1),
        unmap2(device=0xB0, memory=0x202),
    ),
    ("VUID-vkMapMemory-device-parameter", LegacyMapCall(0xDEAD, 0x100), LegacyMapCall(0xA0, 0x100)),
    ("VUID-vkMapMemory-memory-parameter", LegacyMapCall(0xA0, 0x999), LegacyMapCall(0xA0, 0x100)),
    ("VUID-vkMapMemory-memory-parent", LegacyMapCall(0xB0, 0x100), LegacyMapCall(0xB0, 0x200)),
    ("VUID-vkMapMemory-ppData-parameter", LegacyMapCall(0xA0, 0x100, pp_data=False), LegacyMapCall(0xA0, 0x100)),
    ("VUID-vkMapMemory-flags-parameter", LegacyMapCall(0xA0, 0x100, flags=0x2), LegacyMapCall(0xA0, 0x100, flags=0)),
    (
        "VUID-vkMapMemory-flags-09568",
        LegacyMapCall(0xA0, 0x100, flags=abi.VK_MEMORY_MAP_PLACED_BIT_EXT),
        LegacyMapCall(0xA0, 0x100, flags=0),
    ),
    ("VUID-vkMapMemory-memory-00678", LegacyMapCall(0xA0, 0x101), LegacyMapCall(0xA0, 0x100)),
    (
        "VUID-vkMapMemory-offset-00679",
        LegacyMapCall(0xA0, 0x100, offset=SIZE),
        LegacyMapCall(0xA0, 0x100, offset=SIZE - 1),
    ),
    ("VUID-vkMapMemory-size-00680", LegacyMapCall(0xA0, 0x100, size=0), LegacyMapCall(0xA0, 0x100, size=1)),
    (
        "VUID-vkMapMemory-size-00681",
        LegacyMapCall(0xA0, 0x100, offset=8, size=SIZE - 7),
        LegacyMapCall(0xA0, 0x100, offset=8, size=SIZE - 8),
    ),
    ("VUID-vkMapMemory-memory-00682", LegacyMapCall(0xA0, 0x102), LegacyMapCall(0xA0, 0x100)),
    ("VUID-vkUnmapMemory-device-parameter", LegacyUnmapCall(0xDEAD, 0x101), LegacyUnmapCall(0xA0, 0x101)),
    ("VUID-vkUnmapMemory-memory-parameter", LegacyUnmapCall(0xA0, 0x999), LegacyUnmapCall(0xA0, 0x101)),
    ("VUID-vkUnmapMemory-memory-parent", LegacyUnmapCall(0xB0, 0x101), LegacyUnmapCall(0xA0, 0x101)),
    ("VUID-vkUnmapMemory-memory-00689", LegacyUnmapCall(0xA0, 0x100), LegacyUnmapCall(0xA0, 0x101)),
]


# Through the KHR entry points the validator names the same rule by its core VUID, as a 1.4 layer does.
SPELLED = [(v, b, g) for v, b, g in CASES] + [
    (v, _khr(b), _khr(g)) for v, b, g in CASES if isinstance(b, (MapCall, UnmapCall))
]


@pytest.mark.parametrize("vuid, bad, good", SPELLED, ids=[f"{c[0]}#{i}" for i, c in enumerate(SPELLED)])
def test_rule_rejects_violation_and_accepts_boundary(world, vuid, bad, good):
    """The validator names exactly the rule for a call that breaks it, and nothing for the boundary call beside it."""
    assert [v.vuid for v in check(bad, world)] == [vuid]
    assert check(good, world) == []


def test_every_validator_vuid_has_a_case():
    """Every VUID the validator can report has a case above, and none is a KHR spelling."""
    import re
    from pathlib import Path

    source = Path(__file__).resolve().parents[2].joinpath("fixtures", "rules", "validity.py").read_text()
    in_validator = set(re.findall(r'"((?:VUID|UNASSIGNED)-[A-Za-z0-9_-]+)"', source))
    cased = {c[0] for c in CASES}
    untested = {v for v in in_validator - cased if not v.endswith(("-07963", "-00683", "-09573", "-09580"))}
    assert not untested, f"validator checks without a self-test case: {sorted(untested)}"
    from vkmap_cts.fixtures.rules.catalogue import is_khr_spelling

    assert not [v for v in in_validator if is_khr_spelling(v)], "the validator names rules by their core VUIDs"


def test_range_placed_rules(world):
    """09573 needs memoryMapRangePlaced; with it, offsets must be aligned and 09571/09572 no longer apply."""
    dev = world.devices[0xA0]
    dev.placed = PlacedMapSupport(True, True, True, ALIGN)
    assert [v.vuid for v in check(placed(offset=64, size=ALIGN), world)] == ["VUID-VkMemoryMapInfo-flags-09573"]
    assert check(placed(offset=ALIGN, size=ALIGN), world) == []


def test_multi_instance_and_imported_host_memory(world):
    """07963/00683 (multiple instances) and 09580 (reserve on imported memory) on synthetic state."""
    heap = MemoryType(2, 0x6, 2, 0x2, 1 << 30)
    world.add_memory(MemoryState(0x300, world.devices[0xA0], SIZE, heap, instances=2))
    assert [v.vuid for v in check(map2(memory=0x300), world)] == ["VUID-VkMemoryMapInfo-memory-07963"]
    assert [v.vuid for v in check(LegacyMapCall(0xA0, 0x300), world)] == ["VUID-vkMapMemory-memory-00683"]
    world.memories[0x104].mapped = Mapping("vkMapMemory2", 0, SIZE, 0x7200_0000_0000)
    assert [v.vuid for v in check(unmap2(memory=0x104, flags=1), world)] == ["VUID-VkMemoryUnmapInfo-flags-09580"]


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from vkmap_cts.fixtures.rules.validity import (  # noqa: E402
    _plainly_valid_map2,
    _plainly_valid_unmap2,
    check_map2_fully,
    check_unmap2_fully,
)

HANDLES = st.sampled_from([0x100, 0x101, 0x102, 0x103, 0x104, 0x200, 0x201, 0x202, 0x999])
DEVICES = st.sampled_from([0xA0, 0xB0, 0xDEAD])
EDGES = st.sampled_from([0, 1, 63, 64, SIZE - 1, SIZE, SIZE + 1, SIZE + 64, abi.VK_WHOLE_SIZE, abi.VK_WHOLE_SIZE - 1])
CHAINS = st.sampled_from([(), (PlacedInfo(0),), (OtherStruct(5),), (PlacedInfo(0x7100_0000_0000),)])
ANY_MAP = st.builds(
    MapCall,
    st.sampled_from(["vkMapMemory2KHR", "vkMapMemory2"]),
    DEVICES,
    st.one_of(
        st.none(),
        st.builds(
            MapInfo,
            HANDLES,
            EDGES,
            EDGES,
            st.sampled_from([0, 1, 2]),
            CHAINS,
            st.sampled_from([abi.VK_STRUCTURE_TYPE_MEMORY_MAP_INFO, 5]),
        ),
    ),
    st.booleans(),
)
ANY_UNMAP = st.builds(
    UnmapCall,
    st.sampled_from(["vkUnmapMemory2KHR", "vkUnmapMemory2"]),
    DEVICES,
    st.one_of(
        st.none(),
        st.builds(
            UnmapInfo,
            HANDLES,
            st.sampled_from([0, 1, 2]),
            CHAINS,
            st.sampled_from([abi.VK_STRUCTURE_TYPE_MEMORY_UNMAP_INFO, 5]),
        ),
    ),
)
# Calls that differ from a common valid call only in device, memory, offset and size: where the fast path says yes.
NEAR_VALID_MAP = st.builds(
    lambda dev, mem, offset, size: MapCall("vkMapMemory2", dev, MapInfo(mem, offset, size)),
    DEVICES,
    HANDLES,
    EDGES,
    EDGES,
)
NEAR_VALID_UNMAP = st.builds(lambda dev, mem: UnmapCall("vkUnmapMemory2", dev, UnmapInfo(mem)), DEVICES, HANDLES)


@settings(max_examples=400)
@given(call=st.one_of(ANY_MAP, NEAR_VALID_MAP))
def test_fast_path_never_accepts_what_the_full_check_rejects_map(call):
    """The validator's one-pass acceptance of common calls agrees with every rule."""
    objects = make_world()
    if _plainly_valid_map2(call, objects):
        assert check_map2_fully(call, objects) == [], call


@settings(max_examples=400)
@given(call=st.one_of(ANY_UNMAP, NEAR_VALID_UNMAP))
def test_fast_path_never_accepts_what_the_full_check_rejects_unmap(call):
    objects = make_world()
    if _plainly_valid_unmap2(call, objects):
        assert check_unmap2_fully(call, objects) == [], call


def test_fast_paths_take_the_common_calls():
    objects = make_world()
    assert _plainly_valid_map2(map2(), objects) and _plainly_valid_map2(map2(offset=SIZE - 1, size=1), objects)
    assert _plainly_valid_unmap2(unmap2(), objects)
    assert not _plainly_valid_map2(map2(memory=0x101), objects)  # already mapped: the full path decides


@pytest.mark.parametrize(
    "call, rule",
    [
        (
            MapCall("vkMapMemory2", 0xC0, MapInfo(0x300, flags=1, next=(PlacedInfo(0x7100_0000_0000),))),
            "VUID-VkMemoryMapInfo-flags-09569",
        ),
        (UnmapCall("vkUnmapMemory2", 0xC0, UnmapInfo(0x301, flags=1)), "VUID-VkMemoryUnmapInfo-flags-09579"),
        (LegacyMapCall(0xC0, 0x300, flags=1), "VUID-vkMapMemory-flags-09568"),
    ],
)
def test_a_flag_of_an_extension_not_enabled_breaks_the_flags_rule_too(world, call, rule):
    """On a device without VK_EXT_map_memory_placed its flag bits are no valid flags: the implicit flags rule is named
    beside the rule."""
    flags_rule = rule.rsplit("-", 1)[0] + "-parameter"
    assert {v.vuid for v in check(call, world)} == {rule, flags_rule}
    from vkmap_cts.fixtures.rules.validity import extension_flag_violations

    assert extension_flag_violations(call, world) == {flags_rule}


def test_a_placed_alignment_of_0_is_a_multiple_only_of_0_never_an_exception(world):
    """A device that reports minPlacedMemoryMapAlignment 0 (as the Khronos mock ICD does): the placed rules judge every
    size and address but 0 misaligned (09574, 09651, 09577), with no division by zero."""
    world.devices[0xA0].placed = PlacedMapSupport(True, True, True, 0)
    assert {v.vuid for v in check(placed(size=SIZE), world)} == {
        "VUID-VkMemoryMapInfo-flags-09574",
        "VUID-VkMemoryMapPlacedInfoEXT-pPlacedAddress-09577",
    }
    assert {v.vuid for v in check(placed(offset=64, size=abi.VK_WHOLE_SIZE), world)} == {
        "VUID-VkMemoryMapInfo-flags-09573",
        "VUID-VkMemoryMapInfo-flags-09651",
        "VUID-VkMemoryMapPlacedInfoEXT-pPlacedAddress-09577",
    }


def test_memory_of_another_device_is_judged_by_its_parent_rule_alone(world):
    """Mapped memory of device B, mapped again through device A past its end: only the parent rule, as the layers
    judge it (the state rules read the memory as an object of the call's device)."""
    world.memories[0x200].mapped = Mapping("vkMapMemory", 0, SIZE, 0x7300_0000_0000)
    assert [v.vuid for v in check(map2(memory=0x200, offset=SIZE, size=0), world)] == [
        "UNASSIGNED-VkMemoryMapInfo-memory-parent"
    ]
    assert [v.vuid for v in check(LegacyMapCall(0xA0, 0x200, SIZE), world)] == ["VUID-vkMapMemory-memory-parent"]


@pytest.mark.parametrize("offset, size", [(SIZE, 1), (SIZE + 1, 0), (2**64 - 1, 2)])
def test_a_size_past_the_end_at_an_offset_past_the_end_breaks_both_range_rules(world, offset, size):
    """offset past the end and a size that is not VK_WHOLE_SIZE: size exceeds the size of the memory minus offset (a
    negative number), so 07961 (00681) is broken beside 07959 (00679), and 07960 (00680) where size is 0."""
    zero = {"VUID-VkMemoryMapInfo-size-07960"} if size == 0 else set()
    assert {v.vuid for v in check(map2(offset=offset, size=size), world)} == {
        "VUID-VkMemoryMapInfo-offset-07959",
        "VUID-VkMemoryMapInfo-size-07961",
        *zero,
    }
    legacy = {v.vuid for v in check(LegacyMapCall(0xA0, 0x100, offset, size), world)}
    assert {"VUID-vkMapMemory-offset-00679", "VUID-vkMapMemory-size-00681"} <= legacy
