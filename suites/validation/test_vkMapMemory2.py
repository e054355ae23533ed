"""vkMapMemory2KHR / vkMapMemory2: the command's own implicit rules (device, pMemoryMapInfo, ppData).

Valid side: a valid device, pMemoryMapInfo and writable ppData map with VK_SUCCESS, once
per rule and entry point.  Invalid side: a handle that is no device, NULL pMemoryMapInfo,
NULL ppData; the reference validator must name exactly the rule, and the driver is never
called.
"""

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from vkmap_cts.fixtures.judge.boundaries import judged, params, valid
from vkmap_cts.fixtures.judge.oracles import assert_refused, assert_success
from vkmap_cts.fixtures.rules.coverage import require_entry, violates
from vkmap_cts.fixtures.vk.arguments import MAP2_ENTRIES, MapCall
from vkmap_cts.fixtures.vk.state import OBJECTS

entries = pytest.mark.parametrize("entry", MAP2_ENTRIES)

ROWS = [
    valid("VUID-vkMapMemory2-device-parameter", "device = the device of the memory"),
    valid("VUID-vkMapMemory2-pMemoryMapInfo-parameter", "pMemoryMapInfo = a valid VkMemoryMapInfo"),
    valid("VUID-vkMapMemory2-ppData-parameter", "ppData = a writable pointer"),
]


@entries
@pytest.mark.parametrize("row", params(ROWS))
def test_boundary_row(device, memory_pool, host_visible_types, entry, row):
    """A valid device, pMemoryMapInfo and ppData map with VK_SUCCESS."""
    require_entry(device, entry)
    with memory_pool.lease(host_visible_types[0], 4096) as mem:
        with judged(row):
            assert_success(mem.map2(entry=entry))
        mem.unmap2()


@violates("VUID-vkMapMemory2-device-parameter")
@entries
@given(handle=st.integers(1, 2**64 - 1))
def test_device_that_is_no_device_is_refused(device, memory_pool, host_visible_types, entry, handle):
    """A device handle that names no live VkDevice (the parent rule is not judged without a device)."""
    require_entry(device, entry)
    assume(handle not in OBJECTS.devices)  # a live handle would be valid: not this test's case
    with memory_pool.lease(host_visible_types[0], 4096) as mem:
        call = mem.map2_call(entry=entry)
        assert_refused(device.driver, MapCall(entry, handle, call.info), {"VUID-vkMapMemory2-device-parameter"})


@violates("VUID-vkMapMemory2-pMemoryMapInfo-parameter")
@entries
def test_null_map_info_is_refused(device, entry):
    """pMemoryMapInfo NULL."""
    require_entry(device, entry)
    assert_refused(device.driver, MapCall(entry, device.state.handle, None), {"VUID-vkMapMemory2-pMemoryMapInfo-parameter"})


@violates("VUID-vkMapMemory2-ppData-parameter")
@entries
def test_null_ppdata_is_refused(device, memory_pool, host_visible_types, entry):
    """ppData NULL."""
    require_entry(device, entry)
    with memory_pool.lease(host_visible_types[0], 4096) as mem:
        call = mem.map2_call(entry=entry)
        assert_refused(device.driver, MapCall(entry, call.device, call.info, pp_data=False), {"VUID-vkMapMemory2-ppData-parameter"})
