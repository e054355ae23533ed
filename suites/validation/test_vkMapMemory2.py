"""vkMapMemory2KHR / vkMapMemory2: the command's own implicit rules (device, pMemoryMapInfo, ppData).

Valid side: every successful map in the suites passes a valid device, a valid
pMemoryMapInfo and a writable ppData; here once per entry point.  Invalid side: a
handle that is no device, NULL pMemoryMapInfo, NULL ppData; the reference validator
must name exactly the rule, and the driver is never called.
"""
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from fixtures.vk.arguments import MAP2_ENTRIES as TWO_FORMS
from fixtures.vk.arguments import MapCall
from fixtures.rules.coverage import covers, require_entry, violates
from fixtures.judge.oracles import assert_refused, assert_success, spelled
from fixtures.vk.state import OBJECTS


@covers("VUID-vkMapMemory2KHR-device-parameter", "VUID-vkMapMemory2-device-parameter", "VUID-vkMapMemory2KHR-pMemoryMapInfo-parameter", "VUID-vkMapMemory2-pMemoryMapInfo-parameter", "VUID-vkMapMemory2KHR-ppData-parameter", "VUID-vkMapMemory2-ppData-parameter")
@pytest.mark.parametrize("entry", TWO_FORMS)
def test_valid_arguments_are_accepted(device, memory_pool, host_visible_types, entry):
    require_entry(device, entry)
    with memory_pool.lease(host_visible_types[0], 4096) as mem:
        assert_success(mem.map2(entry=entry))
        mem.unmap2()


@violates("VUID-vkMapMemory2KHR-device-parameter", "VUID-vkMapMemory2-device-parameter")
@pytest.mark.parametrize("entry", TWO_FORMS)
@given(handle=st.integers(1, 2**64 - 1))
def test_device_that_is_no_device_is_refused(device, memory_pool, host_visible_types, entry, handle):
    require_entry(device, entry)
    assume(handle not in OBJECTS.devices)  # a live handle would be valid: not this test's case
    with memory_pool.lease(host_visible_types[0], 4096) as mem:
        call = mem.map2_call(entry=entry)
        bad = MapCall(entry, handle, call.info)
        # A foreign device also makes memory a foreign object: the parent rule is not judged without a device.
        assert_refused(device.driver, bad, {spelled(entry, "VUID-vkMapMemory2KHR-device-parameter", "VUID-vkMapMemory2-device-parameter")})


@violates("VUID-vkMapMemory2KHR-pMemoryMapInfo-parameter", "VUID-vkMapMemory2-pMemoryMapInfo-parameter")
@pytest.mark.parametrize("entry", TWO_FORMS)
def test_null_map_info_is_refused(device, entry):
    require_entry(device, entry)
    assert_refused(device.driver, MapCall(entry, device.state.handle, None), {spelled(entry, "VUID-vkMapMemory2KHR-pMemoryMapInfo-parameter", "VUID-vkMapMemory2-pMemoryMapInfo-parameter")})


@violates("VUID-vkMapMemory2KHR-ppData-parameter", "VUID-vkMapMemory2-ppData-parameter")
@pytest.mark.parametrize("entry", TWO_FORMS)
def test_null_ppdata_is_refused(device, memory_pool, host_visible_types, entry):
    require_entry(device, entry)
    with memory_pool.lease(host_visible_types[0], 4096) as mem:
        call = mem.map2_call(entry=entry)
        assert_refused(device.driver, MapCall(entry, call.device, call.info, pp_data=False), {spelled(entry, "VUID-vkMapMemory2KHR-ppData-parameter", "VUID-vkMapMemory2-ppData-parameter")})
