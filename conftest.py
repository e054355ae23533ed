"""Loads the suite's plugins for every pytest run from this tree: options and device selection,
the Vulkan fixtures, the covers/violates markers, per-test checks (fixtures/plugins/), and
results, reports and the gate (reports/plugin.py)."""

from vkmap_cts.fixtures.plugins import FIXTURE_PLUGINS

pytest_plugins = [*FIXTURE_PLUGINS, "vkmap_cts.reports.plugin"]
