# The simulator's command line: `python -m sim run SCRIPT` drives a headless terminal with a scenario
# script; `python -m sim` reads script lines from the keyboard. Never shows a traceback unless --debug.

import argparse
import contextlib
import fcntl
import functools
import os
import sys
import traceback

from firmware.journal import Journal
from firmware.params import Params
from hal.contracts import HalError
from sim import provision, scenario
from sim.board import make_board
from sim.checked import unwrap
from sim.host.server import Host
from sim.link import Route

LOCK_FILE = "LOCK"  # in a --state DIR: see _lock_state

HELP = """\
key K...      press keys: 0-9 ENTER CANCEL CLEAR FUNC UP DOWN (any case; 123 = 1 2 3)
swipe NAME    swipe, insert or tap a card of the deck (docs/CARDS.md)
insert NAME
tap NAME
scan TEXT     the scanner reads TEXT
sign          the cardholder signs and presses OK; "sign none": OK without drawing
wait SECONDS  let time pass (at most 86400)
clock YYYY-MM-DD HH:MM   set the terminal's wall clock (its local time)
expect TEXT   check that TEXT is on the screen
reboot        power-cycle: storage survives, RAM does not
reboot rtc-lost   power-cycle with the RTC lost: the clock comes back at 2000-01-01, not set
cut N [torn MODE]  the power fails at the N-th storage operation of the next step, which reboots;
              MODE of the write in flight: none (default), 1, half, all-but-1, all (all unsynced lands)
host fault KIND [on MTI] [count N]   the host loses (no-answer), delays (late), drops, garbles
              (garbage), mis-MACs (bad-mac) or repeats (duplicate) its next answer(s)
host clear    no more faults; host down / host up: connections refused / accepted again
link down     the terminal's network is gone; link up: back
backoffice submit USER RRN MMDD FEN REASON   a back-office refund of this terminal's sale (the
              embedded host's ledger); backoffice approve USER / reject USER: the latest one reviewed
help, quit    this list; end the session (or Ctrl-D)
A line that does not start with a verb is read as keys: "123 enter" = "key 1 2 3 ENTER".
"""


def _parser():
    parser = argparse.ArgumentParser(
        prog="python -m sim",
        description="The QianPOS simulator. With no command: the full-screen app (else the line mode).",
    )
    options = argparse.ArgumentParser(add_help=False)
    options.add_argument("--state", metavar="DIR", help="keep the terminal's storage in DIR between runs")
    options.add_argument("--lang", choices=("zh", "en"), help="set the terminal's language before it boots")
    options.add_argument("--debug", action="store_true", help="show the traceback when the terminal crashes")
    where = options.add_mutually_exclusive_group()
    where.add_argument(
        "--host", metavar="IP:PORT", help="talk to an external host instead of the embedded one"
    )
    where.add_argument("--offline", action="store_true", help="no host at all: the link is down")
    options.add_argument(
        "--trace",
        metavar="FILE",
        help="the embedded host appends every frame to FILE (holds card data: tests only)",
    )
    commands = parser.add_subparsers(title="commands", dest="command")
    run = commands.add_parser("run", parents=[options], help="run a scenario script headless")
    run.add_argument("--quiet", action="store_true", help="print nothing but a failure")
    run.add_argument("script", metavar="SCRIPT", help="the script file (docs/SCENARIOS.md), - for stdin")
    commands.add_parser("interactive", parents=[options], help="type script lines one by one")
    app = commands.add_parser("app", parents=[options], help="the full-screen simulator (the default)")
    app.add_argument(
        "--fresh", action="store_true", help="move the kept state aside and start a new terminal"
    )
    return parser


class Refused(Exception):
    """The simulator cannot start or go on for a reason outside the script and the firmware:
    standard input closed or not UTF-8, an unusable --state DIR. One line on stderr, exit 2."""


class _Discard:
    """Where output goes when the standard stream for it is closed."""

    def write(self, text):
        return len(text)

    def flush(self):
        pass


def _reason(error, path):
    """An OSError in words, with the file it names unless that is path: "Permission denied (DIR/f)";
    both of a failed rename's: "Is a directory (DIR/keys/tmk.new -> DIR/keys/tmk.key)"."""
    why = error.strerror or str(error)
    if error.filename and getattr(error, "filename2", None):
        return f"{why} ({error.filename} -> {error.filename2})"
    return f"{why} ({error.filename})" if error.filename and error.filename != path else why


