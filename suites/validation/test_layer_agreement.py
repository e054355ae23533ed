"""The Khronos validation layer reports the same VUIDs as the reference validator.

A Skip (with the reason: the test host's, not the driver's) where no VK_LAYER_KHRONOS_validation that knows
VK_KHR_map_memory2 is installed: Debian 12 ships 1.3.239, too old.
"""

import pytest

from vkmap_cts.fixtures.crosscheck.layer import LAYER, layer_unusable_reason, layer_vuids
from vkmap_cts.fixtures.rules import validity
from vkmap_cts.fixtures.rules.coverage import host_lacks
from vkmap_cts.fixtures.vk import abi
from vkmap_cts.fixtures.vk.arguments import OtherStruct

SIZE = 4096

# Invalid calls, each built from a memory object: (name, builder, needs the memory mapped first)
CASES = [
    ("offset past the end", lambda m: m.map2_call(offset=SIZE), False),
    ("size zero", lambda m: m.map2_call(size=0), False),
    ("size past the end", lambda m: m.map2_call(offset=1, size=SIZE), False),
    ("already mapped", lambda m: m.map2_call(), True),
    ("undefined flag bits", lambda m: m.map2_call(flags=0x100), False),
    ("foreign pNext", lambda m: m.map2_call(next=(OtherStruct(abi.VK_STRUCTURE_TYPE_MEMORY_UNMAP_INFO),)), False),
    ("unmap of memory not mapped", lambda m: m.unmap2_call(), False),
    ("legacy offset past the end", lambda m: m.map_call(offset=SIZE), False),
]


@pytest.fixture(scope="module")
def layered():
    reason = layer_unusable_reason()
    if reason:
        host_lacks(f"a {LAYER} that validates VK_KHR_map_memory2 ({reason})")
    import os

    from vkmap_cts.fixtures.access.device import Device
    from vkmap_cts.fixtures.vk.instance import Instance
    from vkmap_cts.fixtures.vk.selection import select

    instance = Instance(layers=(LAYER,), skip_on_error=True)
    physical = select(instance.physical_devices(), os.environ.get("VKMAP_CTS_DEVICE_UUID"))
    device = Device(instance, physical)
    yield instance, device
    device.close()
    instance.close()


@pytest.mark.parametrize("name, build, premap", CASES, ids=[c[0] for c in CASES])
def test_layer_reports_the_validators_vuid(layered, request, name, build, premap):
    """The Khronos validation layer reports the VUID the reference validator names for the same invalid call."""
    instance, device = layered
    mem = device.allocate(device.physical.host_visible_types[0], SIZE)
    try:
        if premap:
            assert mem.map2().result == 0
        call = build(mem)
        ours = {v.vuid for v in validity.check(call, device.objects)}
        theirs = layer_vuids(instance, device.driver, call)
        if ours != theirs:
            request.node.user_properties.append(
                ("layer_disagreements", [{"case": name, "validator": sorted(ours), "layer": sorted(theirs)}])
            )
        assert ours == theirs, f"{name}: the reference validator says {sorted(ours)}, {LAYER} says {sorted(theirs)}"
    finally:
        if mem.mapping is not None:
            mem.unmap2()
        device.free(mem)


def test_the_reason_for_skipping_is_stated():
    """Self-check of the detection: either a usable layer, or a one-line reason naming it."""
    reason = layer_unusable_reason()
    assert reason is None or LAYER in reason
