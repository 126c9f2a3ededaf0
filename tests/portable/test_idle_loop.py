# The event loop on an idle screen allocates (almost) nothing: on MicroPython every byte a tick
# allocates stays until the next collection, and a collection on a full heap is a pause the keys
# feel. Measured exactly on MicroPython (gc.mem_alloc, nothing is freed within a call there); on
# CPython the probe sees only what stays reachable. bench/memory.py prints the figures.
import gc

from tests.portable.drive import boot, screen


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


def test_an_idle_second_does_not_format_the_time_again():
    board, term = _idle_terminal()

    def seconds():
        for _ in range(10):
            board.clock.sleep_ms(1000)
            term.step()

    # 672 bytes a second when the date and time were formatted every second; the status tuple,
    # the link's bound method and the card reader's dead modes remain (160 bytes on MicroPython 1.27).
    used = _allocated(seconds)
    assert used < 10 * 256, "10 idle seconds allocated {} bytes".format(used)


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
