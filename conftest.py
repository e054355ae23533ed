"""Loads the suite's plugins for every pytest run from this checkout (``PLUGINS``, fixtures/plugins/):
options and device selection, the Vulkan fixtures, the covers/violates markers and per-test checks,
and the run's hangs, re-runs, crashes, results and gate."""

from vkmap_cts.fixtures.plugins import PLUGINS

pytest_plugins = PLUGINS
