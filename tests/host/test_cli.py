# The simulator's command line as a process (python -m sim): what a new user can throw at it
# (odd scripts, a closed or non-UTF-8 standard input, unusable --state directories, two runs on one
# directory) ends in one clear line on stderr and an exit code, never a traceback. Host tier.

import os
import select
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hal.contracts import KEYS, check_name
from sim import scenario
from sim.__main__ import LOCK_FILE, main
from sim.storage import DirStorage

ROOT = Path(__file__).resolve().parents[2]
SIM = [sys.executable, "-m", "sim"]


def sim(*args, stdin=b"", prefix=()):
    """python -m sim in a child process; stdin is bytes, or None for a closed standard input.
    prefix: a command the simulator runs under (setpriv, unshare)."""
    command = [*prefix, *SIM, *args]
    if stdin is None:  # the shell closes fd 0 before exec: Python then has sys.stdin = None
        command = ["sh", "-c", 'exec "$@" <&-', "sh", *command]
    result = subprocess.run(command, cwd=ROOT, input=stdin or b"", capture_output=True, timeout=60)
    return Result(result.returncode, result.stdout.decode("utf-8"), result.stderr.decode("utf-8"))


class Result:
    def __init__(self, returncode, stdout, stderr):
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr

    def __repr__(self):
        return "exit {}\nstdout:\n{}\nstderr:\n{}".format(self.returncode, self.stdout[-2000:], self.stderr)


def one_line(result, code=2):
    """The run exited `code` with exactly one line on stderr, and no traceback; that line."""
    assert result.returncode == code, result
    assert result.stderr.count("\n") == 1 and result.stderr.endswith("\n"), result
    assert "Traceback" not in result.stderr
    return result.stderr[:-1]


def script(tmp_path, data, name="script.txt"):
    path = tmp_path / name
    path.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
    return str(path)


# ---- What a script may contain -----------------------------------------------------------------


def test_a_script_saved_with_a_byte_order_mark_and_crlf_runs(tmp_path):
    path = script(tmp_path, "\ufeffkey ENTER\r\nexpect Main menu\r\n")
    result = sim("run", "--lang", "en", path)
    assert result.returncode == 0, result
    assert "-- 1: key ENTER\n" in result.stdout


def test_other_line_breaks_stay_inside_their_line_so_line_numbers_hold(tmp_path):
    # str.splitlines() would make 9 lines of the first one and report "line 11".
    odd = "\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"
    path = script(tmp_path, "# a" + "|".join(odd) + "\nkey ENTER\nbogus\n")
    assert one_line(sim("run", path)).startswith('line 3: unknown verb "bogus"')


def test_control_characters_are_echoed_escaped_never_raw(tmp_path):
    # A line with a terminal escape (clear screen, set the window title) in an error and in the trace.
    bad = script(tmp_path, "key 1 \x1b[2J\x1b]0;owned\x07\n", "bad.txt")
    message = one_line(sim("run", bad))
    assert message == 'line 1: key: unknown key "\\x1b[2J\\x1b]0;owned\\x07" (keys: 0-9 {})'.format(
        " ".join(KEYS)
    )
    good = script(tmp_path, "scan \x1b[31mred\u202etxt\n", "good.txt")
    result = sim("run", good)
    assert result.returncode == 0, result
    assert "-- 1: scan \\x1b[31mred\\u202etxt\n" in result.stdout
    typed = sim("--lang", "en", stdin=b"expect \x1b[2J\n")
    assert typed.returncode == 0, typed
    assert typed.stderr.startswith('line 1: expected "\\x1b[2J" not on screen\n')
    for text in (result.stdout, typed.stdout, typed.stderr):
        assert "\x1b" not in text and "\u202e" not in text


@pytest.mark.parametrize("how", ["file", "stdin"])
def test_a_10000_character_line_is_refused_in_one_line(tmp_path, how):
    text = "key " + "1" * 9996 + "\n"
    if how == "file":
        result = sim("run", script(tmp_path, text))
    else:
        result = sim("run", "-", stdin=text.encode())
    limit = scenario.MAX_LINE_CHARS
    assert one_line(result) == "line 1: line too long: 10000 characters (at most {})".format(limit)
    assert result.stdout == ""


def test_a_10000_character_line_typed_is_one_error_and_the_session_goes_on():
    result = sim("--lang", "en", stdin=("expect " + "x" * 9993 + "\nenter\n").encode())
    assert result.returncode == 0, result
    assert result.stderr == "line 1: line too long: 10000 characters (at most {})\n".format(
        scenario.MAX_LINE_CHARS
    )
    assert "Main menu" in result.stdout  # line 2 ran


# ---- Standard input and output -----------------------------------------------------------------


@pytest.mark.parametrize("args", [(), ("run", "-")], ids=["interactive", "run -"])
def test_a_closed_standard_input_is_one_line(args):
    message = one_line(sim(*args, stdin=None))
    assert message.startswith("sim: cannot read ") and message.endswith("standard input: it is closed")


