"""Self-tests of the reference model of defined bytes and flushed atoms (fixtures/judge/coherence.py): fed the
observations of a correct driver it passes; fed a wrong byte where the specification defines one, it fails."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vkmap_cts.fixtures.judge.coherence import ReferenceMemory, atom_ranges, resolved
from vkmap_cts.fixtures.vk.abi import VK_WHOLE_SIZE

RULE = "GUARANTEE-host-view-model"
ATOM = 64


def _model(coherent: bool, size: int = 4 * ATOM) -> ReferenceMemory:
    m = ReferenceMemory(size, ATOM, coherent)
    m.write(0, bytes(i % 251 + 1 for i in range(size)))
    return m


@pytest.mark.parametrize("coherent", [True, False])
def test_bytes_written_read_back_and_a_wrong_one_fails(coherent):
    """Written bytes are defined: reading them back passes, one changed byte fails naming the rule."""
    m = _model(coherent)
    good = bytes(m.bytes)
    m.read(RULE, 0, good, "correct")
    bad = bytearray(good)
    bad[70] ^= 0xFF
    with pytest.raises(AssertionError, match=f"{RULE}: wrong: 1 of 256 defined bytes differ, first at \\+70"):
        m.read(RULE, 0, bytes(bad), "wrong")


def test_invalidate_without_flush_leaves_non_coherent_bytes_undefined():
    """ "written by the host and then invalidated without first being flushed, its contents are undefined": any bytes
    pass there, while a flushed atom stays defined."""
    m = _model(coherent=False)
    expected = bytes(m.bytes)
    m.flush(0, ATOM)
    m.invalidate(0, 4 * ATOM)
    assert m.undefined(0, 4 * ATOM) == 3 * ATOM
    seen = expected[:ATOM] + b"\x00" * (3 * ATOM)
    m.read(RULE, 0, seen, "stale after invalidate")
    wrong = b"\x00" + expected[1:ATOM] + b"\x00" * (3 * ATOM)
    with pytest.raises(AssertionError, match=RULE):
        m.read(RULE, 0, wrong, "a flushed byte lost")


def test_coherent_memory_keeps_every_byte_through_invalidate_and_unmap():
    """HOST_COHERENT: flushes and invalidates change nothing, and an unmap keeps what was written."""
    m = _model(coherent=True)
    expected = bytes(m.bytes)
    m.invalidate(0, 4 * ATOM)
    m.unmap()
    assert m.undefined(0, 4 * ATOM) == 0
    with pytest.raises(AssertionError, match=RULE):
        m.read(RULE, 0, b"\x00" + expected[1:], "lost at unmap")


def test_unmap_makes_unflushed_non_coherent_atoms_undefined():
    """ "Unmapping non-coherent memory does not implicitly flush": after an unmap only flushed atoms are defined."""
    m = _model(coherent=False)
    m.flush(ATOM, 2 * ATOM)
    m.unmap()
    assert [m.undefined(a * ATOM, ATOM) for a in range(4)] == [ATOM, 0, 0, ATOM]


def test_an_undefined_byte_once_read_must_read_the_same():
    """As CTS's reference memory: the first read of an undefined byte sets it; a second, different read fails."""
    m = ReferenceMemory(ATOM, ATOM, coherent=False)
    m.read(RULE, 0, b"\x11" * ATOM, "first")
    with pytest.raises(AssertionError, match=RULE):
        m.read(RULE, 0, b"\x22" * ATOM, "second")


