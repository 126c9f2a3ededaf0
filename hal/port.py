# Devices every MicroPython port already has: its filesystem (VFS) as Storage and its time
# module (plus an optional machine.RTC) as Clock, its machine module as System. Never import
# `machine` here: the board passes it in.

import errno
import os
import sys
import time

from hal.contracts import (
    CAP_RTC_KEPT_TIME,
    ENOENT,
    ENOSPC,
    SYS_BOOT_COUNT,
    SYS_RESET,
    SYS_WATCHDOG,
    TICKS_PERIOD,
    Clock,
    HalError,
    Storage,
    System,
    check_name,
    check_offset,
)

try:
    _ticks_ms = time.ticks_ms
    _sleep_ms = time.sleep_ms
except AttributeError:  # CPython, for the conformance tests

    def _ticks_ms():
        return int(time.monotonic() * 1000) & (TICKS_PERIOD - 1)  # type: ignore[attr-defined]

    def _sleep_ms(ms):
        time.sleep(ms / 1000)


# The WebAssembly port's file system (Emscripten) raises the host's errno numbers (Emscripten's
# ERRNO_CODES, pinned by tests/host/test_upy_tier.py): "no such file" is 44 and "no space" 51,
# while its 2 (EACCES) and 28 (EINVAL) would read as the contract's ENOENT and ENOSPC. Every other
# port's file system (littlefs, FAT, a POSIX host) uses the POSIX numbers the contract uses.
_EMSCRIPTEN_ERRNO = {44: ENOENT, 51: ENOSPC, 2: errno.EACCES, 28: errno.EINVAL}


def port_error(exc, platform=sys.platform):
    """The OSError a port's file system raised, with the Storage contract's errno: "no space" is
    OSError(ENOSPC) and "no such file" OSError(ENOENT) whatever numbers the port uses, and no other
    error carries either number. `platform` is sys.platform (the WebAssembly port: "webassembly")."""
    number = exc.args[0] if exc.args else None
    if platform == "webassembly" and number in _EMSCRIPTEN_ERRNO:
        number = _EMSCRIPTEN_ERRNO[number]
    elif number != ENOSPC:
        return exc
    if number == ENOSPC:
        return OSError(ENOSPC, "storage full")
    return OSError(number, exc.args[1] if len(exc.args) > 1 else "")


# Seconds from 1970-01-01 to the port's epoch (2000-01-01 on most bare-metal ports).
_EPOCH_OFFSET = 946684800 if time.gmtime(0)[0] == 2000 else 0
# A battery-backed RTC reading earlier than this at power-on was never set: most restart at
# 2000-01-01, so it is not a time kept through the power-off (2020-01-01 00:00 UTC).
_RTC_SET_SINCE = 1577836800


class VfsStorage(Storage):
    """Files in one directory of the port's VFS (littlefs or FAT on a board). Each write closes
    its file; sync() asks the port to flush (os.sync where it exists)."""

    def __init__(self, root):
        self.root = root.rstrip("/")
        try:
            os.mkdir(self.root)
        except OSError:
            pass  # already there; a real failure shows on first use

    def _path(self, name):
        check_name(name)
        return self.root + "/" + name

    def _missing(self, name, exc):
        """The contract's OSError(ENOENT) if name does not exist, else exc as port_error() says: a
        port's VFS may report a missing file with the host's errno (44 under Emscripten). Only an
        error that does not say "no such file" looks in the folder, one entry at a time where the
        port can (os.ilistdir): a list of a batch's files is kilobytes of heap at once."""
        mapped = port_error(exc)
        if mapped.args and mapped.args[0] == ENOENT:
            return OSError(ENOENT, name)
        entries = os.ilistdir(self.root) if hasattr(os, "ilistdir") else os.listdir(self.root)
        for entry in entries:
            if (entry if type(entry) is str else entry[0]) == name:
                return mapped
        return OSError(ENOENT, name)

    def read(self, name):
        # read(n) of the file's size: one allocation of its length, where read() of unknown
        # length grows its buffer as it goes (copies, in a heap a sale leaves fragmented).
        path = self._path(name)
        try:
            with open(path, "rb") as f:
                data = f.read(os.stat(path)[6])
                more = f.read()  # a file that grew since the stat
                return data + more if more else data
        except OSError as exc:
            raise self._missing(name, exc)

    def read_into(self, name, offset, buf):
        # seek + readinto: the bytes go straight into buf, no bytes object of the read is made.
        check_offset(offset)
        try:
            with open(self._path(name), "rb") as f:
                if offset:
                    f.seek(offset)
                n = f.readinto(buf)
        except OSError as exc:
            raise self._missing(name, exc)
        return n or 0  # None on a stream with nothing to give; a file at its end gives 0

    def write(self, name, data):
        # After OSError(ENOSPC) the file may hold part of data or nothing: the record layer writes
        # a temporary file and renames it, so a failed write never damages a record.
        try:
            with open(self._path(name), "wb") as f:
                f.write(data)
        except OSError as exc:
            raise port_error(exc)

    def append(self, name, data):
        try:
            with open(self._path(name), "ab") as f:
                f.write(data)
        except OSError as exc:
            raise port_error(exc)

    def sync(self):
        fn = getattr(os, "sync", None)
        if fn:
            fn()

    def rename(self, old, new):
        # littlefs and POSIX replace `new` atomically; MicroPython's FAT driver removes it first.
        try:
            os.rename(self._path(old), self._path(new))
        except OSError as exc:
            raise self._missing(old, exc)

    def remove(self, name):
        try:
            os.remove(self._path(name))
        except OSError as exc:
            raise self._missing(name, exc)

    def list(self):
        return sorted(n for n in os.listdir(self.root) if _valid(n))

    def names(self, prefix=""):
        # os.ilistdir (MicroPython) reads the folder one entry at a time: a tuple and a name each,
        # garbage at once, where listdir() builds the list of every name.
        lister = getattr(os, "ilistdir", None)
        for entry in lister(self.root) if lister is not None else os.listdir(self.root):
            name = entry if type(entry) is str else entry[0]
            if name.startswith(prefix) and _valid(name):
                yield name

    def size(self, name):
        try:
            return os.stat(self._path(name))[6]
        except OSError as exc:
            raise self._missing(name, exc)

    def free(self):
        st = os.statvfs(self.root)
        return st[0] * st[4]


