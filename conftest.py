"""Loads the suite's plugins for every pytest run from this checkout (``PLUGINS``): options and
device selection, the Vulkan fixtures, the covers/violates markers and per-test checks
(fixtures/plugins/), and results, reports and the gate (reports/plugin.py)."""

from vkmap_cts.fixtures.plugins import PLUGINS

pytest_plugins = PLUGINS
