"""vkMapMemory2KHR / vkMapMemory2: the command's own implicit rules (device, pMemoryMapInfo, ppData).

One table (ROWS): a valid device, pMemoryMapInfo and writable ppData map with VK_SUCCESS,
once per rule and entry point; a device handle drawn from those that name no live device,
NULL pMemoryMapInfo and NULL ppData are refused: the reference validator must name exactly
the rule, and the driver is never called.
"""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vkmap_cts.fixtures.judge.boundaries import command_rows, invalid, map_row, no_live_handle, params, valid
from vkmap_cts.fixtures.rules.coverage import entry_points
from vkmap_cts.fixtures.vk.arguments import MAP2_ENTRIES
from vkmap_cts.fixtures.vk.recording import PROCESS

entries = entry_points("entry", MAP2_ENTRIES)

ROWS = [
    *command_rows(
        "VUID-vkMapMemory2-device-parameter", "VUID-vkMapMemory2-pMemoryMapInfo-parameter", "VkMemoryMapInfo"
    ),
    no_live_handle("VUID-vkMapMemory2-device-parameter", "device", PROCESS.objects.devices, "VkDevice"),
    valid("VUID-vkMapMemory2-ppData-parameter", "ppData = a writable pointer"),
    invalid("VUID-vkMapMemory2-ppData-parameter", "ppData = NULL", pp_data=False),
]


@entries
@pytest.mark.parametrize("row", params(ROWS))
@given(data=st.data())
def test_boundary_row(device, memory_pool, host_visible_types, entry, row, data):
    """A valid device, pMemoryMapInfo and ppData map with VK_SUCCESS and an aligned pointer; NULL pMemoryMapInfo or
    ppData, or a device handle drawn from those that name no live VkDevice, is refused with exactly its VUID (the parent
    rule is not judged
    without a device)."""
    with memory_pool.lease(host_visible_types[0], 4096) as mem:
        if map_row(device, row, row.call(mem.map2_call, entry=entry, **row.draw(data)), device.driver.map2):
            mem.unmap2()
