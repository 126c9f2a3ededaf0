# Heap measurement for the portable tests that check a hot path allocates nothing. Not a test module.
import gc

_MEM_ALLOC = getattr(gc, "mem_alloc", None)  # MicroPython only


def mem_alloc():
    """Heap bytes in use on MicroPython; None on CPython."""
    return _MEM_ALLOC() if _MEM_ALLOC else None


def heap_probe():
    """(start, stop): stop() returns bytes allocated since start(): gc.mem_alloc on MicroPython
    (whose WebAssembly collector frees nothing inside a test), tracemalloc's figure for what
    firmware/ and hal/ code still holds on CPython (there it only catches leaks: every int above
    256 is an object anyway)."""
    if _MEM_ALLOC is not None:
        base = [0]

        def start():
            gc.collect()
            base[0] = _MEM_ALLOC()

        def stop():
            return _MEM_ALLOC() - base[0]

        return start, stop
    import tracemalloc

    def start_cpython():
        tracemalloc.start()

    def stop_cpython():
        # Only what firmware/ and hal/ code allocated and still holds: pytest-xdist's worker has a
        # thread of its own, whose allocations would be counted too (a test failed by 1.4 KB).
        snapshot = tracemalloc.take_snapshot()
        tracemalloc.stop()
        ours = (tracemalloc.Filter(True, "*/firmware/*"), tracemalloc.Filter(True, "*/hal/*"))
        return sum(stat.size for stat in snapshot.filter_traces(ours).statistics("filename"))

    return start_cpython, stop_cpython
