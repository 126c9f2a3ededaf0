# main.py: what a MicroPython board runs after boot.py. It picks the board, builds its devices
# and hands them to the firmware. Never put terminal logic here; never drop to the REPL.

from firmware.compat import crash_site
from firmware.terminal import Terminal, manage_heap
from hal.contracts import SYS_BOOT_COUNT, SYS_RESET, has

RESTART_MS = 5000  # a boot that failed: the board restarts after this long
FAILED_BOOTS_LIMIT = 3  # this many failed boots in a row: stop at the service screen, no restart
_HOLD_MS = 1000  # the service screen's idle wait (it never spins)


def console_board():
    """Any MicroPython port over its serial console (and CPython, for the tests)."""
    from hal.console import make_board

    try:
        import machine  # type: ignore[import-not-found]  # the port's; main.py alone imports it
    except ImportError:  # CPython, or a port without it
        machine = None
    return make_board(machine=machine)


def esp32_board():
    """The reference ESP32 board (docs/BOARD.md): its port modules are imported here and handed
    to hal.esp32.board.make_board(), which never imports them at module level."""
    import esp32  # type: ignore[import-not-found]
    import machine  # type: ignore[import-not-found]
    import network  # type: ignore[import-not-found]

    from hal.esp32.board import make_board

    return make_board(machine, network, esp32)


def select_board(platform=None):
    """The board factory for this port: the ESP32 board on the ESP32 port, else the console."""
    if platform is None:
        import sys

        platform = sys.platform
    return esp32_board if platform == "esp32" else console_board


def show_lines(display, rows):
    """Put rows on the display; a display that fails is left alone (nothing else can show it)."""
    try:
        display.clear()
        for i in range(len(rows)):
            display.text(i, rows[i])
        display.show()
    except Exception:  # noqa: BLE001 - a dead or closed display: the fault is still recorded
        pass


def hold(board, rows):
    """The service screen: shows rows and waits for a technician; never restarts, never returns."""
    show_lines(board.display, rows)
    while True:
        board.clock.sleep_ms(_HOLD_MS)


def _sleep_s(seconds):
    import time

    time.sleep(seconds)


def main(make_board=None, wait_s=_sleep_s):
    """Boot the terminal on make_board()'s devices (select_board()'s factory when None) and run
    it. A boot that fails shows its fault
    (type and place, never its text), and asks the system device to restart the board; the
    FAILED_BOOTS_LIMIT-th failure in a row holds at the service screen instead. Returns only when a
    restart was asked of a system device that does not reset at once (a test double): "restart".
    A board factory that fails leaves nothing to show on or restart with: it waits (wait_s(1)
    forever) rather than dropping to the REPL with a traceback on a console that may be closed."""
    if make_board is None:
        make_board = select_board()
    try:
        board = make_board()
    except Exception:  # noqa: BLE001 - no devices: nothing to show, nothing to restart with
        while True:
            wait_s(1)
    system = board.system
    failed = system.boot_count() if has(system, SYS_BOOT_COUNT) else 0
    if failed >= FAILED_BOOTS_LIMIT:
        hold(board, ("请联系客服", "Call support", "连续启动失败", "Boot failed {}x".format(failed)))
    manage_heap()
    try:
        terminal = Terminal(board)
    except Exception as exc:  # noqa: BLE001 - a terminal that cannot boot says so on its screen
        fault = crash_site(exc)
        failed += 1
        if failed >= FAILED_BOOTS_LIMIT or not has(system, SYS_RESET):
            hold(board, ("请联系客服", "Call support", "启动失败", "Boot failed", fault))
        show_lines(board.display, ("启动失败", "Boot failed", fault, "正在重启", "Restarting"))
        system.reset_after(RESTART_MS)
        return "restart"
    terminal.run()


def safe_mode_asked(namespace):
    """True if boot.py found the safe-mode key held: it left SAFE_MODE = True in the __main__
    namespace the port runs boot.py and main.py in. Safe mode builds no board and never starts the
    watchdog (Terminal.run() starts it, and an ESP32 watchdog cannot be stopped)."""
    return namespace.get("SAFE_MODE") is True


if __name__ == "__main__":  # a board runs main.py as __main__; tests import it
    if safe_mode_asked(globals()):
        print("main.py: safe mode: the terminal is not started (REPL)")
    else:
        main()
