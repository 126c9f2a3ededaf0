# The scenario runner: parses a tester's script and drives a headless terminal with it, step by step.
# CPython only. It touches the firmware only through Terminal(board)/settle() and the board's devices.

import calendar
import datetime
import re
import time
import traceback
from dataclasses import dataclass

from firmware.host.session import CONNECTING, RECEIVING, SENDING
from firmware.params import Params
from firmware.terminal import Terminal
from hal import contracts
from hal.cards import CardSources
from sim import board as sim_board
from sim import cards, signatures
from sim.checked import UndeclaredCapability, checked_board, unwrap
from sim.host.acquirer import clock_of
from sim.host.server import FAULT_KINDS
from virtual.storage import TEAR_MODES, TEAR_NONE, PowerCut

MAX_WAIT_SECONDS = 86400
# Longer lines are refused: room for any real step (the largest QR code holds 7089 digits), while a
# runaway line (a binary file, a missing newline) is one clear error rather than a screenful.
MAX_LINE_CHARS = 8192
VERBS = (
    "key",
    "swipe",
    "insert",
    "tap",
    "scan",
    "sign",
    "wait",
    "clock",
    "expect",
    "reboot",
    "cut",
    "host",
    "link",
    "backoffice",
)
# While the terminal talks to the host, the runner waits in real time (never on the virtual clock)
# for the host's decision and its bytes: at most this long, then the run fails loudly (HostStuck).
HOST_WAIT_S = 30.0
EXTERNAL_WAIT_S = 10.0  # an external host (--host) reports no decisions: its answer is awaited this long
_POLL_S = 0.002
_ACTIVE = (CONNECTING, SENDING, RECEIVING)
_HOLDING = ("withheld", "late")  # fates after which nothing comes until the terminal's timeout

# `sign` draws the generated signatures of sim/signatures.py in turn, from this seed on (the bench
# set's first ones): handwriting-like, Latin and Chinese names, pressure gaps.
SIGN_SEED = signatures.BENCH_SEED * 1000


def printable(text):
    """text with every character that is not printable (controls such as ESC, tab or form feed,
    line and paragraph separators, format characters, unassigned code points) written as a Python
    escape (\\x1b, \\x09 for a tab, \\u2028), so echoing a script line can never drive the terminal."""
    if text.isprintable():
        return text
    out = []
    for ch in text:
        if ch.isprintable():
            out.append(ch)
        elif ord(ch) < 0x100:
            out.append("\\x{:02x}".format(ord(ch)))
        elif ord(ch) < 0x10000:
            out.append("\\u{:04x}".format(ord(ch)))
        else:
            out.append("\\U{:08x}".format(ord(ch)))
    return "".join(out)


class Failure(Exception):
    """Why a script stopped; `exit_code` is what the command-line runner exits with."""

    exit_code = 2


class ScriptError(Failure):
    """A script line that cannot be run: a syntax error, or a card the deck does not have."""

    def __init__(self, lineno, message):
        super().__init__(lineno, message)
        self.lineno = lineno
        self.message = message

    def __str__(self):
        return printable(f"line {self.lineno}: {self.message}")


class ExpectFailed(Failure):
    """An `expect` line whose text is not on the screen."""

    exit_code = 1

    def __init__(self, step):
        super().__init__(step.lineno, step.args[0])
        self.step = step

    def __str__(self):
        return printable(f'line {self.step.lineno}: expected "{self.step.args[0]}" not on screen')


class Crashed(Failure):
    """The firmware raised: a bug in the terminal, not in the script. `error` is what it raised."""

    exit_code = 3

    def __init__(self, where, error):
        super().__init__(where, error)
        self.where = where
        self.error = error

    def __str__(self):
        return printable(f"{self.where}: the terminal crashed: {type(self.error).__name__}: {self.error}")

    def traceback(self):
        return "".join(traceback.format_exception(self.error))


