"""Legacy vkMapMemory / vkUnmapMemory: every rule, on both sides (the suite calls them too)."""
from hypothesis import assume, given
from hypothesis import strategies as st

from fixtures.vk import abi
from fixtures.vk.arguments import LegacyMapCall, LegacyUnmapCall
from fixtures.rules.coverage import covers, require, violates
from fixtures.judge.oracles import assert_aligned, assert_refused, assert_success
from fixtures.vk.state import OBJECTS
from fixtures.judge.strategies import allocation_sizes, valid_map_ranges

SIZE = 8192


@covers(
    "VUID-vkMapMemory-device-parameter", "VUID-vkMapMemory-memory-parameter", "VUID-vkMapMemory-memory-parent",
    "VUID-vkMapMemory-flags-parameter", "VUID-vkMapMemory-ppData-parameter",
    "VUID-vkMapMemory-memory-00678", "VUID-vkMapMemory-offset-00679", "VUID-vkMapMemory-size-00680", "VUID-vkMapMemory-size-00681",
    "VUID-vkMapMemory-memory-00682", "VUID-vkMapMemory-memory-00683", "VUID-vkMapMemory-flags-09568",
    "VUID-vkUnmapMemory-device-parameter", "VUID-vkUnmapMemory-memory-parameter", "VUID-vkUnmapMemory-memory-parent", "VUID-vkUnmapMemory-memory-00689",
    "GUARANTEE-map-success", "GUARANTEE-map-alignment",
)
@given(data=st.data(), allocation_size=allocation_sizes())
def test_boundaries_are_accepted(device, memory_pool, host_visible_types, data, allocation_size):
    mt = data.draw(st.sampled_from(host_visible_types), label="memory type")
    r = data.draw(valid_map_ranges(allocation_size), label="range")
    with memory_pool.lease(mt, allocation_size) as mem:
        result = mem.map(offset=r.offset, size=r.size)
        assert_success(result)
        assert_aligned(result, device.limits_alignment)
        mem.unmap()


@violates("VUID-vkMapMemory-device-parameter", "VUID-vkUnmapMemory-device-parameter")
@given(handle=st.integers(1, 2**64 - 1))
def test_device_that_is_no_device(device, memory_pool, host_visible_types, handle):
    assume(handle not in OBJECTS.devices)  # a live handle would be valid: not this test's case
    with memory_pool.lease(host_visible_types[0], SIZE) as mem:
        assert_refused(device.driver, LegacyMapCall(handle, mem.handle), {"VUID-vkMapMemory-device-parameter"})
        assert_success(mem.map())
        try:
            assert_refused(device.driver, LegacyUnmapCall(handle, mem.handle), {"VUID-vkUnmapMemory-device-parameter"})
        finally:
            mem.unmap()


@violates("VUID-vkMapMemory-memory-parameter", "VUID-vkUnmapMemory-memory-parameter")
@given(handle=st.integers(1, 2**64 - 1))
def test_handle_that_is_no_memory(device, handle):
    assume(handle not in OBJECTS.memories)  # a live handle would be valid: not this test's case
    assert_refused(device.driver, LegacyMapCall(device.state.handle, handle), {"VUID-vkMapMemory-memory-parameter"})
    assert_refused(device.driver, LegacyUnmapCall(device.state.handle, handle), {"VUID-vkUnmapMemory-memory-parameter"})


@violates("VUID-vkMapMemory-memory-parent", "VUID-vkUnmapMemory-memory-parent")
def test_memory_of_another_device(device, second_device, host_visible_types):
    other = second_device.allocate(host_visible_types[0], SIZE)
    try:
        assert_refused(device.driver, LegacyMapCall(device.state.handle, other.handle), {"VUID-vkMapMemory-memory-parent"})
        assert_success(other.map())
        assert_refused(device.driver, LegacyUnmapCall(device.state.handle, other.handle), {"VUID-vkUnmapMemory-memory-parent"})
        other.unmap()
    finally:
        second_device.free(other)


@violates("VUID-vkMapMemory-flags-parameter")
@given(high=st.integers(1, 2**31 - 1))
def test_undefined_flag_bits(device, memory_pool, host_visible_types, high):
    with memory_pool.lease(host_visible_types[0], SIZE) as mem:
        assert_refused(device.driver, mem.map_call(flags=high << 1), {"VUID-vkMapMemory-flags-parameter"})


@violates("VUID-vkMapMemory-flags-09568")
def test_placed_flag(device, memory_pool, host_visible_types):
    with memory_pool.lease(host_visible_types[0], SIZE) as mem:
        assert_refused(device.driver, mem.map_call(flags=abi.VK_MEMORY_MAP_PLACED_BIT_EXT), {"VUID-vkMapMemory-flags-09568"})


@violates("VUID-vkMapMemory-ppData-parameter")
def test_null_ppdata(device, memory_pool, host_visible_types):
    with memory_pool.lease(host_visible_types[0], SIZE) as mem:
        call = mem.map_call()
        call.pp_data = False
        assert_refused(device.driver, call, {"VUID-vkMapMemory-ppData-parameter"})


@violates("VUID-vkMapMemory-memory-00678")
@given(first=st.sampled_from(["vkMapMemory2KHR", "vkMapMemory"]))
def test_memory_already_mapped(device, memory_pool, host_visible_types, first):
    with memory_pool.lease(host_visible_types[0], SIZE) as mem:
        assert_success(mem.map_with(first))
        try:
            assert_refused(device.driver, mem.map_call(), {"VUID-vkMapMemory-memory-00678"})
        finally:
            mem.unmap()


@violates("VUID-vkMapMemory-offset-00679", "VUID-vkMapMemory-size-00680", "VUID-vkMapMemory-size-00681")
@given(allocation_size=allocation_sizes(65536), data=st.data())
def test_range_outside_the_allocation(device, memory_pool, host_visible_types, allocation_size, data):
    offset = data.draw(st.integers(0, allocation_size - 1), label="offset")
    with memory_pool.lease(host_visible_types[0], allocation_size) as mem:
        assert_refused(device.driver, mem.map_call(offset=allocation_size + data.draw(st.integers(0, 2**40), label="past")), {"VUID-vkMapMemory-offset-00679"})
        assert_refused(device.driver, mem.map_call(offset=offset, size=0), {"VUID-vkMapMemory-size-00680"})
        too_big = data.draw(st.integers(allocation_size - offset + 1, 2**64 - 2), label="size")
        assert_refused(device.driver, mem.map_call(offset=offset, size=too_big), {"VUID-vkMapMemory-size-00681"})


@violates("VUID-vkMapMemory-memory-00682")
def test_memory_type_without_host_visible(device, physical_device):
    hidden = [t for t in physical_device.memory_types if not t.host_visible]
    require(bool(hidden), f"{physical_device.name} has no memory type without HOST_VISIBLE")
    for mt in hidden:
        mem = device.allocate(mt, SIZE)
        try:
            assert_refused(device.driver, mem.map_call(), {"VUID-vkMapMemory-memory-00682"})
        finally:
            device.free(mem)


@violates("VUID-vkUnmapMemory-memory-00689")
@given(was_mapped=st.booleans())
def test_unmap_of_memory_not_mapped(device, memory_pool, host_visible_types, was_mapped):
    with memory_pool.lease(host_visible_types[0], SIZE) as mem:
        if was_mapped:
            assert_success(mem.map())
            mem.unmap()
        assert_refused(device.driver, mem.unmap_call(), {"VUID-vkUnmapMemory-memory-00689"})
