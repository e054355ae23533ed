"""Self-tests of the validation-layer cross-check (fixtures/access/layer.py): a difference fails unless
it is explained, and every rule the layer knows for the calls under test is accounted for."""

import pytest

from vkmap_cts.fixtures.access import layer
from vkmap_cts.fixtures.rules import catalogue
from vkmap_cts.fixtures.vk.arguments import MapCall, MapInfo


class _Driver:
    """Just enough of a driver for compare(): the object state with one device, without placed maps."""

    class objects:
        devices = {0xA0: object()}
        memories: dict = {}

    class state:
        placed = None


def _compare(monkeypatch, validator, theirs, call=None):
    monkeypatch.setattr(layer, "layer_vuids", lambda instance, driver, c: set(theirs))
    monkeypatch.setattr(layer, "ACTIVE", type("Instance", (), {"messages": []})())
    layer.LOG.clear()
    layer.compare(call or MapCall("vkMapMemory2KHR", 0xA0, MapInfo(0x100, offset=4096)), set(validator), _Driver())
    return layer.LOG[-1]


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
    with pytest.raises(
        AssertionError, match=r"^VUID-VkMemoryMapInfo-(offset-07959|size-07960): VK_LAYER_KHRONOS_validation reports"
    ):
        _compare(monkeypatch, validator, theirs)
    assert not layer.LOG[-1]["agree"]


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
