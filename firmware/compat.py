# Every difference between MicroPython and CPython that the firmware meets, in one place.
# Never import hardware, sim/ or a CPython-only module here; fall back, do not scatter try/except.

# errno values differ between ports: always compare with the Storage contract's.
from hal.contracts import ENOENT, ENOSPC

# CRC-32 (binascii's, or the same in Python on a port without it) lives with the record codec.
from hal.record import crc32  # noqa: F401

try:
    from micropython import const
except ImportError:  # CPython

    def const(value):
        return value


def is_missing(exc):
    """True if an OSError means 'no such file'."""
    return isinstance(exc, OSError) and exc.args and exc.args[0] == ENOENT


def is_full(exc):
    """True if an OSError means 'no space left'."""
    return isinstance(exc, OSError) and exc.args and exc.args[0] == ENOSPC


def crash_site(exc):
    """One line naming an exception by its type and where it was raised: "Type module:line".
    Never its message (it might one day hold card data). CPython walks exc.__traceback__;
    MicroPython has none, so its printed traceback is parsed ("File ..., line N" lines only).
    A module compiled without line numbers (mpy-cross -O3) prints line 1 for every frame (make mpy
    uses -O0 for that reason: tools/mpy_gate.py); nothing known: "?:0"."""
    name = type(exc).__name__
    tb = getattr(exc, "__traceback__", None)
    if tb is not None:
        while tb.tb_next is not None:
            tb = tb.tb_next
        return "{} {}:{}".format(name, tb.tb_frame.f_globals.get("__name__", "?"), tb.tb_lineno)
    return "{} {}".format(name, _printed_site(exc))


def _printed_site(exc):
    import io
    import sys

    buf = io.StringIO()
    try:
        sys.print_exception(exc, buf)  # type: ignore[attr-defined]  # MicroPython only
    except Exception:  # noqa: BLE001 - a port without print_exception: the site is unknown
        return "?:0"
    return printed_site(buf.getvalue())


def printed_site(text):
    """ "module:line" of the last frame of a traceback as MicroPython prints it; "?:0" if none.
    Only the '  File "...", line N' lines after the header are read: the message comes after
    them and is never looked at (a message could itself look like a frame line)."""
    site = "?:0"
    for line in text.split("\n")[1:]:
        if not line.startswith('  File "'):
            break
        end = line.find('"', 8)
        at = line.find(", line ", end)
        if end < 0 or at < 0:
            break
        digits = ""
        for ch in line[at + 7 :]:
            if not "0" <= ch <= "9":
                break
            digits += ch
        site = "{}:{}".format(_module_of(line[8:end]), digits or "0")
    return site


def _module_of(path):
    """firmware/ui/idle.py -> firmware.ui.idle (as CPython's __name__ gives it)."""
    for ext in (".py", ".mpy"):
        if path.endswith(ext):
            path = path[: -len(ext)]
    while path.startswith("./"):
        path = path[2:]
    return path.replace("/", ".")