def test_a_script_on_standard_input_that_is_not_utf8_is_one_line_naming_the_line():
    result = sim("run", "-", stdin=b"key ENTER\nexpect caf\xe9\n")
    assert one_line(result) == "sim: cannot read standard input: line 2 is not UTF-8 text"
    assert result.stdout == ""  # nothing ran


def test_typed_lines_that_are_not_utf8_end_the_session_after_the_good_ones():
    result = sim("--lang", "en", stdin=b"enter\n\xff\xfe\nexpect nothing\n")
    assert one_line(result) == "sim: cannot read standard input: line 2 is not UTF-8 text"
    assert "Main menu" in result.stdout  # line 1 ran


def test_a_closed_standard_output_is_not_a_crash():
    result = subprocess.run(
        ["sh", "-c", 'exec "$@" >&-', "sh", *SIM, "run", "-"],
        cwd=ROOT,
        input=b"key ENTER\n",
        capture_output=False,
        stderr=subprocess.PIPE,
        timeout=60,
    )
    assert (result.returncode, result.stderr) == (0, b"")


# ---- --state DIR that cannot be used -------------------------------------------------------------


def test_state_pointing_at_a_file_or_under_one(tmp_path):
    afile = tmp_path / "afile"
    afile.write_text("not a directory")
    message = one_line(sim("run", "--state", str(afile), "-", stdin=b"wait 1\n"))
    assert message == "sim: cannot use --state {}: it is not a directory".format(afile)
    message = one_line(sim("run", "--state", str(afile / "sub"), "-", stdin=b"wait 1\n"))
    assert message == "sim: cannot use --state {}: Not a directory".format(afile / "sub")
    assert afile.read_text() == "not a directory"


def without_root_privileges():
    """A prefix that runs the simulator without the power to ignore file permissions. As a normal
    user: nothing. As root (who reads and writes anything): root without capabilities, through
    setpriv, so the kernel checks the mode bits as for anyone; skipped if that is not possible."""
    if os.geteuid() != 0:
        return ()
    setpriv = shutil.which("setpriv")
    prefix = (setpriv, "--bounding-set=-all") if setpriv else None
    if prefix is None or subprocess.run([*prefix, "true"], capture_output=True).returncode != 0:
        pytest.skip("running as root, and setpriv cannot drop root's capabilities here")
    return prefix


@pytest.mark.parametrize("mode", [0o500, 0o000], ids=["read-only", "no access"])
@pytest.mark.parametrize("used_before", [False, True], ids=["new", "used before"])
def test_state_without_permission(tmp_path, mode, used_before):
    state = tmp_path / "state"
    if used_before:  # its LOCK file exists and stays writable: the directory is what refuses
        assert sim("run", "--state", str(state), "-", stdin=b"wait 1\n").returncode == 0
    else:
        state.mkdir()
    prefix = without_root_privileges()
    state.chmod(mode)
    try:
        result = sim("run", "--state", str(state), "-", stdin=b"wait 1\n", prefix=prefix)
    finally:
        state.chmod(0o700)
    message = "sim: cannot use --state {}: no permission to read and write in it".format(state)
    assert one_line(result) == message


def test_state_on_a_full_disk(tmp_path):
    """A real full file system: a tiny tmpfs, filled up, mounted in a user and mount namespace of
    the child only (no root needed, nothing mounted on the host). Skipped where the kernel or the
    container forbids user namespaces; the /dev/full test below runs everywhere on Linux."""
    disk = tmp_path / "disk"
    disk.mkdir()
    unshare = shutil.which("unshare")
    mount = ["sh", "-c", 'mount -t tmpfs -o size=16k tmpfs "$1" && shift && "$@"', "sh", str(disk)]
    prefix = [unshare, "--user", "--map-root-user", "--mount", *mount] if unshare else None
    if prefix is None or subprocess.run([*prefix, "true"], capture_output=True).returncode != 0:
        pytest.skip("cannot mount a tmpfs in a user and mount namespace here (unshare missing or refused)")
    # Fill it up (FILL is upper case: a name the terminal's storage ignores), then run on it.
    fill = ["sh", "-c", 'head -c 1M /dev/zero >"$1/FILL" 2>/dev/null; shift; exec "$@"', "sh", str(disk)]
    command = [*prefix, *fill, *SIM, "run", "--state", str(disk), "-"]
    result = subprocess.run(command, cwd=ROOT, input=b"wait 1\n", capture_output=True, timeout=60)
    stderr = result.stderr.decode()
    assert result.returncode == 2 and stderr.count("\n") == 1, stderr
    assert stderr == "sim: cannot use --state {}: No space left on device\n".format(disk)


def test_state_whose_writes_hit_a_full_device(tmp_path):
    """The storage writes a file beside its target, then renames it (sim.storage). Making that temporary
    name a link to /dev/full sends the write of the stored language to a device that is always full:
    the kernel's own ENOSPC, on the simulator's real write path."""
    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full on this system")
    state = tmp_path / "state"
    state.mkdir()
    (state / "~params.tmp").symlink_to("/dev/full")  # DirStorage's temp file of params.tmp
    message = one_line(sim("run", "--state", str(state), "--lang", "en", "-", stdin=b"wait 1\n"))
    assert message == "sim: cannot use --state {}: No space left on device".format(state)


