# Every difference between MicroPython and CPython that the firmware meets, in one place.
# Never import hardware, sim/ or a CPython-only module here; fall back, do not scatter try/except.

# errno values differ between ports: always compare with the Storage contract's.
from hal.contracts import ENOENT

try:
    from micropython import const
except ImportError:  # CPython

    def const(value):
        return value


def is_missing(exc):
    """True if an OSError means 'no such file'."""
    return isinstance(exc, OSError) and exc.args and exc.args[0] == ENOENT


def format_exception(exc):
    """One line naming an exception, for a log or a fault slip (never a traceback on screen)."""
    return "{}: {}".format(type(exc).__name__, exc)
