# The QR encoder's costs on whichever runtime runs it (firmware/qr.py), and the key screen's drawing
# (firmware/ui/keyqr.py scaled()): for each case, the version and mask, the best of 5 encodes, the
# bytes one encode allocates (MicroPython: this port frees nothing while a script runs, so the rise
# of gc.mem_alloc() is every byte allocated, garbage included: the churn, not the peak) and the
# bytes the symbol keeps; the heap the modules hold once imported. Prints, ends with a RESULT line;
# never asserts.
#
# MicroPython: node tests/upy/run.mjs bench/upy_qr.py   (bench/qr.py runs it, and CPython's half)
import gc
import sys

from bench.upy_timing import ticks_diff, ticks_us

_MEM_ALLOC = getattr(gc, "mem_alloc", None)  # MicroPython only
_RUNS = 5

# A terminal's public key as the about screen's QR code holds it (130 hex digits: alphanumeric).
KEY_TEXT = (
    "0460FED4BA255A9D31C961EB74C6356D68C049B8923B61FA6CE669622E60F29FB67903FE1008B8BC99A41AE9E95628BC6"
    "4F2F1B20C2D7E9F5177A3C294D4462299"
)
# (name, data, level): what is encoded, in the printed order.
CASES = (
    ("key (130 alphanumeric, M)", KEY_TEXT, 1),
    (
        "PEM of the key (178 bytes, M)",
        b"-----BEGIN PUBLIC KEY-----\n"
        + b"A" * 64
        + b"\n"
        + b"B" * 60
        + b"\n"
        + b"-----END PUBLIC KEY-----\n",
        1,
    ),
    ("20 digits (numeric, M)", "12345678901234567890", 1),
    ("213 bytes (version 10, M)", b"x" * 213, 1),
    ("213 bytes at L", b"x" * 213, 0),
)


def _best_us(call):
    best = None
    for _ in range(_RUNS):
        t0 = ticks_us()
        call()
        us = ticks_diff(ticks_us(), t0)
        best = us if best is None or us < best else best
    return best


def _allocated(call):
    if _MEM_ALLOC is None:
        return None
    gc.collect()
    before = _MEM_ALLOC()
    call()
    return _MEM_ALLOC() - before


def run(result=True):
    import firmware.compat  # noqa: F401 - a terminal holds these from its boot: not charged to the QR
    import firmware.ui.widgets  # noqa: F401

    gc.collect()
    before = _MEM_ALLOC() if _MEM_ALLOC is not None else None
    from firmware import qr
    from firmware.ui import keyqr

    held = None if before is None else _MEM_ALLOC() - before
    print("{} {}".format(sys.implementation.name, ".".join(str(n) for n in sys.implementation.version[:3])))
    if held is not None:
        print("import firmware.qr and firmware.ui.keyqr: +{} bytes of heap".format(held))
    print("{:<32}{:>8}{:>6}{:>10}{:>12}{:>8}".format("case", "version", "mask", "µs", "alloc B", "keeps"))
    figures = {"held": held}
    for i in range(len(CASES)):
        name, data, level = CASES[i]
        symbol = qr.encode(data, level)
        us = _best_us(lambda data=data, level=level: qr.encode(data, level))
        alloc = _allocated(lambda data=data, level=level: qr.encode(data, level))
        print(
            "{:<32}{:>8}{:>6}{:>10}{:>12}{:>8}".format(
                name, symbol.version, symbol.mask, us, str(alloc), len(symbol.bits)
            )
        )
        figures["c{}_us".format(i)] = us
        figures["c{}_alloc".format(i)] = alloc
        figures["c{}_version".format(i)] = symbol.version
        figures["c{}_mask".format(i)] = symbol.mask
    symbol = qr.encode(KEY_TEXT, qr.M)
    box = keyqr.qr_box(symbol, (240, 320), 10)
    us = _best_us(lambda: keyqr.scaled(symbol, box[2]))
    alloc = _allocated(lambda: keyqr.scaled(symbol, box[2]))
    print(
        "scaled() the key at {} pixels a module (one blit): {} µs, allocates {} bytes".format(
            box[2], us, alloc
        )
    )
    figures["draw_us"] = us
    figures["draw_alloc"] = alloc
    if result:
        print("RESULT " + " ".join("{}={}".format(k, figures[k]) for k in sorted(figures)))
    return figures


if __name__ == "__main__":
    run()
