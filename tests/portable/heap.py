# Heap measurement for the portable tests that check a hot path allocates nothing. Not a test module.
import gc

_MEM_ALLOC = getattr(gc, "mem_alloc", None)  # MicroPython only


def mem_alloc():
    """Heap bytes in use on MicroPython; None on CPython."""
    return _MEM_ALLOC() if _MEM_ALLOC else None


def heap_probe():
    """(start, stop): stop() returns bytes allocated since start(): gc.mem_alloc on MicroPython
    (whose WebAssembly collector frees nothing inside a test), tracemalloc's current figure on
    CPython (there it only catches leaks: every int above 256 is an object anyway)."""
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
        used = tracemalloc.get_traced_memory()[0]
        tracemalloc.stop()
        return used

    return start_cpython, stop_cpython
