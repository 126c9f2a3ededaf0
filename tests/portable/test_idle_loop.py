# The event loop on an idle screen allocates (almost) nothing: on MicroPython every byte a tick
# allocates stays until the next collection, and a collection on a full heap is a pause the keys
# feel. Measured exactly on MicroPython (gc.mem_alloc, nothing is freed within a call there); on
# CPython the probe sees only what stays reachable. bench/memory.py prints the figures.
import gc

from tests.portable.drive import boot, screen
from tests.portable.online_kit import Rig


def _allocated(fn):
    """Bytes allocated while fn() runs: gc.mem_alloc on MicroPython, tracemalloc on CPython."""
    mem_alloc = getattr(gc, "mem_alloc", None)
    if mem_alloc is not None:
        gc.collect()
        start = mem_alloc()
        fn()
        return mem_alloc() - start
    import tracemalloc

    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()


def _idle_terminal():
    board, term = boot()
    board.clock.advance(5)  # mid-minute: the next seconds stay in the same minute
    term.settle()
    term.step()
    return board, term


def test_an_idle_tick_allocates_nothing():
    board, term = _idle_terminal()

    def ticks():
        for _ in range(200):
            term.step()

    assert _allocated(ticks) == 0


def _check_idle_seconds(used):
    """Ten idle seconds. Exact on MicroPython: only the wall clock's reading, Unix seconds, a long
    int there (over 2**30: 32 bytes), which the idle screen reads each second so that a clock set
    from outside shows at once. On CPython tracemalloc sees only what stays reachable, where the
    ticks the clock and the loop keep are new int objects (64 bytes): a leak would show."""
    if getattr(gc, "mem_alloc", None) is not None:
        assert used <= 10 * 32, "10 idle seconds allocated {} bytes".format(used)
    else:
        assert used <= 128, "10 idle seconds kept {} bytes".format(used)


def _seconds(board, term, n):
    """n idle seconds of the loop, the clock moving a second before each step."""

    def seconds():
        for _ in range(n):
            board.clock.sleep_ms(1000)
            term.step()

    return seconds


def test_an_idle_second_allocates_only_the_clock_reading():
    board, term = _idle_terminal()  # 08:00:05: ten more seconds stay in the minute
    # 152 bytes a second on MicroPython before the status was read into a kept list (a tuple, the
    # link's bound method, the card reader's dead-modes list, long-int arithmetic on the seconds).
    _check_idle_seconds(_allocated(_seconds(board, term, 10)))
    assert "08:00" in screen(board)


def test_an_online_idle_second_allocates_only_the_clock_reading():
    # With a security module the idle screen shows the sign-in state too: the key set it asks for
    # is a new dict, asked once a minute, not each second.
    rig = Rig()
    term = rig.term
    rig.clock.advance(5)
    term.settle()
    term.step()
    assert "Not signed in" in "\n".join(term.display.lines())

    _check_idle_seconds(_allocated(_seconds(rig, term, 10)))


def test_the_cached_time_still_follows_the_clock_and_the_time_zone():
    board, term = _idle_terminal()
    assert "2026-11-23 08:00" in screen(board)
    board.clock.advance(55)  # into the next minute
    term.settle()
    assert "2026-11-23 08:01" in screen(board)
    term.params.tz_minutes = 0  # same minute, another zone: formatted again
    board.clock.advance(1)
    term.settle()
    assert "2026-11-23 00:01" in screen(board)
