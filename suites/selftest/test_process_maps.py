"""Self-tests of the /proc/self/maps oracle: a reserved range is seen, a released one is not."""

from vkmap_cts.fixtures.vk.address_space import _reserve, release, reserved
from vkmap_cts.fixtures.vk.process_maps import fully_mapped, parse, unmapped

TEXT = """7f0000000000-7f0000002000 ---p 00000000 00:00 0
7f0000002000-7f0000003000 rw-p 00000000 00:00 0 [heap]
"""


def test_parse_and_coverage_of_synthetic_maps():
    maps = parse(TEXT)
    assert maps == [(0x7F0000000000, 0x7F0000002000, "---p"), (0x7F0000002000, 0x7F0000003000, "rw-p")]
    assert fully_mapped(0x7F0000000000, 0x7F0000003000, maps)
    assert not fully_mapped(0x7F0000000000, 0x7F0000004000, maps)
    assert unmapped(0x7F0000003000, 0x7F0000004000, maps)
    assert not unmapped(0x7F0000002FFF, 0x7F0000004000, maps)


def test_live_reservation_is_seen_and_its_release_too():
    with reserved(3 * 4096, 1 << 16) as address:
        assert address % (1 << 16) == 0
        assert fully_mapped(address, address + 3 * 4096)
    assert unmapped(address, address + 3 * 4096)
    a = _reserve(4096, 4096)
    release(a, 4096)
    assert unmapped(a, a + 4096)


def test_mapped_oracle_rejects_an_unbacked_pointer():
    import pytest

    from vkmap_cts.fixtures.access.driver import MapResult
    from vkmap_cts.fixtures.judge.oracles import assert_mapped

    maps = [(0x7F0000000000, 0x7F0000002000, "rw-p")]
    assert_mapped(MapResult("vkMapMemory", 0, 0x7F0000000000, 0, 0x2000), maps)
    with pytest.raises(AssertionError, match="only 4096 of the 8192 bytes"):
        assert_mapped(MapResult("vkMapMemory", 0, 0x7F0000001000, 0, 0x2000), maps)
    with pytest.raises(AssertionError, match="only 0 of"):
        assert_mapped(MapResult("vkMapMemory", 0, 0x7F0000100000, 0, 64), maps)


def test_a_range_given_up_after_a_placed_map_is_never_unmapped_by_the_suite():
    """After a placed map and a plain unmap, the pages are no longer the suite's: whatever the system maps there since
    (here an anonymous mapping standing for the Python allocator's arena) survives the reservation's release."""
    import ctypes
    import mmap

    from vkmap_cts.fixtures.vk.process_maps import readable
    from vkmap_cts.fixtures.vk.recording import PROCESS

    page = mmap.PAGESIZE
    with reserved(3 * page, page) as address:
        middle = address + page
        PROCESS.objects.given_up.give_up(middle, page)  # a placed map was there, and was unmapped
        libc = ctypes.CDLL(None, use_errno=True)
        libc.mmap.restype = ctypes.c_void_p
        libc.mmap.argtypes = (ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_long)
        got = libc.mmap(
            middle, page, mmap.PROT_READ | mmap.PROT_WRITE, mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS | 0x10, -1, 0
        )  # MAP_FIXED
        assert got == middle
    assert readable(middle, middle + page), "the suite unmapped a page it had given up"
    assert unmapped(address, middle) and unmapped(middle + page, middle + 2 * page), (
        "the suite's own pages were not released"
    )
    libc.munmap(ctypes.c_void_p(middle), page)
