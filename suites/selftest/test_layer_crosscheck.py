"""Self-tests of the validation-layer cross-check (fixtures/crosscheck/layer.py): a difference fails unless
it is explained, and every rule the layer knows for the calls under test is accounted for."""

import pytest

from vkmap_cts.fixtures.crosscheck import layer
from vkmap_cts.fixtures.rules import catalogue
from vkmap_cts.fixtures.vk.arguments import MapCall, MapInfo, UnmapCall, UnmapInfo
from vkmap_cts.fixtures.vk.recording import Recording


class _Driver:
    """Just enough of a driver for compare(): the object state with one device, without placed maps."""

    class objects:
        devices = {0xA0: object()}
        memories: dict = {}

    class state:
        placed = None

    def __init__(self):
        self.recording = Recording()  # where compare() logs the comparison, in the test's recording
        self.recording.layer = layer.Active(type("Instance", (), {"messages": []})())


def _compare(monkeypatch, validator, theirs, call=None, driver=None):
    monkeypatch.setattr(layer, "layer_vuids", lambda instance, driver, c: set(theirs))
    driver = driver or _Driver()
    layer.compare(call or MapCall("vkMapMemory2KHR", 0xA0, MapInfo(0x100, offset=4096)), set(validator), driver)
    return driver.recording.test.layer_log[-1]


def test_agreement_through_the_aliases_passes(monkeypatch):
    """The validator's rule and the layer's, the same rule in either spelling: agreement."""
    entry = _compare(monkeypatch, {"VUID-VkMemoryMapInfo-offset-07959"}, {"VUID-VkMemoryMapInfoKHR-offset-07959"})
    assert entry["agree"] and entry["layer"] == ["VUID-VkMemoryMapInfo-offset-07959"]


@pytest.mark.parametrize(
    "validator, theirs",
    [
        ({"VUID-VkMemoryMapInfo-offset-07959"}, set()),
        ({"VUID-VkMemoryMapInfo-offset-07959"}, {"VUID-VkMemoryMapInfo-size-07960"}),
    ],
)
def test_an_unexplained_difference_fails(monkeypatch, validator, theirs):
    """A rule one side names and the other does not, unexplained: the check fails, naming it first."""
    driver = _Driver()
    with pytest.raises(
        AssertionError, match=r"^VUID-VkMemoryMapInfo-(offset-07959|size-07960): VK_LAYER_KHRONOS_validation reports"
    ):
        _compare(monkeypatch, validator, theirs, driver=driver)
    assert not driver.recording.test.layer_log[-1]["agree"]


def test_an_explained_difference_passes_only_where_its_condition_holds(monkeypatch):
    """The layer's 64-bit wrap of offset + size explains a missed 07961 only for a call whose sum wraps."""
    wraps = MapCall("vkMapMemory2", 0xA0, MapInfo(0x100, offset=2, size=2**64 - 2))
    entry = _compare(monkeypatch, {"VUID-VkMemoryMapInfo-size-07961"}, set(), wraps)
    assert entry["agree"] and entry["explained"][0]["vuid"] == "VUID-VkMemoryMapInfo-size-07961"
    with pytest.raises(AssertionError):
        _compare(
            monkeypatch,
            {"VUID-VkMemoryMapInfo-size-07961"},
            set(),
            MapCall("vkMapMemory2", 0xA0, MapInfo(0x100, offset=2, size=8)),
        )


def test_every_known_difference_says_why_and_quotes_its_sentence():
    """Each entry of layer_differences.json names a VUID, a reason and the sentence that decides it."""
    for d in layer.known_differences():
        assert (d.get("layer") or d.get("validator")) and d["reason"] and d["sentence"], d
        assert not d.get("when") or d["when"] in layer.CONDITIONS


def test_every_vuid_the_layer_knows_is_accounted_for():
    """Every VUID of the calls under test in the installed layer is in the catalogue (either spelling) or explained."""
    reason = layer.layer_unusable_reason()
    if reason:
        pytest.skip(f"NotSupported: {reason}")
    path = layer.library()
    assert path is not None, "the layer is installed but its library was not found"
    explained = {d.get("layer") for d in layer.known_differences()}
    unknown = sorted(v for v in layer.known_vuids(path) if v not in catalogue.by_vuid() and v not in explained)
    assert not unknown, f"{path.name} knows rules the catalogue does not: {unknown}"


PLACED_MAP = MapCall("vkMapMemory2", 0xA0, MapInfo(0x100, flags=1, next=()))


