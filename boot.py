# boot.py: runs first on a MicroPython board. Keep it tiny: it decides safe mode and nothing else.
# Never start the terminal or a watchdog here, never remount the root filesystem, never import
# firmware/ or hal/.
#
# The root filesystem is already mounted by the port's frozen _boot.py (remounting it here would
# fight that; a root that fails to mount makes the ESP32's _boot.py loop). Terminal data lives in its
# own partition, mounted by the board module.
#
# Safe mode: hold the safe-mode key at power-on. boot.py then sets SAFE_MODE = True; main.py (which
# the port runs in the same __main__ namespace: ports/esp32/main.c runs boot.py then main.py through
# pyexec_file) sees it and returns at once, leaving the REPL for mpremote. Safe mode never builds the
# board and never starts the watchdog (an ESP32 watchdog cannot be stopped: it would reset the board
# under a technician's deploy). boot.py imports nothing of firmware/ or hal/: a broken deploy must
# not break the way out of it.

import gc

# The key held at power-on for safe mode, as GPIO numbers. The board's pin table owns them; boot.py
# keeps a copy because it must not import hal/ (tests/host/test_boot.py checks the copy equals the
# table). A key is read with its pull-up (held = 0; GPIO 34-39 have no internal pull-up: give one
# of those an external resistor); a row is a keypad row driven low while the key is read (None: a
# push button to ground). The reference ESP32 board (docs/BOARD.md, hal/esp32/board.py PINS
# "safe_mode_key"): a push button from GPIO 14 to GND. Other ports: no safe-mode key (the console
# board: Ctrl-C at the REPL stops main.py instead).
ESP32_SAFE_MODE_KEY_GPIO = 14
ESP32_SAFE_MODE_ROW_GPIO = None

SAFE_MODE_SAMPLES = 5  # held on every sample, SAFE_MODE_GAP_MS apart: a bounce or glitch is not a hold
SAFE_MODE_GAP_MS = 10


def key_held(key, sleep_ms, samples=SAFE_MODE_SAMPLES, gap_ms=SAFE_MODE_GAP_MS):
    """True if key.value() reads 0 (held, against its pull-up) on each of samples reads, gap_ms
    apart. key: a machine.Pin or anything with value(); sleep_ms(ms) waits between reads."""
    for i in range(samples):
        if i:
            sleep_ms(gap_ms)
        if key.value() != 0:
            return False
    return True


def safe_mode_key(platform):
    """(key_gpio, row_gpio) of the safe-mode key on the port named platform (sys.platform):
    the reference board's button on "esp32", (None, None) elsewhere."""
    if platform == "esp32":
        return ESP32_SAFE_MODE_KEY_GPIO, ESP32_SAFE_MODE_ROW_GPIO
    return None, None


def safe_mode(machine, sleep_ms, key_gpio=None, row_gpio=None):
    """Whether the safe-mode key is held: builds the key's pins from machine (the port's module, or a
    fake with Pin) and reads them with key_held(). False when there is no key or no machine. The row
    is let go again (input) whatever the answer, so the keypad driver finds its pins as at reset."""
    if key_gpio is None or machine is None:
        return False
    Pin = machine.Pin
    key = Pin(key_gpio, Pin.IN, Pin.PULL_UP)
    row = None
    if row_gpio is not None:
        row = Pin(row_gpio, Pin.OUT, value=0)
    try:
        return key_held(key, sleep_ms)
    finally:
        if row is not None:
            row.init(Pin.IN)


def _port():
    """The port's machine module and sleep_ms, or (None, None) off a board."""
    try:
        import time

        import machine  # type: ignore[import-not-found]  # the port's

        return machine, time.sleep_ms  # type: ignore[attr-defined]  # MicroPython's time
    except (ImportError, AttributeError):
        return None, None


def decide(platform, machine, sleep_ms):
    """SAFE_MODE for this boot: the port's safe-mode key held (safe_mode_key(platform)). A key the
    port refuses to read is no safe mode (main.py runs), said on the console."""
    key_gpio, row_gpio = safe_mode_key(platform)
    try:
        return safe_mode(machine, sleep_ms, key_gpio, row_gpio)
    except Exception as e:  # noqa: BLE001 - a pin the port refuses: no safe mode, main.py runs
        print("boot.py: safe-mode key unreadable:", type(e).__name__)
        return False


if __name__ == "__main__":  # the port runs boot.py as __main__; tests import it
    import sys

    SAFE_MODE = decide(sys.platform, *_port())
    if SAFE_MODE:
        print("boot.py: safe mode (key held at power-on): main.py skipped, no watchdog; REPL ready")
    gc.collect()