def _valid(name):
    try:
        check_name(name)
    except ValueError:
        return False
    return True


class PortClock(Clock):
    """Wall time from the port's time module (epoch corrected to 1970); set_time() writes the
    RTC if the board passes a machine.RTC, else keeps an offset in RAM (lost at power-off).
    rtc_battery: the board says its RTC has a battery, so it keeps time while the power is off:
    only then does the clock have CAP_RTC_KEPT_TIME, and kept_time() is True if the RTC read a set
    time at power-on (construction). Without it kept_time() raises NotImplementedError."""

    def __init__(self, rtc=None, rtc_battery=False):
        self.rtc = rtc
        self.offset = 0
        if rtc is None:
            self.capabilities = ()
            self.lacks = {CAP_RTC_KEPT_TIME: "no RTC: the time lives in RAM"}
        elif not rtc_battery:
            self.capabilities = ()
            self.lacks = {CAP_RTC_KEPT_TIME: "the RTC has no battery"}
        else:
            self.capabilities = (CAP_RTC_KEPT_TIME,)
            self.lacks = {}
        self._kept = bool(self.capabilities) and self.time() >= _RTC_SET_SINCE

    def time(self):
        return int(time.time()) + _EPOCH_OFFSET + self.offset

    def set_time(self, seconds):
        if self.rtc is None:
            self.offset += seconds - self.time()
            return
        y, mo, d, hh, mm, ss, wd = time.gmtime(seconds - _EPOCH_OFFSET)[:7]
        self.rtc.datetime((y, mo, d, wd, hh, mm, ss, 0))

    def ticks_ms(self):
        return _ticks_ms()

    def sleep_ms(self, ms):
        _sleep_ms(ms)

    def kept_time(self):
        if not self.capabilities:
            raise NotImplementedError(self.lacks[CAP_RTC_KEPT_TIME])
        return self._kept


class PortSystem(System):
    """The port's watchdog (machine.WDT) and reset (machine.reset) when main.py passes the machine
    module; what the port's machine lacks, and without one everything, is declared lacked. The boot
    count needs memory that survives a reset (RTC memory on the ESP32): the board's own driver
    keeps it, so here boot_count() is always 0 and mark_booted_ok() does nothing."""

    def __init__(self, machine=None):
        self.machine = machine
        self._wdt = None
        capabilities = []
        lacks = {SYS_BOOT_COUNT: "no memory kept across resets on a generic port (the board's driver)"}
        if machine is not None and hasattr(machine, "WDT"):
            capabilities.append(SYS_WATCHDOG)
        else:
            lacks[SYS_WATCHDOG] = "the port has no machine.WDT"
        if machine is not None and hasattr(machine, "reset"):
            capabilities.append(SYS_RESET)
        else:
            lacks[SYS_RESET] = "the port has no machine.reset"
        self.capabilities = tuple(capabilities)
        self.lacks = lacks

    def start_watchdog(self, timeout_ms):
        if SYS_WATCHDOG not in self.capabilities:
            raise HalError("no watchdog on this port")
        self._wdt = self.machine.WDT(timeout=timeout_ms)

    def feed(self):
        if self._wdt is not None:
            self._wdt.feed()

    def reset_after(self, ms):
        if SYS_RESET not in self.capabilities:
            raise HalError("no reset on this port")
        _sleep_ms(ms)
        self.machine.reset()

    def boot_count(self):
        return 0

    def mark_booted_ok(self):
        pass