class HostStuck(Failure):
    """The embedded host did not decide a request, or its answer did not reach the terminal, within
    HOST_WAIT_S of real time: a stuck host or runner, never a virtual-clock timeout."""

    exit_code = 3

    def __init__(self, where, what):
        super().__init__(where, what)
        self.where = where
        self.what = what

    def __str__(self):
        return f"{self.where}: {self.what} within {HOST_WAIT_S:g} s of real time"


class BackOfficeRefused(Failure):
    """A `backoffice` line the host's back office refused (sim/host/backoffice.py says why)."""

    exit_code = 1

    def __init__(self, step, why):
        super().__init__(step.lineno, why)
        self.step = step
        self.why = why

    def __str__(self):
        return printable(f"line {self.step.lineno}: the back office refused: {self.why}")


@dataclass(frozen=True, slots=True, repr=False)
class Step:
    """One script line: `verb` with its parsed `args`, `text` as written, `lineno` from 1."""

    lineno: int
    verb: str
    args: tuple
    text: str

    def __repr__(self):
        return f"Step({self.lineno}, {self.verb!r}, {self.args!r})"


# ---- Parsing ---------------------------------------------------------------------------------
# Each function takes the words after the verb and the rest of the line as written, returns the
# step's args, and raises ValueError with a message for the tester.


def _cut(text, limit=40):
    """text as quoted in a message: at most `limit` characters, so an error stays one short line."""
    return text if len(text) <= limit else text[:limit] + "..."


def _key_args(words, rest):
    if not words:
        raise ValueError("key needs at least one key name")
    keys = []
    for word in words:
        if word.isdigit() and word.isascii():
            keys.extend(word)  # "123" = 1 2 3
        elif word.upper() in contracts.KEYS:
            keys.append(word.upper())
        else:
            raise ValueError(f'unknown key "{_cut(word)}" (keys: 0-9 {" ".join(contracts.KEYS)})')
    return tuple(keys)


def _card_args(mode):
    def card_args(words, rest):
        if len(words) != 1:
            raise ValueError("needs exactly one card name from the deck (see docs/CARDS.md)")
        cards.event(words[0], mode)  # ValueError if the deck has no such card, or it cannot be read so
        return (words[0],)

    return card_args


def _text_args(words, rest):
    if not rest:
        raise ValueError("needs a text")
    return (rest,)


def _sign_args(words, rest):
    if words and [w.lower() for w in words] != ["none"]:
        raise ValueError('sign takes nothing or "none"')
    return tuple(w.lower() for w in words)


def _wait_args(words, rest):
    if len(words) != 1:
        raise ValueError("wait needs exactly one number of seconds")
    try:
        seconds = float(words[0])
    except ValueError:
        raise ValueError(f'bad number of seconds "{_cut(words[0])}"') from None
    if not 0 < seconds <= MAX_WAIT_SECONDS:  # also refuses nan
        raise ValueError(f"seconds must be more than 0 and at most {MAX_WAIT_SECONDS}")
    return (seconds,)


def _clock_args(words, rest):
    try:
        when = datetime.datetime.strptime(rest, "%Y-%m-%d %H:%M")
    except ValueError:
        raise ValueError(f'needs a local date and time as YYYY-MM-DD HH:MM, not "{_cut(rest)}"') from None
    if not 2000 <= when.year <= 2099:
        raise ValueError("the year must be 2000 to 2099")
    return (when,)


def _reboot_args(words, rest):
    if not words:
        return ()
    if [w.lower() for w in words] == ["rtc-lost"]:
        return ("rtc-lost",)
    raise ValueError('takes nothing or "rtc-lost"')


def _cut_args(words, rest):
    """cut N [torn MODE]: (N, the virtual.storage TEAR_* mode, whose values are these words)."""
    usage = "needs a storage operation number, then optionally torn MODE ({})".format(" ".join(TEAR_MODES))
    if len(words) not in (1, 3) or (len(words) == 3 and words[1].lower() != "torn"):
        raise ValueError(usage)
    if not (words[0].isdigit() and words[0].isascii() and int(words[0]) >= 1):
        raise ValueError(f'bad storage operation number "{words[0]}" (1 or more)')
    tear = words[2].lower() if len(words) == 3 else TEAR_NONE
    if tear not in TEAR_MODES:
        raise ValueError(f'unknown tear "{words[2]}" ({" ".join(TEAR_MODES)})')
    return (int(words[0]), tear)


