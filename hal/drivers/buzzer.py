# An active buzzer on one output pin (through a transistor): beep(ms) turns it on and returns at
# once; update(), called from the event loop's polling (KeyMatrix.poll does), turns it off when due.
# Never blocks, never allocates; never imports machine.

from hal.contracts import ticks_diff


class Buzzer:
    """pin: an output pin (machine.Pin); ticks_ms: the clock's; on: the level that sounds it."""

    def __init__(self, pin, ticks_ms, on=1):
        self._pin = pin
        self._ticks_ms = ticks_ms
        self._on = on
        self._since = 0
        self._length = 0
        self.sounding = False
        pin.value(1 - on)

    def beep(self, ms=60):
        """Sound for about ms milliseconds (a beep while one sounds restarts the time)."""
        if ms <= 0:
            return
        self._since = self._ticks_ms()
        self._length = ms
        self._pin.value(self._on)
        self.sounding = True

    def update(self):
        """Silence the buzzer once its time is up."""
        if self.sounding and ticks_diff(self._ticks_ms(), self._since) >= self._length:
            self._pin.value(1 - self._on)
            self.sounding = False
