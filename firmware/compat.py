# Every difference between MicroPython and CPython that the firmware meets, in one place.
# Never import hardware, sim/ or a CPython-only module here; fall back, do not scatter try/except.

# errno values differ between ports: always compare with the Storage contract's.
from hal.contracts import ENOENT, ENOSPC

try:
    from binascii import crc32
except ImportError:  # a port built without binascii.crc32: the same CRC-32 (IEEE 802.3) in Python

    def crc32(data, crc=0):
        crc ^= 0xFFFFFFFF
        for byte in data:
            crc ^= byte
            for _ in range(8):
                crc = (crc >> 1) ^ (0xEDB88320 & -(crc & 1))
        return crc ^ 0xFFFFFFFF


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
