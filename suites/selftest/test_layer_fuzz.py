"""Self-tests of the differential fuzz against the validation layer (fixtures/crosscheck/fuzz.py,
fixtures/crosscheck/scenarios.py): the scenarios reach every dimension, and a wrong validator answer is a disagreement,
shrunk and grouped, that fails the fuzz."""

import pytest
from hypothesis import HealthCheck, Phase, given, settings

from vkmap_cts.fixtures.crosscheck import layer
from vkmap_cts.fixtures.crosscheck.bench import DeviceConfig, Inventory
from vkmap_cts.fixtures.crosscheck.fuzz import Tally, fuzz
from vkmap_cts.fixtures.crosscheck.scenarios import STATES, scenarios
from vkmap_cts.fixtures.judge.limits import RULE, placed_alignment_failure
from vkmap_cts.fixtures.vk import abi
from vkmap_cts.fixtures.vk.arguments import MAP_ENTRIES, UNMAP_ENTRIES, LegacyMapCall, LegacyUnmapCall
from vkmap_cts.fixtures.vk.instance import PlacedMapSupport

CONFIGS = (
    DeviceConfig("1.3+map2", "1.3", True),
    DeviceConfig("1.4", "1.4", False),
    DeviceConfig("1.4+map2+placed111", "1.4", True, (True, True, True)),
)
INVENTORY = Inventory(CONFIGS, ((0, True), (1, False)), placed_maps=True)
DIMENSIONS = {
    **{f"entry {e}": lambda s, e=e: s.entry == e for e in MAP_ENTRIES + UNMAP_ENTRIES},
    **{f"memory {m}": lambda s, m=m: s.memory == m for m in STATES},
    "a non-host-visible type": lambda s: s.memory_type == 1,
    "PLACED without the extension": lambda s: s.flags & 1 and s.config == "1.3+map2" and s.entry in MAP_ENTRIES,
    "RESERVE with the feature": lambda s: s.flags & 1 and s.config.endswith("111") and s.entry in UNMAP_ENTRIES,
    "an unknown flag bit": lambda s: s.flags & 0x80000000,
    "offset + size wrapping past 2^64": lambda s: s.size != abi.VK_WHOLE_SIZE and s.offset + s.size >= 2**64,
    "offset around 2^32": lambda s: abs(s.offset - 2**32) <= 2,
    "size to the end": lambda s: s.offset < s.allocation_size and s.size == s.allocation_size - s.offset,
    "size past the end": lambda s: s.size != abi.VK_WHOLE_SIZE and s.allocation_size < s.offset + s.size < 2**64,
    "an aligned placed address": lambda s: ("placed", "aligned") in s.chain,
    "a misaligned placed address": lambda s: ("placed", "misaligned") in s.chain,
    "a NULL placed address": lambda s: ("placed", "null") in s.chain,
    "a repeated structure": lambda s: len(set(s.chain)) < len(s.chain),
    "an unknown structure": lambda s: ("other", 1000999000) in s.chain,
    "a wrong sType": lambda s: s.stype is not None,
    "a NULL info": lambda s: not s.info,
    "a NULL ppData": lambda s: not s.pp_data,
}


def test_scenarios_reach_every_dimension_and_only_entry_points_the_device_has():
    """1,500 drawn scenarios reach each dimension the fuzz promises (every entry point, memory state, flag, range
    edge, chain and NULL pointer), and none asks for an entry point its device lacks (vkMapMemory2KHR needs
    VK_KHR_map_memory2, vkMapMemory2 Vulkan 1.4)."""
    seen, drawn = set(), []

    @settings(max_examples=1500, database=None, phases=[Phase.generate], suppress_health_check=list(HealthCheck))
    @given(s=scenarios(INVENTORY))
    def draw(s):
        drawn.append(s)
        seen.update(name for name, holds in DIMENSIONS.items() if holds(s))

    draw()
    assert set(DIMENSIONS) - seen == set()
    configs = {c.name: c for c in CONFIGS}
    assert [s for s in drawn if s.entry not in configs[s.config].entries] == []
    assert CONFIGS[0].entries == ("vkMapMemory2KHR", "vkMapMemory", "vkUnmapMemory2KHR", "vkUnmapMemory")
    assert CONFIGS[1].entries == ("vkMapMemory2", "vkMapMemory", "vkUnmapMemory2", "vkUnmapMemory")


def _wrong_validator(s):
    """A layer double and a validator with two deliberate mistakes: it lets an unmap of unmapped memory through
    (the layer names 00689), and names 09568 beside 00679 for a legacy map with any flag (the layer does not)."""
    if s.entry == "vkUnmapMemory" and s.memory == "unmapped":
        return LegacyUnmapCall(0xA0, 0x100), layer.judge(
            LegacyUnmapCall(0xA0, 0x100), set(), {"VUID-vkUnmapMemory-memory-00689"}
        )
    if s.entry == "vkMapMemory" and s.flags:
        call = LegacyMapCall(0xA0, 0x100, s.offset)
        ours = {"VUID-vkMapMemory-offset-00679", "VUID-vkMapMemory-flags-09568"}
        return call, layer.judge(call, ours, {"VUID-vkMapMemory-offset-00679"})
    return None, layer.judge(None, set(), set())


def test_a_wrong_validator_answer_is_a_disagreement_shrunk_and_grouped():
    """Each mistake is its own group, hypothesis shrinks each to its smallest scenario, and the fuzz fails."""
    tally = Tally("1.4.309", "a double")
    failure = fuzz(INVENTORY, 600, tally, _wrong_validator)
    assert failure is not None
    groups = {(g.layer_only, g.validator_only): g for g in tally.groups.values()}
    assert set(groups) == {(("VUID-vkUnmapMemory-memory-00689",), ()), ((), ("VUID-vkMapMemory-flags-09568",))}
    unmap = groups[(("VUID-vkUnmapMemory-memory-00689",), ())]
    assert "vkUnmapMemory on" in unmap.smallest and "1 bytes" in unmap.smallest, unmap.smallest
    assert tally.disagreeing >= 2 and tally.summary()["groups"]


def test_agreement_everywhere_passes():
    """A validator the layer agrees with: every scenario counted, no group, nothing raised."""
    tally = Tally("1.4.363", "a double")
    assert fuzz(INVENTORY, 200, tally, lambda s: (None, layer.judge(None, set(), set()))) is None
    assert tally.scenarios >= 200 and tally.agreeing == tally.scenarios and not tally.groups


@pytest.mark.parametrize("alignment, fails", [(0, "is 0"), (131072, "above the required maximum"), (4096, None)])
def test_a_placed_alignment_the_specification_forbids_is_the_drivers_failure(alignment, fails):
    """minPlacedMemoryMapAlignment 0 (the mock ICD's) or above 65536 with memoryMapPlaced: a failure naming the limit;
    without the feature, whatever the value, nothing to judge."""
    failure = placed_alignment_failure(PlacedMapSupport(True, True, True, alignment))
    assert (failure is None) if fails is None else failure.rule == RULE and fails in failure.observed
    assert placed_alignment_failure(PlacedMapSupport(False, False, False, alignment)) is None
