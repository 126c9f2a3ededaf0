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


def format_exception(exc):
    """One line naming an exception, for a log or a fault slip (never a traceback on screen)."""
    return "{}: {}".format(type(exc).__name__, exc)