def _host_args(words, rest):
    """host fault KIND [on MTI[,MTI]] [count N] | host clear | host down | host up | host at IP:PORT
    | host unbalance | host balance"""
    low = [w.lower() for w in words]
    if low in (["clear"], ["down"], ["up"], ["unbalance"], ["balance"]):
        return (low[0],)
    if len(low) == 2 and low[0] == "at":
        ip, _, port = words[1].rpartition(":")
        octets = ip.split(".")
        good = len(octets) == 4 and all(o.isdigit() and o.isascii() and int(o) < 256 for o in octets)
        if not good or not (port.isdigit() and port.isascii() and 0 < int(port) < 65536):
            raise ValueError(
                f'"at" takes an IPv4 address and a port such as 10.0.0.5:9000, not "{_cut(words[1])}"'
            )
        return ("at", ip, int(port))
    if len(low) < 2 or low[0] != "fault":
        raise ValueError(
            "takes: fault KIND [on MTI] [count N], clear, down, up, at IP:PORT, unbalance or balance"
        )
    kind = low[1]
    if kind not in FAULT_KINDS:
        raise ValueError(f'unknown fault "{_cut(words[1])}" ({" ".join(FAULT_KINDS)})')
    on, count = None, 1
    options = low[2:]
    if len(options) % 2:
        raise ValueError("fault options go in pairs: on MTI, count N")
    for name, value in zip(options[::2], options[1::2], strict=True):
        if name == "on":
            on = tuple(value.split(","))
            if not all(len(m) == 4 and m.isdigit() and m.isascii() for m in on):
                raise ValueError(f'"on" takes 4-digit MTIs such as 0200, not "{_cut(value)}"')
        elif name == "count":
            if not (value.isdigit() and value.isascii()) or int(value) > 1000:
                raise ValueError(f'bad count "{_cut(value)}" (0 = every one, at most 1000)')
            count = int(value)
        else:
            raise ValueError(f'unknown fault option "{_cut(name)}" (on, count)')
    return ("fault", kind, on, count)


def _backoffice_args(words, rest):
    """backoffice submit USER RRN MMDD FEN REASON | backoffice approve USER | backoffice reject USER"""
    low = [w.lower() for w in words]
    if len(words) == 6 and low[0] == "submit":
        user, rrn, mmdd, fen, reason = words[1:]
        if not (fen.isdigit() and fen.isascii()):
            raise ValueError(f'the amount is in fen, a whole number: "{_cut(fen)}"')
        return ("submit", user, rrn, mmdd, fen, low[5])
    if len(words) == 2 and low[0] in ("approve", "reject"):
        return (low[0], words[1])
    raise ValueError("takes: submit USER RRN MMDD FEN REASON, approve USER or reject USER")


def _link_args(words, rest):
    low = [w.lower() for w in words]
    if low not in (["down"], ["up"]):
        raise ValueError('takes "down" or "up"')
    return (low[0],)


_ARGS = {
    "host": _host_args,
    "link": _link_args,
    "backoffice": _backoffice_args,
    "key": _key_args,
    "swipe": _card_args(contracts.CARD_SWIPE),
    "insert": _card_args(contracts.CARD_INSERT),
    "tap": _card_args(contracts.CARD_TAP),
    "scan": _text_args,
    "sign": _sign_args,
    "wait": _wait_args,
    "clock": _clock_args,
    "expect": _text_args,
    "reboot": _reboot_args,
    "cut": _cut_args,
}


_BLANKS = " \t"
_WORD_SEPARATORS = re.compile("[ \t]+")


