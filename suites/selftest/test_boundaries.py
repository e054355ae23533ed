"""Self-tests of the boundary tables (fixtures/judge/boundaries.py) on synthetic object state: every
value a drawn row of the validation suites draws breaks its rule alone, as the reference validator
judges it; a drawn row that can draw a valid value is caught."""

import importlib

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from vkmap_cts.fixtures.judge.boundaries import beyond
from vkmap_cts.fixtures.rules.validity import check
from vkmap_cts.fixtures.vk import abi
from vkmap_cts.fixtures.vk.arguments import LegacyMapCall, LegacyUnmapCall, MapCall, MapInfo, UnmapCall, UnmapInfo
from vkmap_cts.suites.selftest.test_validity import SIZE, make_world


def _suite(name: str):
    return importlib.import_module(f"vkmap_cts.suites.validation.{name}")


# Calls on the synthetic world's device A: memory 0x100 (not mapped), 0x101 (mapped); each takes what its entry point's
# factory takes.
def _map2(offset=0, size=abi.VK_WHOLE_SIZE, flags=0, next=(), entry="vkMapMemory2KHR"):
    return MapCall(entry, 0xA0, MapInfo(0x100, offset, size, flags, tuple(next)))


def _unmap2(flags=0, next=(), entry="vkUnmapMemory2KHR"):
    return UnmapCall(entry, 0xA0, UnmapInfo(0x101, flags, tuple(next)))


def _map(offset=0, size=abi.VK_WHOLE_SIZE, flags=0):
    return LegacyMapCall(0xA0, 0x100, offset, size, flags)


def _unmap():
    return LegacyUnmapCall(0xA0, 0x101)


TABLES = [
    ("test_VkMemoryMapInfo", "DRAWN", _map2),
    ("test_VkMemoryUnmapInfo", "DRAWN", _unmap2),
    ("test_vkMapMemory", "MAP_DRAWN", _map),
    ("test_vkMapMemory", "UNMAP_DRAWN", _unmap),
    ("test_vkMapMemory2", "ROWS", _map2),
]
DRAWN = [(row, factory) for module, table, factory in TABLES for row in getattr(_suite(module), table) if row.draws]


def assert_breaks_alone(row, factory, data, world) -> None:
    """The call ``row`` draws, on memory of SIZE bytes, breaks exactly its rule."""
    call = row.call(factory, SIZE, **row.draw(data, SIZE))
    handles = {getattr(call, "device", None), getattr(getattr(call, "info", call), "memory", None)}
    assume(
        not handles & (set(world.devices) | set(world.memories)) - {0xA0, 0x100, 0x101}
    )  # a handle of another synthetic object
    assume(call.device == 0xA0 or call.device not in world.devices)
    found = {v.vuid for v in check(call, world)}
    assert found == {row.rule}, f"{row.id}: the validator names {sorted(found)} for {call}"


def test_every_table_has_drawn_rows():
    """Each table listed has drawn rows: a renamed table would leave this self-test checking nothing."""
    assert {(m, t) for m, t, _ in TABLES} == {
        (m, t) for m, t, f in TABLES if any(r.draws for r in getattr(_suite(m), t))
    }


@pytest.mark.parametrize("row, factory", [pytest.param(r, f, id=f"{f.__name__}:{r.id}") for r, f in DRAWN])
@settings(suppress_health_check=[HealthCheck.filter_too_much])
@given(data=st.data())
def test_every_drawn_value_breaks_its_rule_alone(row, factory, data):
    """A drawn row of the validation suites draws only calls that break its rule and no other."""
    assert_breaks_alone(row, factory, data, make_world())


def test_a_drawn_row_that_draws_a_valid_value_is_caught():
    """Self-test of the check: a row that draws offsets inside the memory fails it."""
    bad = beyond("VUID-VkMemoryMapInfo-offset-07959", "offset inside the memory", offset=st.integers(0, SIZE - 1))
    world = make_world()
    with pytest.raises(AssertionError, match="offset inside the memory"):
        settings(database=None, max_examples=20)(
            given(data=st.data())(lambda data: assert_breaks_alone(bad, _map2, data, world))
        )()


def test_draws_follow_the_row_order():
    """A later argument's strategy sees the values drawn before it (size past the end of the drawn offset)."""
    row = _suite("test_VkMemoryMapInfo").DRAWN[-1]
    assert list(row.draws) == ["offset", "size"]

    @settings(database=None, max_examples=30)
    @given(data=st.data())
    def inner(data):
        got = row.draw(data, SIZE)
        assert got["size"] > SIZE - got["offset"]

    inner()