def _decode(data, source, first_line=1):
    """data (whose first line is number first_line) as UTF-8 text; Refused naming the first line
    that is not."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = first_line + data.count(b"\n", 0, e.start)
        raise Refused(f"cannot read {source}: line {line} is not UTF-8 text") from None


def _lock_state(path):
    """Make DIR if needed and take its lock for this process: an flock on DIR/LOCK, which the OS
    drops when the process ends however it ends (even SIGKILL), so a killed run never leaves the
    directory locked. Returns the lock's descriptor; Refused if DIR cannot be used or another
    process holds it. The name is upper case: the Storage contract's names are lower case, so
    DirStorage never loads or lists it and the firmware can never write over it."""
    if not path:
        raise Refused("--state needs a directory name")
    if os.path.exists(path) and not os.path.isdir(path):
        raise Refused(f"cannot use --state {path}: it is not a directory")
    try:
        os.makedirs(path, exist_ok=True)
    except OSError as e:
        raise Refused(f"cannot use --state {path}: {_reason(e, path)}") from None
    if not os.access(path, os.R_OK | os.W_OK | os.X_OK):
        raise Refused(f"cannot use --state {path}: no permission to read and write in it")
    try:
        fd = os.open(os.path.join(path, LOCK_FILE), os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as e:
        raise Refused(f"cannot use --state {path}: {_reason(e, path)}") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as e:
        holder = os.pread(fd, 16, 0).decode("ascii", "replace").strip()
        os.close(fd)
        if not isinstance(e, BlockingIOError):
            raise Refused(f"cannot use --state {path}: cannot lock it: {_reason(e, path)}") from None
        by = f" (pid {holder})" if holder.isdigit() else ""
        raise Refused(f"cannot use --state {path}: another run of the simulator is using it{by}") from None
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode("ascii"), 0)
    except OSError:
        pass  # the pid only helps the message of a refused run; a full disk is reported where it matters
    return fd


HOST_DIR_SUFFIX = "-host"  # --state DIR: the embedded host's ledger is DIR-host/ledger.db


def host_db(state):
    """The embedded host's ledger for --state DIR: DIR-host/ledger.db, a directory of its own beside
    DIR, never inside it (the terminal's DirStorage would load SQLite's files); RAM without --state."""
    if state is None:
        return ":memory:"
    return os.path.join(os.path.normpath(state) + HOST_DIR_SUFFIX, "ledger.db")


@contextlib.contextmanager
def _run_host(args):
    """(host, route) of this run: the embedded host started on an ephemeral 127.0.0.1 port (stopped
    at the end), an external --host (no Host object), or --offline (None, None)."""
    if args.offline:
        if args.trace:
            raise Refused("--trace needs the embedded host (not with --offline)")
        yield None, None
        return
    if args.host:
        if args.trace:
            raise Refused("--trace is the embedded host's option (not with --host)")
        try:
            ip, port = args.host.rsplit(":", 1)
            if not port.isdigit() or not 0 < int(port) < 65536 or not ip:
                raise ValueError
        except ValueError:
            raise Refused(f"--host needs IP:PORT, not {args.host}") from None
        route = Route(ip, int(port))
        try:
            yield None, route
        finally:
            route.close()
        return
    db = host_db(args.state)
    if db != ":memory:":
        try:
            os.makedirs(os.path.dirname(db), exist_ok=True)
        except OSError as e:
            raise Refused(
                f"cannot use {os.path.dirname(db)} for the host's ledger: {_reason(e, db)}"
            ) from None
    try:
        host = Host(db=db, trace=args.trace)
        port = host.start()
    except Exception as e:  # noqa: BLE001 - any reason the host cannot run is one line for the user
        raise Refused(f"cannot start the embedded host: {type(e).__name__}: {e}") from None
    route = Route("127.0.0.1", port)
    try:
        yield host, route
    finally:
        route.close()
        host.release_late()  # an answer a `late` fault still holds goes now, not into the shutdown
        host.stop()


def _store_language(storage, language, err):
    """--lang: store the language parameter before the terminal boots (nothing is written if it
    already is). A terminal whose identity is lost (damaged parameters) saves no parameter until
    the identity is set again (firmware.params refuses): the language is then left as it is, one
    note says why on err, and the terminal boots to show its fault. The damaged copies stay where
    Params.load put them (numbered evidence): nothing here writes over them."""
    params = Params.load(storage)
    if params.language == language:
        return
    kept = params.language
    params.language = language
    try:
        params.save(storage)
    except ValueError as e:
        why = (
            "the terminal's identity is lost (damaged parameters)"
            " and no parameter is saved until it is set again"
            if params.identity_lost
            else str(e)
        )
        err.write(f"sim: note: --lang {language} not stored: {why}; the terminal boots in {kept}\n")


@contextlib.contextmanager
def _opened_board(args, err):
    """(board, host, route): the board, with storage in --state DIR (locked while the board is in
    use) if given, and the language set if asked for (a note on err if it cannot be), its link to
    the host of the run (_run_host, started after the lock is taken: one run per DIR and its
    ledger). A failure of DIR itself (full disk, I/O error) is Refused."""
    lock = None if args.state is None else _lock_state(args.state)
    try:
        with _run_host(args) as (host, route):
            try:
                board = make_board(state_dir=args.state, route=route)
                if args.lang:
                    _store_language(board.storage, args.lang, err)
                if host is not None and args.state is not None:
                    _new_host(board.storage)
                if host is not None:
                    _share_receipt_key(host, board)
            except (OSError, HalError) as e:
                # The key store reports a failing disk as HalError; the OSError is its context.
                cause = e if isinstance(e, OSError) else e.__context__
                if args.state is None or not isinstance(cause, OSError):
                    raise
                raise Refused(f"cannot use --state {args.state}: {_reason(cause, args.state)}") from None
            try:
                yield board, host, route
            finally:
                unwrap(board.link).close()
    finally:
        if lock is not None:
            os.close(lock)


def _share_receipt_key(host, board):
    """The embedded host learns the terminal's receipt public key at start, as it shares the TMK
    (provisioning): it verifies every uploaded receipt with it (docs/RECEIPT.md)."""
    key = board.signer.public_key()
    host.acquirer.receipt_keys[provision.DEFAULT_TERMINAL] = key
    tid = Params.load(board.storage).terminal_id  # one the administrator set instead (None: lost)
    if tid:
        host.acquirer.receipt_keys[tid] = key


def _new_host(storage):
    """The embedded host of this run is a new process of the acquirer: it has no working keys (it
    keeps them in RAM only, docs/HOST.md) and would answer the terminal's first MAC A0. So a stored
    terminal is told to sign in first, as the firmware itself does after a MAC failure. Records the
    journal cannot load are left to the terminal's boot to report."""
    try:
        journal = Journal(storage)
    except Exception:  # noqa: BLE001 - damaged records: the boot reports them, not the simulator
        return
    journal.need_sign_in()