def split_words(text):
    """The words of text, separated by spaces and tabs only: other white space (form feed, U+2028,
    U+3000...) is an ordinary character of a word, as it is to an editor."""
    text = text.strip(_BLANKS)
    return _WORD_SEPARATORS.split(text) if text else []


def parse_line(lineno, line):
    """Return the Step for one script line (without its newline), or None for a blank line or a
    comment. Only spaces and tabs separate words or count as blank."""
    if len(line) > MAX_LINE_CHARS:
        raise ScriptError(lineno, f"line too long: {len(line)} characters (at most {MAX_LINE_CHARS})")
    text = line.strip(_BLANKS)
    if not text or text.startswith("#"):
        return None
    verb, rest = (_WORD_SEPARATORS.split(text, 1) + [""])[:2]
    verb = verb.lower()
    if verb not in _ARGS:
        raise ScriptError(lineno, f'unknown verb "{_cut(verb)}" (verbs: {" ".join(VERBS)})')
    try:
        args = _ARGS[verb](split_words(rest), rest)
    except ValueError as e:
        raise ScriptError(lineno, f"{verb}: {e}") from None
    return Step(lineno, verb, args, text)


def script_lines(text):
    """The lines of a script's text: a leading byte order mark is dropped, lines end at a newline
    only ("\\r\\n" too), never at the other breaks str.splitlines() knows (form feed, \\x1c-\\x1e, \\x85,
    U+2028, U+2029): the line numbers are those of `grep -n`."""
    if text.startswith("\ufeff"):
        text = text[1:]
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()  # the newline that ends the last line does not start another
    return [line[:-1] if line.endswith("\r") else line for line in lines]


def parse(text):
    """Return the steps of a whole script; ScriptError at the first bad line."""
    steps = []
    for lineno, line in enumerate(script_lines(text), 1):
        step = parse_line(lineno, line)
        if step is not None:
            steps.append(step)
    return steps


# ---- Running ---------------------------------------------------------------------------------


_SHOWN_WHEN_MASKED = ("ENTER", "CANCEL", "CLEAR")  # say nothing of a secret: every other key is "*"


def masked_input(terminal):
    """True while what is typed is a secret, so the runner echoes it as "*": the board's PIN entry
    owns the keypad (a PIN, or the master key's components in key entry), or the terminal's screen
    declares `masked_input = True` (firmware/ui/widgets.py's Screen: a password screen). The one place that
    decides what the trace shows of a key step (echo())."""
    pin_entry = terminal.pin_entry
    if pin_entry is not None and pin_entry.active():
        return True
    return getattr(terminal.screen, "masked_input", False) is True


def echo(step, masked):
    """The step as the trace shows it: in a key step, each key pressed while masked_input() was
    true (masked[i] for the i-th key) is "*", but ENTER, CANCEL and CLEAR; a key never pressed (a
    power cut stopped the step) is masked as the one before it was."""
    if step.verb != "key" or not any(masked):
        return step.text
    words = split_words(step.text)
    shown = [words[0]]
    i = 0
    for word in words[1:]:
        keys = list(word) if word.isdigit() and word.isascii() else [word]
        out = ""
        for key in keys:
            hidden = masked[i] if i < len(masked) else masked[-1]
            out += "*" if hidden and key.upper() not in _SHOWN_WHEN_MASKED else key
            i += 1
        shown.append(out)
    return " ".join(shown)


def _printable_screen(snapshot):
    """A display snapshot ready to print: each row made printable, one newline at the end."""
    return "".join(printable(row) + "\n" for row in snapshot.rstrip("\n").split("\n"))


def screen_text(display):
    """The screen as expect sees it: the text rows joined with newlines."""
    return "\n".join(display.lines())


