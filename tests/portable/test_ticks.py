# Tick arithmetic (hal.contracts.ticks_diff, ticks_add): right across the wrap in both directions,
# and allocation-free on 32-bit MicroPython, where 2**30 is not a small int. Portable.
from hal.contracts import TICKS_PERIOD, ticks_add, ticks_diff
from tests.portable.heap import mem_alloc

_TOP = TICKS_PERIOD - 1  # the last tick value before the wrap
_HALF = TICKS_PERIOD // 2
# Old tick values at both ends of the range and in the middle; deltas up to 2 s either way.
_OLDS = (0, 1, 2, 999, _HALF - 1, _HALF, _TOP - 999, _TOP - 1, _TOP)
_DELTAS = tuple(range(-2000, 2001, 7)) + (-1, 0, 1, _HALF - 1, -_HALF)


def test_ticks_diff_across_the_wrap_both_directions():
    for old in _OLDS:
        for delta in _DELTAS:
            new = (old + delta) % TICKS_PERIOD
            assert ticks_diff(new, old) == delta, (new, old, delta)
            if delta != -_HALF:  # -HALF is its own opposite: the result range is [-HALF, HALF)
                assert ticks_diff(old, new) == -delta, (old, new, delta)
    assert ticks_diff(0, _TOP) == 1 and ticks_diff(_TOP, 0) == -1
    assert ticks_diff(5, _TOP - 4) == 10 and ticks_diff(_TOP - 4, 5) == -10
    assert ticks_diff(_HALF, 0) == -_HALF and ticks_diff(0, _HALF) == -_HALF
    assert ticks_diff(_HALF - 1, 0) == _HALF - 1 and ticks_diff(0, _HALF + 1) == _HALF - 1


def test_ticks_add_across_the_wrap_both_directions():
    for old in _OLDS:
        for delta in _DELTAS:
            assert ticks_add(old, delta) == (old + delta) % TICKS_PERIOD, (old, delta)
    assert ticks_add(_TOP, 1) == 0 and ticks_add(0, -1) == _TOP
    assert ticks_add(_TOP - 2, 5) == 2 and ticks_add(2, -5) == _TOP - 2
    # Whole periods, however large, change nothing (the VirtualClock adds its elapsed ms to 0).
    assert ticks_add(123, TICKS_PERIOD) == 123 and ticks_add(123, -3 * TICKS_PERIOD) == 123
    assert ticks_add(0, 5 * TICKS_PERIOD + 7) == 7


def _allocated(fn, a, b):
    """Heap bytes allocated by 1000 calls fn(a, b), without collecting in between. A while loop
    over a small int allocates nothing itself (a range() would); the WebAssembly port frees
    nothing while a script runs, so the difference is exactly what the calls allocated."""
    fn(a, b)
    before = mem_alloc()
    i = 0
    while i < 1000:
        fn(a, b)
        i += 1
    return mem_alloc() - before


def test_tick_arithmetic_allocates_nothing_on_micropython():
    if mem_alloc() is None:
        return  # CPython: every int above 256 is an object anyway; the MicroPython tier runs this
    cases = (
        ("diff", ticks_diff, 5, 3),
        ("diff over the wrap", ticks_diff, 5, _TOP - 4),
        ("diff back over the wrap", ticks_diff, _TOP - 4, 5),
        ("diff half", ticks_diff, _HALF, 0),
        ("add", ticks_add, 5, 3),
        ("add over the wrap", ticks_add, _TOP, 3),
        ("add back over the wrap", ticks_add, 0, -1),
        ("add near the top", ticks_add, _TOP - 1, -_HALF),
    )
    grown = []
    for name, fn, a, b in cases:
        n = _allocated(fn, a, b)
        if n:
            grown.append("{}: {} bytes".format(name, n))
    assert grown == [], grown