@pytest.mark.parametrize(
    "validator, theirs",
    [
        (
            {"VUID-VkMemoryMapInfo-flags-parameter", "VUID-VkMemoryMapInfo-flags-09569"},
            {"VUID-VkMemoryMapInfo-flags-parameter"},
        ),
        (
            {"UNASSIGNED-VkMemoryMapInfo-memory-parent", "VUID-VkMemoryMapInfo-size-07960"},
            {"UNASSIGNED-VkMemoryMapInfo-memory-parent"},
        ),
        (
            {"VUID-VkMemoryMapInfo-sType-sType", "VUID-VkMemoryMapInfo-offset-07959"},
            {"VUID-VkMemoryMapInfoKHR-sType-sType"},
        ),
    ],
)
def test_a_skipping_layer_is_compared_with_the_first_stage_of_the_validators_rules(validator, theirs):
    """Parameters, then handles, then state: the layer names the first stage the call fails, and that agrees."""
    v = layer.judge(MapCall("vkMapMemory2", 0xA0, MapInfo(0x100)), validator, theirs)
    assert v.agree and v.expected == {catalogue.core_name(t) for t in theirs} and not v.explained


def test_the_stage_model_does_not_hide_a_difference_within_a_stage():
    """A rule of the first stage the layer does not name, or one it names from a later stage, is a disagreement."""
    call = MapCall("vkMapMemory2", 0xA0, MapInfo(0x100))
    v = layer.judge(
        call,
        {"VUID-VkMemoryMapInfo-flags-parameter", "VUID-VkMemoryMapInfo-pNext-pNext"},
        {"VUID-VkMemoryMapInfo-pNext-pNext"},
    )
    assert v.unexplained == {"VUID-VkMemoryMapInfo-flags-parameter"}
    v = layer.judge(
        call,
        {"VUID-VkMemoryMapInfo-flags-parameter"},
        {"VUID-VkMemoryMapInfo-flags-parameter", "VUID-VkMemoryMapInfo-size-07960"},
    )
    assert v.unexplained == {"VUID-VkMemoryMapInfo-size-07960"}


def test_a_null_memory_handle_is_a_parameter_error_and_a_dangling_one_a_handle_error():
    """memory-parameter is judged with the parameters for VK_NULL_HANDLE, with the handles otherwise."""
    assert (
        layer.stage_of("VUID-VkMemoryMapInfo-memory-parameter", MapCall("vkMapMemory2", 0xA0, MapInfo(0)))
        == "parameters"
    )
    assert (
        layer.stage_of("VUID-VkMemoryMapInfoKHR-memory-parameter", MapCall("vkMapMemory2KHR", 0xA0, MapInfo(7)))
        == "handles"
    )
    assert layer.stage_of("VUID-vkUnmapMemory-memory-00689", None) == "state"


def test_a_difference_of_an_older_layer_is_explained_only_for_that_layer():
    """1.4.309 misses 09579 on mapped memory (explained); 1.4.363 reports it, so there the miss would not be."""
    unmap = UnmapCall("vkUnmapMemory2", 0xA0, UnmapInfo(0x100, flags=1))
    rule = {"VUID-VkMemoryUnmapInfo-flags-09579"}
    old, new = layer.packed_version("1.4.309"), layer.packed_version("1.4.363")
    assert layer.judge(unmap, rule, set(), layer.Situation(old, mapped=True)).agree
    assert not layer.judge(unmap, rule, set(), layer.Situation(new, mapped=True)).agree
    assert not layer.judge(unmap, rule, set(), layer.Situation(old, mapped=False)).agree


def test_a_call_that_would_crash_an_older_layer_is_not_sent_to_it():
    """A placed map that reaches the core checks where minPlacedMemoryMapAlignment is 0: kept from layers before
    1.4.341 (SIGFPE), sent to later ones; never an unmap, nor a call that stops at its parameters."""
    old, new = layer.packed_version("1.4.309"), layer.packed_version("1.4.363")
    state_rule = {"VUID-VkMemoryMapInfo-flags-09574"}
    assert layer.not_sent(PLACED_MAP, state_rule, layer.Situation(old, placed_alignment=0))
    assert not layer.not_sent(PLACED_MAP, state_rule, layer.Situation(new, placed_alignment=0))
    assert not layer.not_sent(PLACED_MAP, state_rule, layer.Situation(old, placed_alignment=4096))
    assert not layer.not_sent(PLACED_MAP, {"VUID-VkMemoryMapInfo-flags-parameter"}, layer.Situation(old))
    reserve = UnmapCall("vkUnmapMemory2", 0xA0, UnmapInfo(0x100, flags=1))
    assert not layer.not_sent(reserve, set(), layer.Situation(old))