def _scenario(board, out, host, route, headers=True):
    """The scenario runner on board, whose reboots keep the run's host and route."""
    boards = functools.partial(make_board, route=route)
    return scenario.Scenario(board, out, make_board=boards, headers=headers, host=host, route=route)


def _read_script(path):
    if path == "-":
        if sys.stdin is None:
            raise Refused("cannot read the script from standard input: it is closed")
        source, data = "standard input", sys.stdin.buffer.read()
    else:
        source = path
        with open(path, "rb") as f:
            data = f.read()
    return _decode(data, source)


def run_script(args, out, err):
    try:
        text = _read_script(args.script)
    except OSError as e:
        name = "standard input" if args.script == "-" else args.script
        raise Refused(f"cannot read {name}: {e.strerror or e}") from None
    try:
        steps = scenario.parse(text)
    except scenario.ScriptError as e:
        err.write(f"{e}\n")
        return 2
    with _opened_board(args, err) as (board, host, route):
        try:
            sc = _scenario(board, _Discard() if args.quiet else out, host, route)
        except scenario.Crashed as e:
            scenario.report(e, err, board.display, args.debug)
            return e.exit_code
        return scenario.run(steps, sc, err, args.debug)


def _interactive_step(lineno, line):
    """Like scenario.parse_line, but a line that does not start with a verb is read as keys."""
    words = scenario.split_words(line)
    if words and words[0].lower() not in scenario.VERBS and not words[0].startswith("#"):
        line = "key " + line
    return scenario.parse_line(lineno, line)


