# main.py end to end on CPython: the console board over a pipe, keys in, ANSI screens out.
# (No MicroPython unix port or board is available here; the same code runs there over the REPL.)
import os
import subprocess
import sys
import threading
import time

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
