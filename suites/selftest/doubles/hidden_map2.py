"""A driver double for the exit-7 self-test (suites/selftest/test_artifacts_agree.py): loaded with
``-p vkmap_cts.suites.selftest.doubles.hidden_map2``, it makes every device of the real driver hide
VK_KHR_map_memory2, as a driver without the extension (SwiftShader, lavapipe 22.3.6) does."""

from vkmap_cts.fixtures.vk.instance import PhysicalDevice

PhysicalDevice.has_map_memory2 = property(lambda self: False)
