# The ESP32 as the System device: machine.WDT (which nothing can stop once started), machine.reset,
# and the count of failed boots kept in RTC memory (machine.RTC().memory(): kept through a reset
# and the watchdog, lost at power-off). Never imports machine: the board module passes it in.
#
# The boot count is 6 bytes at the start of the RTC memory: b"QPB" (ours), the count, and the
# count again XOR 0xFF (RTC memory holds garbage after a power-on; a count without its check is
# read as 0, the fresh start a power-on is). Counted one up when the board is built (power-on,
# before the firmware), set to 0 by mark_booted_ok().

from hal.contracts import SYS_BOOT_COUNT, SYS_RESET, SYS_WATCHDOG, HalError, System

_MAGIC = b"QPB"
_MAX_COUNT = 250  # the count saturates: a board that failed this often is held by main.py long before
# The ESP32's watchdog (the task WDT of ESP-IDF behind machine.WDT) takes whole milliseconds; the
# firmware asks 8 s (firmware.terminal.WATCHDOG_MS): longer than its slowest step between two
# feeds (docs/BOARD.md, "Watchdog"). A shorter timeout than this is refused as a mistake.
MIN_TIMEOUT_MS = 2000


def read_count(memory):
    """The count in an RTC memory image, 0 if it holds none of ours."""
    if len(memory) >= 5 and bytes(memory[:3]) == _MAGIC and memory[3] ^ memory[4] == 0xFF:
        return memory[3]
    return 0


def count_image(count):
    return _MAGIC + bytes((count, count ^ 0xFF))


class Esp32System(System):
    """machine: the machine module (WDT, reset, RTC, reset_cause, PWRON_RESET). safe_mode: the board
    was started for service (a key held at power-on): the watchdog is lacked, since once started
    it cannot be stopped and a technician at the REPL would see the board reset under them; the
    boot is not counted either. sleep_ms: the clock's, for reset_after()."""

    def __init__(self, machine, sleep_ms, safe_mode=False):
        self.machine = machine
        self._sleep_ms = sleep_ms
        self._wdt = None
        self._rtc = machine.RTC()
        if safe_mode:
            self.capabilities = (SYS_RESET, SYS_BOOT_COUNT)
            self.lacks = {SYS_WATCHDOG: "safe mode: an ESP32 watchdog cannot be stopped once started"}
        else:
            self.capabilities = (SYS_WATCHDOG, SYS_RESET, SYS_BOOT_COUNT)
            self.lacks = {}
        if machine.reset_cause() == machine.PWRON_RESET:
            self._failed = 0  # RTC memory after a power-on holds nothing of ours
        else:
            self._failed = read_count(self._rtc.memory())
        if not safe_mode:
            count = self._failed + 1
            self._rtc.memory(count_image(count if count < _MAX_COUNT else _MAX_COUNT))

    def start_watchdog(self, timeout_ms):
        if SYS_WATCHDOG not in self.capabilities:
            raise NotImplementedError(self.lacks[SYS_WATCHDOG])
        if type(timeout_ms) is not int or timeout_ms < MIN_TIMEOUT_MS:
            raise ValueError("the watchdog timeout is at least {} ms".format(MIN_TIMEOUT_MS))
        if self._wdt is not None:
            raise HalError("the watchdog runs already")
        self._wdt = self.machine.WDT(timeout=timeout_ms)

    def feed(self):
        if self._wdt is not None:
            self._wdt.feed()

    def reset_after(self, ms):
        self._sleep_ms(ms)
        self.machine.reset()

    def boot_count(self):
        return self._failed

    def mark_booted_ok(self):
        self._failed = 0
        self._rtc.memory(count_image(0))
