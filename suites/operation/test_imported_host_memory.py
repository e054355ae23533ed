"""Beyond CTS: memory imported from a host allocation (VK_EXT_external_memory_host), mapped through every map
entry point.  "Importing memory from a host pointer shares ownership of the memory between the host and the
Vulkan implementation.  The application can continue to access the memory through the host pointer but it is
the application's responsibility to synchronize device and non-device access to the payload as defined in Host
Access to Device Memory Objects" (chapters/memory.adoc, VkImportMemoryHostPointerInfoEXT): the mapping and the
host pointer are two views of one payload, and the device's writes reach both.  A placed map or a reserving
unmap of such memory is invalid usage (suites/validation: flags-09575, flags-09580).

NotSupported where the device lacks the extension, no HOST_VISIBLE type can import the allocation, or the
platform refuses the pointer (VK_ERROR_INVALID_EXTERNAL_HANDLE, which the specification allows).
"""

from hypothesis import given, settings
from hypothesis import strategies as st

from vkmap_cts.fixtures.judge.properties.imported_host_memory import imported_memory_shares_the_host_bytes
from vkmap_cts.fixtures.rules.coverage import covers, entry_points
from vkmap_cts.fixtures.vk.arguments import MAP_ENTRIES


@covers("GUARANTEE-imported-host-memory", "GUARANTEE-map-success", "GUARANTEE-map-alignment")
@entry_points("entry", MAP_ENTRIES)
@settings(max_examples=6)
@given(pages=st.integers(1, 16), seed=st.integers(0, 2**32 - 1))
def test_imported_memory_is_the_host_allocation(device, transfers, import_host_memory, entry, pages, seed):
    """Host memory imported and mapped shows the host's bytes; the host pointer reads what the mapping and the device
    wrote."""
    mem = import_host_memory(pages * device.physical.min_imported_host_pointer_alignment)
    try:
        imported_memory_shares_the_host_bytes(mem, transfers, entry, seed)
    finally:
        device.free(mem)