class Scenario:
    """A terminal booted on `board`, driven one step at a time; prints to `out` the step and the
    screen each time the screen changed. `make_board` supplies the fresh devices of a reboot.
    Every device is behind a sim.checked.CheckedDevice: a capability the firmware uses without its
    device declaring it fails the step as a crash (`violations` lists them)."""

    def __init__(self, board, out, make_board=sim_board.make_board, headers=True, host=None, route=None):
        self.host = host  # the embedded sim.host.server.Host of the run, or None
        self.route = route  # the sim.link.Route the board's link uses, or None (offline)
        self.violations = []
        self._proxies = {}
        self.board = checked_board(board, self.violations, self._proxies)
        self.out = out
        self.make_board = make_board
        self.headers = headers
        self.terminal = None
        self._shown = None
        self._cut = None  # the args of a `cut` step, for the step after it
        self._masked = []  # per key of the running key step: typed while masked_input() was true
        self.signed = []  # the sim.signatures.Signature each `sign` step drew, in turn
        self._rtc_lag = 0  # how far the RTC is behind the run's time while it holds a time nobody set
        if host is not None:
            host.set_clock(clock_of(self.run_time))  # the host lives in the run's time
        self._boot("power-on")
        self._report(None, ())

    def do(self, step):
        """Run one step. Raises ExpectFailed or Crashed."""
        cut, self._cut = self._cut, None
        self._masked = []
        if cut is None:
            notes = getattr(self, "_do_" + step.verb)(step)
        else:
            notes = self._do_cut_in(step, *cut)
        self._report(step, notes)

    def screen(self):
        return self.board.display.snapshot()

    def run_time(self):
        """The run's time (Unix seconds), the embedded host's clock: the terminal's wall clock as
        `clock` and `wait` move it; while its RTC holds a time nobody set (`reboot rtc-lost`), the
        time it would show had it kept it."""
        clock = unwrap(self.board.clock)
        return clock.time() + (0 if getattr(clock, "rtc_set", True) else self._rtc_lag)

    def keypad(self):
        """The keypad a person presses: the board's virtual keypad, behind the firmware's view of it
        when a PIN entry shares it (then a PIN entry that is active gets the keys, as on a terminal)."""
        return getattr(self.board.keypad, "device", self.board.keypad)

    def _report(self, step, notes):
        snapshot = self.screen()
        changed = snapshot != self._shown
        if (changed or notes) and self.headers:
            self.out.write(
                "-- power-on\n"
                if step is None
                else f"-- {step.lineno}: {printable(echo(step, self._masked))}\n"
            )
        for note in notes:
            self.out.write(f"note: {note}\n")
        if changed:
            self.out.write(_printable_screen(snapshot))
            self._shown = snapshot

    def _boot(self, where):
        try:
            self.terminal = Terminal(self.board)
            self.terminal.settle()
        except Exception as e:  # noqa: BLE001 - whatever escapes the firmware is a bug to report
            raise Crashed(where, e) from None
        self._check_capabilities(where)
        self._await_host(where)

    def _settle(self, step):
        where = f"line {step.lineno}"
        self._settle_at(where)
        self._await_host(where)

    def _settle_at(self, where):
        try:
            self.terminal.settle()
        except Exception as e:  # noqa: BLE001 - as in _boot
            raise Crashed(where, e) from None
        self._check_capabilities(where)

    def _session_state(self):
        """The state of the terminal's host session (read only), or None before its first use."""
        session = getattr(self.terminal, "_session", None)
        return None if session is None else session.state

    def _await_host(self, where):
        """Let the terminal finish talking to the host before the next step: while its session
        connects, sends or waits for an answer, poll it with real short sleeps, the virtual clock
        standing still, until the embedded host has decided every request sent (host.history) and
        either the answer's bytes (or the closed connection) reached the terminal, or the host's
        decision was to hold the answer (no-answer, late: then the terminal's timeout, a `wait`,
        decides). An external host decides unseen: its answer is awaited EXTERNAL_WAIT_S at most."""
        if self.route is None:
            return
        cap = HOST_WAIT_S if self.host is not None else EXTERNAL_WAIT_S
        deadline = time.monotonic() + cap
        while True:
            state = self._session_state()
            if state not in _ACTIVE:
                return
            if state == RECEIVING and self.host is not None:
                history = self.host.history
                if len(history) >= self.route.sent and history and history[-1].fate in _HOLDING:
                    return
            if time.monotonic() > deadline:
                if self.host is None:
                    return
                what = "the host decided nothing" if len(self.host.history) < self.route.sent else "no answer"
                raise HostStuck(where, f"the terminal was {state}: {what}")
            time.sleep(_POLL_S)
            self._settle_at(where)

    def _do_host(self, step):
        what = step.args[0]
        if what in ("down", "up"):
            if self.route is None:
                return ("no host in this run (--offline)",)
            self.route.host_down = what == "down"
            return ()
        if what == "at":
            if self.route is None:
                return ("no host in this run (--offline)",)
            self.route.at = (step.args[1], step.args[2])
            return ()
        if self.host is None:
            return ("no embedded host in this run: its faults cannot be set",)
        if what in ("unbalance", "balance"):  # every settlement's domestic half unbalanced (--unbalance)
            self.host.acquirer.unbalance = what == "unbalance"
        elif what == "clear":
            self.host.clear_faults()
        else:
            _, kind, on, count = step.args
            self.host.set_fault(kind, on=on, count=count)
        return ()

    def _do_backoffice(self, step):
        """A back-office refund (sim/host/backoffice.py) on the embedded host's ledger: submitted
        against a sale of this terminal, or the latest request submitted reviewed by another user."""
        from sim.host import backoffice

        if self.host is None:
            return ("no embedded host in this run: no back office",)
        terminal = Params.load(self.board.storage).terminal_id
        what = step.args[0]

        def act(acquirer):
            db, clock = acquirer.db, acquirer.clock
            if what == "submit":
                _, user, rrn, mmdd, fen, reason = step.args
                evidence = f"scenario line {step.lineno}"
                return backoffice.submit(db, clock, user, rrn, mmdd, terminal, fen, reason, evidence)
            found = db.execute("SELECT MAX(id) FROM backoffice WHERE state='submitted'").fetchone()
            if found is None or found[0] is None:
                raise backoffice.Refused("no back-office refund waits for review")
            return backoffice.review(db, clock, found[0], step.args[1], what == "approve")["id"]

        try:
            number = self.host.call(act)
        except backoffice.Refused as exc:
            raise BackOfficeRefused(step, str(exc)) from None
        return (f"back-office refund {number} {what}{'ted' if what == 'submit' else 'd'}",)

    def _do_link(self, step):
        if self.route is None:
            return ("no link in this run (--offline)",)
        self.route.link_down = step.args[0] == "down"
        self.board.clock.advance(1)  # the once-a-second refresh shows the link's state
        self._settle(step)
        return ()

    def _check_capabilities(self, where):
        """A capability used without being declared fails the run even if the firmware caught it."""
        if self.violations:
            raise Crashed(where, UndeclaredCapability("; ".join(self.violations)))

    def _do_key(self, step):
        keypad = self.keypad()
        for key in step.args:
            self._masked.append(masked_input(self.terminal))  # where this key goes: decided now
            keypad.press(key)
            self._settle(step)
        return ()

    def _present(self, step, event):
        reader = unwrap(self.board.card_reader)
        if isinstance(reader, CardSources):  # the part that reads this mode
            reader = reader.source(event.mode)
        if reader is None or not reader.present(event):
            return ("card reader not armed: the terminal is not asking for a card",)
        self._settle(step)
        return ()

    def _do_card(self, step):
        return self._present(step, cards.event(step.args[0], step.verb))

    _do_swipe = _do_insert = _do_tap = _do_card

    def _do_scan(self, step):
        return self._present(step, cards.scan(step.args[0]))

    def _do_sign(self, step):
        pad = self.board.signature_pad
        if not contracts.has(pad, contracts.CAP_PEN):
            return ("signature pad has no pen on this board",)
        if not pad.active():
            return ("signature pad not active: the terminal is not asking for a signature",)
        if not step.args:  # plain "sign"; "sign none" presses OK on an empty pad
            sig = signatures.generate(SIGN_SEED + len(self.signed))
            self.signed.append(sig)
            for stroke in sig.points():  # the terminal sees each stroke's points as the pen moves
                pad.draw([stroke])
                self._settle(step)
        pad.confirm()
        self._settle(step)
        return ()

    def _do_wait(self, step):
        self.board.clock.advance(step.args[0])
        self._settle(step)
        return ()

    def _do_clock(self, step):
        """Set the wall clock (the RTC, as the service menu does) to a local time in the terminal's zone."""
        tz_minutes = Params.load(self.board.storage).tz_minutes
        self.board.clock.set_time(calendar.timegm(step.args[0].timetuple()) - tz_minutes * 60)
        self.board.clock.advance(1)  # let the once-a-second refresh see it
        self._settle(step)
        return ()

    def _do_expect(self, step):
        if step.args[0] not in screen_text(self.board.display):
            raise ExpectFailed(step)
        return ()

    def _do_reboot(self, step):
        """Power-cycle: storage keeps what was synced (the signing key with it) and the wall clock
        (an RTC) keeps running; every other device starts afresh, as RAM does. `reboot rtc-lost`:
        the RTC lost its power too and comes back at 2000-01-01 00:00 UTC, not kept."""
        self.board.storage.power_cut()
        self._power_cycle(f"line {step.lineno}", rtc_lost=step.args == ("rtc-lost",))
        return ()

    def _power_cycle(self, where, rtc_lost=False):
        """Boot again after the storage lost power: it comes back with what the cut left, every
        other device is new, and the wall clock is kept (unless rtc_lost)."""
        old = self.board
        now = self.run_time()
        unwrap(old.link).close()  # RAM is gone: so is the connection
        old.storage.power_on()
        self.board = checked_board(
            self.make_board(storage=unwrap(old.storage), key_store=unwrap(old.key_store)),
            self.violations,
            self._proxies,
        )
        clock = self.board.clock
        if rtc_lost:
            clock.lose_rtc()
        elif old.clock.rtc_set:
            clock.set_time(old.clock.time())
        else:
            clock.lose_rtc(at=old.clock.time())  # it ran on, but from a time nobody set
        self._rtc_lag = now - unwrap(clock).time()
        self._boot(where)

    def _do_cut(self, step):
        """Arm a power cut for the next step (do() runs it through _do_cut_in)."""
        self._cut = step.args
        return ()

    def _do_cut_in(self, step, n, tear):
        """Run step with the power failing at its n-th storage operation; if it does, reboot as
        `reboot` does. A step that does fewer operations runs whole, and the cut is disarmed."""
        storage = self.board.storage
        storage.cut_at(n, tear)
        start = storage.ops
        try:
            notes = getattr(self, "_do_" + step.verb)(step)
        except PowerCut:
            self._power_cycle(f"line {step.lineno}")
            return (f"power cut at storage operation {n} of line {step.lineno}",)
        finally:
            storage.cut_at(None)  # fired already, or not reached
        done = storage.ops - start
        return (
            *notes,
            f"power cut at storage operation {n} not reached: line {step.lineno} did {done}; disarmed",
        )


def report(failure, err, display=None, debug=False):
    """Write why the script stopped, a crash's traceback only when debugging, then the screen."""
    err.write(f"{failure}\n")
    if debug and isinstance(failure, Crashed):
        err.write(failure.traceback())
    if display is not None:
        err.write(_printable_screen(display.snapshot()))


def run(steps, scenario, err, debug=False):
    """Run steps on a booted scenario; on the first failure report it on `err` and return its
    exit code (1 an expect failed, 3 the terminal crashed); 0 if all passed."""
    for step in steps:
        try:
            scenario.do(step)
        except Failure as e:
            report(e, err, scenario.board.display, debug)
            return e.exit_code
    return 0