def _typed_lines(out):
    """The lines typed at the prompt, without their newline; a first line's byte order mark is
    dropped. From a terminal through input() (line editing, history); from a pipe or a file as
    bytes, each line decoded as UTF-8 on its own, so the lines before a bad byte still run.
    Refused at a line that is not text."""
    tty = sys.stdin.isatty() and sys.stdout is not None
    if tty:
        import readline  # noqa: F401 - line editing and history for input()
    lineno = 0
    while True:
        lineno += 1
        if tty:
            not_text = Refused(f"cannot read standard input: line {lineno} is not text in its encoding")
            try:
                line = input("> ")
            except EOFError:
                return
            except UnicodeDecodeError:  # the terminal's encoding, decoded strictly
                raise not_text from None
            if any("\ud800" <= ch <= "\udfff" for ch in line):  # decoded with surrogateescape (UTF-8 mode)
                raise not_text
        else:
            out.write("> ")
            out.flush()
            raw = sys.stdin.buffer.readline()
            if not raw:
                return
            line = _decode(raw, "standard input", lineno).removesuffix("\n").removesuffix("\r")
        yield line.removeprefix("\ufeff") if lineno == 1 else line


def interactive(args, out, err):
    if sys.stdin is None:
        raise Refused("cannot read standard input: it is closed")
    with _opened_board(args, err) as (board, host, route):
        try:
            sc = _scenario(board, out, host, route, headers=False)
        except scenario.Crashed as e:
            scenario.report(e, err, board.display, args.debug)
            return e.exit_code
        for lineno, line in enumerate(_typed_lines(out), 1):
            command = line.strip(" \t").lower()
            if command in ("quit", "exit"):
                return 0
            if command == "help":
                out.write(HELP)
                continue
            try:
                step = _interactive_step(lineno, line)
                if step is not None:
                    sc.do(step)
            except scenario.ScriptError as e:
                err.write(f"{e}\n")
            except scenario.Failure as e:
                scenario.report(e, err, sc.board.display, args.debug)
                if isinstance(e, scenario.Crashed):
                    err.write("(type reboot to power-cycle the terminal)\n")
        out.write("\n")
        return 0


def app_or_lines(args, out, err):
    """The full-screen app (sim/app.py) at a terminal; the line mode where it cannot run, saying
    why unless nobody is at a terminal (input and output piped: a script, silently)."""
    try:
        from sim import app
    except ImportError as e:  # textual missing: make venv installs it
        why = f"the full-screen app needs {e.name} (make venv installs it)"
    else:
        why = app.cannot_run()
        if why is None:
            return app.run(args, _opened_board, HOST_DIR_SUFFIX, err)
    if why:
        err.write(f"sim: {why}: the line mode instead (`help` lists the steps)\n")
    if args.fresh:
        raise Refused("--fresh is the full-screen app's (the line mode keeps nothing without --state)")
    return interactive(args, out, err)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    if not argv or argv[0] not in ("run", "interactive", "app", "-h", "--help"):
        argv.insert(0, "app")  # `python -m sim [--state DIR] [--lang L]`
    args = _parser().parse_args(argv)
    command = {"run": run_script, "interactive": interactive}.get(args.command, app_or_lines)
    out = sys.stdout if sys.stdout is not None else _Discard()  # None: the stream was closed
    err = sys.stderr if sys.stderr is not None else _Discard()
    try:
        return command(args, out, err)
    except KeyboardInterrupt:
        err.write("\n")
        return 130
    except BrokenPipeError:  # `python -m sim run x | head`: the reader left, nothing to report
        sys.stdout = None
        return 0
    except (Refused, OSError, HalError) as e:  # no way to run, or a damaged state directory
        err.write(f"sim: {scenario.printable(str(e))}\n")
        return 2
    except Exception as e:  # noqa: BLE001 - a bug in the simulator itself: still no traceback unless asked
        if args.debug:
            traceback.print_exc()
        err.write(
            f"sim: internal error: {scenario.printable(f'{type(e).__name__}: {e}')} (--debug shows where)\n"
        )
        return 3


if __name__ == "__main__":
    sys.exit(main())
