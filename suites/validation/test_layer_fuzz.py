"""Differential fuzz of the reference validator against VK_LAYER_KHRONOS_validation.

Whole call scenarios (fixtures/crosscheck/scenarios.py), drawn independently of the boundary rows, are each made on
devices under the layer (told to skip invalid calls), judged by the validator and sent to the layer; the layer
must name the first stage (parameters, handles, state) of the validator's rules, through the catalogue's aliases,
or the difference must be explained in fixtures/rules/layer_differences.json.  Hypothesis shrinks each group of
disagreements (the rules only the layer names, those only the validator names) on its own; the test fails with one
line per group, and the counts and groups go to results.json (``layerFuzz``).

Runs with --vk-layer (without it, or without the layer installed, a Skip: the test host's, not the driver's);
scenarios: 5,000 under the ci profile (derandomized: the same scenarios every run), 100,000 under thorough, 500
otherwise.
"""

import os

import pytest

from vkmap_cts.fixtures.crosscheck.bench import Bench
from vkmap_cts.fixtures.crosscheck.fuzz import Tally, fuzz, run
from vkmap_cts.fixtures.crosscheck.layer import LAYER, installed_version, layer_unusable_reason
from vkmap_cts.fixtures.plugins.options import ENV_LAYER, ENV_UUID
from vkmap_cts.fixtures.rules.coverage import host_lacks
from vkmap_cts.fixtures.vk.abi import api_version_string

EXAMPLES = {"ci": 5000, "thorough": 100_000}
DEFAULT_EXAMPLES = 500


@pytest.fixture(scope="module")
def bench():
    if os.environ.get(ENV_LAYER) != "1":
        host_lacks("--vk-layer (the differential fuzz runs under the validation layer)", "the run")
    reason = layer_unusable_reason()
    if reason:
        host_lacks(f"a {LAYER} that validates VK_KHR_map_memory2 ({reason})")
    b = Bench(os.environ.get(ENV_UUID))
    yield b
    b.close()


def test_validator_agrees_with_the_layer(bench, request):
    """Every drawn scenario: the layer names the first stage of the validator's VUIDs, or the difference is
    explained."""
    profile = request.config.getoption("hypothesis_profile", None) or os.environ.get("HYPOTHESIS_PROFILE", "dev")
    p = bench.physical
    tally = Tally(api_version_string(installed_version()), f"{p.name} ({p.driver_name} {p.driver_info})".strip())
    try:
        failure = fuzz(bench.inventory(), EXAMPLES.get(profile, DEFAULT_EXAMPLES), tally, lambda s: run(bench, s))
    finally:
        request.node.user_properties.append(("layer_fuzz", tally.summary()))
    if tally.groups:
        lines = [tally.line(), *(f"  {g.line()}" for g in tally.groups.values())]
        raise AssertionError("\n".join(lines)) from None
    if failure is not None:
        raise failure
