"""Self-tests of the helpers the guarantee checks rely on: the nonCoherentAtomSize rounding of
flushed and invalidated ranges (VUID-VkMappedMemoryRange-offset-00687, -size-01390)."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vkmap_cts.fixtures.rules.ranges import atom_range


@pytest.mark.parametrize(
    "offset, size, allocation, expected",
    [
        (0, 64, 4096, (0, 64)),  # already whole atoms
        (100, 10, 4096, (64, 128)),  # both ends rounded out
        (63, 2, 4096, (0, 128)),  # straddles an atom boundary
        (960, 40, 1000, (960, 1000)),  # the last atom is cut at the end of the allocation
        (0, 1000, 1000, (0, 1000)),  # the whole of an allocation that is not a whole number of atoms
    ],
)
def test_atom_range_rounds_out_to_atoms_or_the_end(offset, size, allocation, expected):
    assert atom_range(offset, size, 64, allocation) == expected


@given(atom_log=st.integers(0, 12), data=st.data())
def test_atom_range_covers_the_range_and_satisfies_the_rounding_rules(atom_log, data):
    atom = 1 << atom_log
    allocation = data.draw(st.integers(1, 1 << 16), label="allocation size")
    offset = data.draw(st.integers(0, allocation - 1), label="offset")
    size = data.draw(st.integers(1, allocation - offset), label="size")
    lo, hi = atom_range(offset, size, atom, allocation)
    assert lo <= offset and offset + size <= hi <= allocation, (
        "the rounded range must cover the range, inside the allocation"
    )
    assert lo % atom == 0, "offset-00687: a multiple of nonCoherentAtomSize"
    assert (hi - lo) % atom == 0 or hi == allocation, "size-01390: a multiple of nonCoherentAtomSize, or to the end"
    assert lo > offset - atom and (hi < offset + size + atom or hi == allocation), (
        "rounded out by less than one atom at each end"
    )


def test_flush_of_a_range_that_rounds_outside_the_mapping_is_refused(
    device, memory_pool, transfers, host_visible_types
):
    """A flush or invalidate whose atom-rounded range leaves the mapping would be invalid usage of the
    suite's own: it must stop as a SuiteBug before reaching the driver."""
    from vkmap_cts.fixtures.vk.errors import SuiteBug

    atom = device.physical.non_coherent_atom_size
    with memory_pool.lease(host_visible_types[0], 8 * atom) as mem:
        mem.map2(atom, 2 * atom)
        try:
            transfers.flush(mem, atom, 2 * atom)  # whole atoms inside the mapping: fine
            transfers.invalidate(mem, atom + 1, 1)
            for offset, size in ((atom - 1, 2), (2 * atom, atom + 1)):
                with pytest.raises(
                    SuiteBug, match="VUID-VkMappedMemoryRange-size-00685: the range is not inside the mapped"
                ):
                    transfers.flush(mem, offset, size)
        finally:
            mem.unmap2()
        with pytest.raises(
            SuiteBug, match="VUID-VkMappedMemoryRange-memory-00684: memory is not currently host mapped"
        ):
            transfers.invalidate(mem, 0, atom)


def test_every_rule_a_failure_carries_is_a_verdict_naming_it():
    """A RuleBroken of any rule (a guarantee, a VUID) is a verdict about the driver that carries that rule to the
    reports, with its observation."""
    from vkmap_cts.fixtures.plugins.verdicts import judge_exception
    from vkmap_cts.fixtures.rules.catalogue import entries
    from vkmap_cts.fixtures.rules.guarantees import GUARANTEES
    from vkmap_cts.fixtures.vk.errors import RuleBroken

    for rule in [*GUARANTEES, *(e["vuid"] for e in entries())]:
        found = judge_exception(RuleBroken(rule, "what was expected, what was observed"))
        assert (found["kind"], found.get("rule"), found.get("observed")) == (
            "driver",
            rule,
            "what was expected, what was observed",
        ), f"{rule}: its failure is judged {found}"