@given(data=st.data(), atom_log=st.integers(0, 8), whole=st.booleans())
def test_atom_ranges_keep_the_mapped_memory_range_rules(data, atom_log, whole):
    """Every range built keeps VkMappedMemoryRange's rules (offset-00687, size-01390, size-00685, size-00686) and covers
    the wanted range within the mapping."""
    atom = 1 << atom_log
    allocation = data.draw(st.integers(1, 1 << 16), label="allocation")
    lo = data.draw(st.integers(0, (allocation - 1) // atom), label="first atom") * atom
    hi = data.draw(
        st.sampled_from(
            [allocation, min(allocation, -(-(lo + 1) // atom) * atom + data.draw(st.integers(0, 8)) * atom)]
        ),
        label="end",
    )
    hi = allocation if hi % atom and hi != allocation else hi
    wanted = [
        (o, data.draw(st.integers(1, hi - o)))
        for o in data.draw(st.lists(st.integers(lo, hi - 1), min_size=1, max_size=3), label="offsets")
    ]
    ranges = atom_ranges(wanted, atom, lo, hi - lo, allocation, whole)
    for (o, s), (want_o, want_s) in zip(resolved(ranges, lo, hi - lo), wanted, strict=True):
        assert o % atom == 0 and lo <= o < hi
        assert o + s <= hi and (s % atom == 0 or o + s == allocation)
        assert o <= want_o and min(want_o + want_s, hi) <= o + s
    assert all(s == VK_WHOLE_SIZE or o + s <= hi for o, s in ranges)


def test_atom_ranges_refuse_a_mapping_off_the_atoms():
    """A mapping that starts inside an atom has no valid range: a ValueError, never an invalid call."""
    with pytest.raises(ValueError, match="does not start and end"):
        atom_ranges([(17, 31)], ATOM, 17, 31, 4096, True)


def test_device_writes_are_visible_on_coherent_memory_at_once():
    """HOST_COHERENT: a device write is what the host reads next, with no invalidate; a stale byte fails."""
    m = _model(coherent=True)
    m.device_write(ATOM, b"\xee" * ATOM)
    stale = bytes(m.bytes[:ATOM]) + bytes(i % 251 + 1 for i in range(ATOM, 2 * ATOM))
    with pytest.raises(AssertionError, match=f"{RULE}: stale: {ATOM} of {2 * ATOM} defined bytes differ"):
        m.read(RULE, 0, stale, "stale")
    m.read(RULE, ATOM, b"\xee" * ATOM, "the device's bytes")


def test_device_writes_on_non_coherent_memory_need_an_invalidate():
    """Without HOST_COHERENT, a device write is undefined to the host until an invalidate of its atoms ("device writes
    to the memory ranges described by pMemoryRanges ... are made visible to the host"), then defined: an invalidate that
    moved nothing (the host's old bytes read back) fails; an atom with an unflushed host write stays undefined."""
    m = _model(coherent=False)
    m.flush(0, 4 * ATOM)
    old = bytes(m.bytes)
    m.device_write(0, b"\x5e" * (2 * ATOM))
    m.read(RULE, 0, old, "before the invalidate: either bytes")  # undefined: the old bytes pass
    m.device_write(0, b"\x5e" * (2 * ATOM))
    m.write(ATOM, b"\x01")  # an unflushed host write in the second atom
    m.invalidate(0, 4 * ATOM)
    assert m.undefined(0, 4 * ATOM) == ATOM
    with pytest.raises(AssertionError, match=f"{RULE}: lost: {ATOM} of {4 * ATOM} defined bytes differ, first at \\+0"):
        m.read(RULE, 0, old, "lost")
    m.read(RULE, 0, b"\x5e" * ATOM + old[ATOM:], "moved")


def test_a_flush_after_a_device_write_leaves_that_atom_undefined():
    """A flush writes the host's view of whole atoms ("each whole aligned set of nonCoherentAtomSize bytes ... will also
    be made available as if they were written by the host"): a device write not yet invalidated in a flushed atom is
    lost to it.
    """
    m = _model(coherent=False)
    m.flush(0, 4 * ATOM)
    m.device_write(0, b"\x5e" * ATOM)
    m.write(0, b"\x01")
    m.flush(0, ATOM)
    m.invalidate(0, ATOM)
    assert m.undefined(1, ATOM - 1) == ATOM - 1