def test_lang_on_a_terminal_whose_identity_was_lost_is_a_note_and_keeps_the_evidence(tmp_path):
    # One payload bit of both params copies flipped, then --lang: the
    # terminal's identity is lost and firmware.params saves nothing until it is set again. Once
    # this was "sim: internal error: ValueError: bad parameter merchant_id", exit 3.
    state = tmp_path / "state"
    assert (
        sim("run", "--offline", "--state", str(state), "--lang", "en", "-", stdin=b"wait 1\n").returncode == 0
    )
    for slot in ("b", "a"):
        stored = bytearray((state / ("params." + slot)).read_bytes())
        stored[len(stored) // 2 + 20] ^= 0x01  # a payload byte, far past the 28-byte header
        (state / ("params." + slot)).write_bytes(bytes(stored))
    for _ in range(2):  # twice: the second run finds the evidence and leaves it as it is
        # Back in the default language (the stored one was lost with the identity), showing the fault.
        result = sim(
            "run",
            "--offline",
            "--state",
            str(state),
            "--lang",
            "en",
            "-",
            stdin="expect 终端参数丢失\n".encode(),
        )
        message = one_line(result, 0)
        assert message == (
            "sim: note: --lang en not stored: the terminal's identity is lost (damaged parameters) and no"
            " parameter is saved until it is set again; the terminal boots in zh"
        )
        assert (state / "bad.000001.params.a").read_bytes() == bytes(stored)
        assert (state / "bad.000002.params.b").exists()
        assert not (state / "bad.000003.params.a").exists()
    # A terminal whose parameters are sound takes --lang, and one already in it writes nothing.
    fresh = tmp_path / "fresh"
    assert sim("run", "--offline", "--state", str(fresh), "--lang", "en", "-", stdin=b"wait 1\n").stderr == ""
    before = {p.name: p.stat().st_mtime_ns for p in fresh.iterdir()}
    result = sim(
        "run", "--offline", "--state", str(fresh), "--lang", "en", "-", stdin=b"expect ENTER for menu\n"
    )
    assert (result.returncode, result.stderr) == (0, "")
    assert {p.name: p.stat().st_mtime_ns for p in fresh.iterdir() if p.name != "LOCK"} == {
        k: v for k, v in before.items() if k != "LOCK"
    }


def test_state_given_empty():
    assert (
        one_line(sim("run", "--state", "", "-", stdin=b"wait 1\n")) == "sim: --state needs a directory name"
    )


# ---- One run at a time on one --state DIR --------------------------------------------------------


def read_until(proc, needle, seconds=30):
    """Read the child's stdout until needle has appeared; everything read."""
    seen = b""
    deadline = time.monotonic() + seconds
    fd = proc.stdout.fileno()
    while needle not in seen:
        left = deadline - time.monotonic()
        assert left > 0, "child never printed {!r}; got {!r}".format(needle, seen[-500:])
        if select.select([fd], [], [], left)[0]:
            chunk = os.read(fd, 4096)
            assert chunk, "child ended before printing {!r}: {!r}".format(needle, seen[-500:])
            seen += chunk
    return seen


def test_a_second_run_on_the_same_state_is_refused_until_the_first_dies(tmp_path):
    state = tmp_path / "state"
    # The first run: interactive, booted (it shows its prompt) and waiting on a pipe kept open.
    first = subprocess.Popen(
        [*SIM, "--state", str(state)],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    try:
        read_until(first, b"> ")
        refused = "sim: cannot use --state {}: another run of the simulator is using it (pid {})".format(
            state, first.pid
        )
        assert one_line(sim("run", "--state", str(state), "-", stdin=b"wait 1\n")) == refused
        assert one_line(sim("--state", str(state), stdin=b"wait 1\n")) == refused
    finally:
        first.send_signal(signal.SIGKILL)  # no clean-up of its own: only the OS can drop the lock
        first.wait(timeout=30)
        first.stdin.close()
        first.stdout.close()
    assert first.returncode == -signal.SIGKILL
    after = sim("run", "--state", str(state), "-", stdin=b"wait 1\n")
    assert (after.returncode, after.stderr) == (0, ""), after


def test_the_lock_is_released_when_a_run_ends_and_the_storage_never_sees_it(tmp_path, capsys):
    path = script(tmp_path, "wait 1\n")
    state = str(tmp_path / "state")
    # In one process, one after the other: the first run's lock must not outlive it.
    assert main(["run", "--quiet", "--state", state, path]) == 0
    assert main(["run", "--quiet", "--lang", "en", "--state", state, path]) == 0, capsys.readouterr().err
    assert os.path.isfile(os.path.join(state, LOCK_FILE))
    with pytest.raises(ValueError):
        check_name(LOCK_FILE)
    assert LOCK_FILE not in DirStorage(state).list()
    assert DirStorage(state).list() != []  # the listing does see the stored files
