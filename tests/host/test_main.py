# main.py end to end on CPython: the console board over a pipe, keys in, ANSI screens out.
# (No MicroPython unix port or board is available here; the same code runs there over the REPL.)
import os
import subprocess
import sys
import threading
import time
from typing import Any

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class Screen:
    """Collects the child's stdout on a thread so the test can wait for text to appear."""

    def __init__(self, stream):
        self.text = ""
        self._lock = threading.Lock()
        threading.Thread(target=self._pump, args=(stream,), daemon=True).start()

    def _pump(self, stream):
        for chunk in iter(lambda: stream.read1(4096), b""):
            with self._lock:
                self.text += chunk.decode("utf-8", "replace")

    def wait_for(self, needle, seconds=20):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            with self._lock:
                if needle in self.text:
                    self.text = ""
                    return True
            time.sleep(0.02)
        return False


def start_main(workdir, stdin):
    """main.py as a board runs it, with workdir as the board's working directory."""
    return subprocess.Popen(
        [sys.executable, os.path.join(REPO, "main.py")],
        cwd=workdir,
        env=dict(os.environ, PYTHONPATH=REPO),
        stdin=stdin,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def test_main_runs_the_terminal_on_the_console_board(tmp_path):
    proc = start_main(tmp_path, subprocess.PIPE)
    screen = Screen(proc.stdout)
    try:
        assert screen.wait_for("\u6279\u6b21 000001"), "no idle screen (批次 000001)"
        # One key at a time: CPython's text stdin buffers, so each waits for its screen.
        steps = (("\r", "1 \u6d88\u8d39"), ("1", "\u00a50.00"), ("1", "\u00a50.01"), ("2", "\u00a50.12"))
        for typed, shown in steps:
            proc.stdin.write(typed.encode())
            proc.stdin.flush()
            assert screen.wait_for(shown), "after {!r}: {!r} not shown".format(typed, shown)
        assert proc.poll() is None, "the terminal loop ended"
    finally:
        proc.kill()
        proc.wait()
    assert os.path.isdir(tmp_path / "data"), "storage directory not created under the working directory"


def test_main_shows_a_storage_fault_when_the_storage_cannot_be_used(tmp_path):
    (tmp_path / "data").write_text("a file where the storage directory should be")
    proc = start_main(tmp_path, subprocess.PIPE)
    screen = Screen(proc.stdout)
    try:
        assert screen.wait_for("\u5b58\u50a8\u6545\u969c"), "no storage fault (存储故障) on the idle screen"
        assert proc.poll() is None, "the terminal loop ended"
        time.sleep(0.5)
        assert "Traceback" not in screen.text
    finally:
        proc.kill()
        proc.wait()


# ---- Boot failures in-process: main.main(make_board=...) with a board whose storage always fails --
import main as main_module  # noqa: E402 - main.py runs main() only as __main__
from hal.contracts import HalError, Storage  # noqa: E402
from tests.portable.fakes import make_board  # noqa: E402
from virtual.devices import VirtualClock, VirtualDisplay, VirtualSystem  # noqa: E402

PAN = "6222021234567890128"


_STORAGE_CALLS = ("read", "read_into", "write", "append", "sync", "rename", "remove", "list", "size", "free")


class DeadStorage(Storage):
    """A flash chip that answers nothing: every call raises HalError (naming a card, to prove the
    text never reaches the screen)."""

    def __getattribute__(self, name):
        if name in _STORAGE_CALLS:
            raise HalError("flash dead while writing " + PAN)
        return object.__getattribute__(self, name)


class Held(BaseException):
    """Raised by HoldClock to end main()'s service-screen wait in a test."""


class HoldClock(VirtualClock):
    def __init__(self, sleeps_allowed=3):
        super().__init__()
        self.sleeps = []
        self.allowed = sleeps_allowed

    def sleep_ms(self, ms):
        self.sleeps.append(ms)
        super().sleep_ms(ms)
        if len(self.sleeps) >= self.allowed:
            raise Held()


def failing_board(system, clock=None, display=None):
    return make_board(
        storage=DeadStorage(),
        system=system,
        clock=clock or HoldClock(),
        display=display or VirtualDisplay(),
    )


def shown(board):
    return "\n".join(board.display.lines())


def test_a_failed_boot_shows_where_it_failed_and_asks_for_a_restart():
    system = VirtualSystem()
    board = failing_board(system)
    assert main_module.main(lambda: board) == "restart"
    assert system.reset_ms == main_module.RESTART_MS
    text = shown(board)
    assert "Boot failed" in text and "HalError " in text
    assert PAN not in text and "flash" not in text  # the type and place, never the message
    assert board.clock.sleeps == []  # it did not wait or spin: the board restarts


def test_three_failed_boots_in_a_row_stop_at_the_service_screen():
    system = VirtualSystem()
    outcomes = []
    for _ in range(2):
        assert main_module.main(lambda: failing_board(system)) == "restart"
        outcomes.append(system.reset_ms)
        system.restart()  # the reset: this boot never reached a working terminal
    assert outcomes == [main_module.RESTART_MS] * 2 and system.boot_count() == 2
    board = failing_board(system)
    with pytest.raises(Held):
        main_module.main(lambda: board)
    assert system.reset_ms is None  # no restart: it holds
    assert "Call support" in shown(board) and "HalError " in shown(board)
    assert board.clock.sleeps == [1000] * 3  # it waits, it does not spin


def test_a_board_that_already_failed_three_times_does_not_try_again():
    system = VirtualSystem(failed_boots=3)
    board = make_board(system=system, clock=HoldClock())
    with pytest.raises(Held):
        main_module.main(lambda: board)
    assert "Call support" in shown(board)
    assert system.reset_ms is None and not system.booted_ok


def test_a_boot_failure_with_a_dead_display_still_restarts():
    class DeadDisplay(VirtualDisplay):
        def show(self):
            raise HalError("panel gone")

    system = VirtualSystem()
    assert main_module.main(lambda: failing_board(system, display=DeadDisplay())) == "restart"
    assert system.reset_ms == main_module.RESTART_MS


def test_a_good_boot_runs_the_terminal_starts_the_watchdog_and_marks_the_boot_good():
    system = VirtualSystem(failed_boots=2)
    board = make_board(system=system, clock=HoldClock(sleeps_allowed=5))
    with pytest.raises(Held):  # run() never returns; the clock ends it
        main_module.main(lambda: board)
    assert system.watchdog_ms is not None and system.feeds == 5
    assert system.boot_count() == 0 and system.reset_ms is None
    assert "Batch" in shown(board) or "\u6279\u6b21" in shown(board)


def test_a_board_factory_that_fails_waits_instead_of_raising():
    def no_board():
        raise OSError(5, "bus error")

    waits = []

    def wait_s(seconds):
        waits.append(seconds)
        if len(waits) == 3:
            raise Held()

    with pytest.raises(Held):
        main_module.main(no_board, wait_s)
    assert waits == [1, 1, 1]


def test_main_with_a_closed_stdin_runs_without_a_keypad(tmp_path):
    proc = subprocess.Popen(
        [sys.executable, os.path.join(REPO, "main.py")],
        cwd=tmp_path,
        env=dict(os.environ, PYTHONPATH=REPO),
        stdin=None,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        preexec_fn=lambda: os.close(0),
    )
    screen = Screen(proc.stdout)
    try:
        assert screen.wait_for("\u6279\u6b21 000001"), "no idle screen (批次 000001)"
        assert proc.poll() is None, "the terminal loop ended"
    finally:
        proc.kill()
        proc.wait()
    err = proc.stderr.read()
    assert b"Traceback" not in err, err.decode("utf-8", "replace")


# ---- A closed standard output: no traceback, no spin ------------------------------------------
def _cpu_seconds(pid):
    with open("/proc/{}/stat".format(pid)) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


@pytest.mark.skipif(not os.path.exists("/proc/self/stat"), reason="needs /proc to read CPU time")
@pytest.mark.parametrize("how", ["reader gone", "fd closed"])
def test_main_with_a_closed_stdout_neither_spins_nor_prints_a_traceback(tmp_path, how):
    """The console's reader goes away (EPIPE on every write) or the process starts with no fd 1 at
    all (sys.stdout is None): the display fails, the loop backs off. This measures CPU used, not how
    long anything took."""
    kwargs: dict[str, Any] = {"stdout": subprocess.PIPE}
    if how == "fd closed":
        kwargs = {"stdout": None, "preexec_fn": lambda: os.close(1)}
    proc = subprocess.Popen(
        [sys.executable, os.path.join(REPO, "main.py")],
        cwd=tmp_path,
        env=dict(os.environ, PYTHONPATH=REPO),
        stdin=subprocess.PIPE,
        stderr=subprocess.PIPE,
        **kwargs,
    )
    try:
        if proc.stdout is not None:
            proc.stdout.close()
        time.sleep(1.0)  # let it boot and meet the closed console
        assert proc.poll() is None, "main.py ended"
        before = _cpu_seconds(proc.pid)
        time.sleep(3.0)
        used = _cpu_seconds(proc.pid) - before
        assert proc.poll() is None, "main.py ended"
        # A loop that backs off uses ~0 s here; one that spins used about 1 s even on a
        # CPU-limited container (a whole core elsewhere).
        assert used < 0.3, "main.py used {:.2f} s of CPU in 3 s: it spins".format(used)
    finally:
        proc.kill()
        _, err = proc.communicate()
    assert b"Traceback" not in err, err.decode("utf-8", "replace")


def test_main_asks_for_a_collection_every_few_kilobytes_before_the_terminal_boots(monkeypatch):
    order = []
    monkeypatch.setattr(main_module, "manage_heap", lambda: order.append("heap"))

    def terminal(board):
        order.append("terminal")
        raise ValueError("no terminal here")

    monkeypatch.setattr(main_module, "Terminal", terminal)
    system = VirtualSystem()
    main_module.main(lambda: failing_board(system))
    assert order == ["heap", "terminal"]
