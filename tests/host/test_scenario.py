# The scenario runner (sim/scenario.py) and its command line (python -m sim): the parser, the example
# scripts, exit codes, --state across processes, interactive mode. Host tier: CPython only.

import io
import subprocess
import sys
from pathlib import Path

import pytest

from firmware.params import Params
from firmware.store import pack
from firmware.ui.widgets import Screen
from hal import contracts
from hal.console import NoSignaturePad
from sim import scenario, signatures
from sim.__main__ import HELP, main
from sim.board import make_board
from sim.checked import UndeclaredCapability
from tests.portable import conformance
from virtual.devices import VirtualKeypad
from virtual.storage import TEAR_ALL_BUT_ONE, TEAR_HALF, TEAR_MODES, TEAR_NONE

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = sorted((ROOT / "tests" / "scenarios").glob("*.txt"))


def parse_one(line):
    (step,) = scenario.parse(line)
    return step


def parse_error(text):
    with pytest.raises(scenario.ScriptError) as info:
        scenario.parse(text)
    return info.value


def sim(*args, stdin=""):
    """python -m sim in a child process, as a tester runs it."""
    command = [sys.executable, "-m", "sim", *args]
    return subprocess.run(command, cwd=ROOT, input=stdin, capture_output=True, text=True, timeout=60)


# ---- Parser ----------------------------------------------------------------------------------


def test_parse_every_verb():
    text = "\n".join(
        [
            "key 1 2 3 ENTER",
            "swipe debit",
            "scan  https://qr.example/pay?x=1 2 ",
            "sign",
            "sign none",
            "wait 2.5",
            "expect ¥1.23",
            "reboot",
        ]
    )
    got = [(s.lineno, s.verb, s.args) for s in scenario.parse(text)]
    assert got == [
        (1, "key", ("1", "2", "3", "ENTER")),
        (2, "swipe", ("debit",)),
        (3, "scan", ("https://qr.example/pay?x=1 2",)),
        (4, "sign", ()),
        (5, "sign", ("none",)),
        (6, "wait", (2.5,)),
        (7, "expect", ("¥1.23",)),
        (8, "reboot", ()),
    ]


def test_parse_keys_any_case_and_digit_runs():
    assert parse_one("KEY 123 enter Clear 0").args == ("1", "2", "3", "ENTER", "CLEAR", "0")
    assert parse_one("key\tfunc up down cancel").args == ("FUNC", "UP", "DOWN", "CANCEL")


def test_parse_skips_comments_and_blank_lines_but_keeps_line_numbers():
    steps = scenario.parse("# a comment\n\n   \n  # indented comment\nreboot\n")
    assert [(s.lineno, s.text) for s in steps] == [(5, "reboot")]


def test_parse_keeps_expect_text_as_written():
    assert parse_one("expect   Swipe, insert or tap  ").args == ("Swipe, insert or tap",)
    assert parse_one("expect #1").args == ("#1",)


@pytest.mark.parametrize(
    "line, message",
    [
        ("press 1", 'unknown verb "press"'),
        ("key", "key needs at least one key name"),
        ("key 1 OK", 'unknown key "OK"'),
        ("key 1 # one", 'unknown key "#"'),
        ("key ¹", 'unknown key "¹"'),
        ("swipe", "exactly one card name"),
        ("tap debit visa", "exactly one card name"),
        ("insert no_such_card", "no_such_card"),
        ("scan", "needs a text"),
        ("expect", "needs a text"),
        ("sign twice", 'sign takes nothing or "none"'),
        ("wait", "exactly one number"),
        ("wait 1 2", "exactly one number"),
        ("wait soon", 'bad number of seconds "soon"'),
        ("wait 0", "more than 0"),
        ("wait -5", "more than 0"),
        ("wait nan", "more than 0"),
        ("wait 86401", "at most 86400"),
        ("reboot now", 'takes nothing or "rtc-lost"'),
        ("reboot rtc-lost twice", 'takes nothing or "rtc-lost"'),
        ("clock", "YYYY-MM-DD HH:MM"),
        ("clock 2026-11-22", "YYYY-MM-DD HH:MM"),
        ("clock 2026-02-30 10:00", "YYYY-MM-DD HH:MM"),
        ("clock 1999-12-31 23:59", "2000 to 2099"),
    ],
)
def test_parse_errors_name_the_line(line, message):
    error = parse_error(f"# header\nkey 1\n{line}\nkey 2\n")
    assert error.lineno == 3
    assert message in str(error)
    assert str(error).startswith("line 3: ")


def test_parse_accepts_the_longest_wait():
    assert parse_one("wait 86400").args == (86400.0,)


def test_parse_skips_a_byte_order_mark_and_takes_crlf_lines():
    steps = scenario.parse("\ufeffkey 1\r\n\r\nexpect a\rb\r\n")
    assert [(s.lineno, s.verb, s.args) for s in steps] == [(1, "key", ("1",)), (3, "expect", ("a\rb",))]
    assert parse_error("key 1\n\ufeffkey 2\n").lineno == 2  # only at the start of the text


@pytest.mark.parametrize("odd", ["\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029"])
def test_parse_splits_lines_at_newline_only(odd):
    # Each of these ends a line for str.splitlines(); in a script it is a character like any other.
    steps = scenario.parse(f"expect a{odd}b\nkey 1\n")
    assert [(s.lineno, s.args) for s in steps] == [(1, (f"a{odd}b",)), (2, ("1",))]
    assert parse_error(f"# x{odd}y\nbogus\n").lineno == 2
    # Nor does it separate words or count as blank: only spaces and tabs do.
    unknown = str(parse_error(f"key 1{odd}\n"))
    assert unknown.startswith(f'line 1: key: unknown key "1{scenario.printable(odd)}"'), unknown
    assert parse_error(f"{odd}\n").lineno == 1


def test_parse_words_are_separated_by_spaces_and_tabs_only():
    assert scenario.split_words(" \tkey\t 1  2\u3000\x0c ") == ["key", "1", "2\u3000\x0c"]
    assert scenario.split_words(" \t ") == []


def test_parse_refuses_an_overlong_line_in_one_short_message():
    limit = scenario.MAX_LINE_CHARS
    longest = "expect " + "x" * (limit - 7)
    assert parse_one(longest).args == ("x" * (limit - 7),)
    error = parse_error("# ok\n#" + longest + "\n")
    assert str(error) == f"line 2: line too long: {limit + 1} characters (at most {limit})"
    assert len(str(parse_error("key " + "y" * 5000 + "\n"))) < 120  # the word is quoted cut short


def test_messages_and_trace_escape_what_is_not_printable():
    assert scenario.printable("¥1.23 消费 ok") == "¥1.23 消费 ok"
    assert scenario.printable("a\x1b[2J\tb\x7f\x85\u2028\u202e\U000e0041") == (
        "a\\x1b[2J\\x09b\\x7f\\x85\\u2028\\u202e\\U000e0041"
    )
    assert str(parse_error("key \x1b[2J\n")).startswith('line 1: key: unknown key "\\x1b[2J"')
    sc, out = booted()
    code, err = run_text("scan \x1b]0;owned\x07\nexpect \x1b[2J\n", sc)
    assert code == 1
    assert "-- 1: scan \\x1b]0;owned\\x07\n" in out.getvalue()
    assert err.startswith('line 2: expected "\\x1b[2J" not on screen\n')
    assert "\x1b" not in out.getvalue() + err


# ---- Running on the simulated board ----------------------------------------------------------


def booted(board=None):
    """A scenario on a fresh board (or the one given) with English screens; and its trace."""
    board = board or make_board()
    params = Params.load(board.storage)
    params.language = "en"
    params.save(board.storage)
    out = io.StringIO()
    return scenario.Scenario(board, out), out


def run_text(text, sc):
    err = io.StringIO()
    return scenario.run(scenario.parse(text), sc, err), err.getvalue()


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_example_scripts_pass(script, capsys):
    assert main(["run", "--lang", "en", str(script)]) == 0, capsys.readouterr().err


def test_trace_shows_line_step_and_changed_screens_only():
    sc, out = booted()
    assert run_text("# menu\nkey ENTER\nexpect Main menu\nkey 9\n", sc) == (0, "")
    trace = out.getvalue()
    assert trace.startswith("-- power-on\n")
    assert "-- 2: key ENTER\n" in trace
    assert ">|1 Sale" in trace  # the highlighted row
    assert "-- 3:" not in trace and "-- 4:" not in trace  # screen unchanged: nothing printed


def test_failing_expect_reports_line_and_screen():
    sc, _ = booted()
    code, err = run_text("key ENTER\nexpect Receipt\nkey 1\n", sc)
    assert code == 1
    assert err.startswith('line 2: expected "Receipt" not on screen\n')
    assert "Main menu" in err  # the screen as it was
    assert "Enter amount" not in sc.board.display.snapshot()  # stopped at the failure


def test_expect_is_case_sensitive():
    sc, _ = booted()
    assert run_text("expect enter for menu\n", sc)[0] == 1


def test_card_when_not_asked_for_is_a_note_not_a_failure():
    sc, out = booted()
    assert run_text("swipe debit\nscan 1234\n", sc) == (0, "")
    assert out.getvalue().count("note: card reader not armed: the terminal is not asking for a card") == 2


class SigningScreen(Screen):
    """Stands in for a signing screen (none is built yet): captures and records."""

    def __init__(self, term):
        super().__init__(term)
        self.events = []

    def enter(self):
        if contracts.has(self.term.signature_pad, contracts.CAP_PEN):
            self.term.signature_pad.start(0, 0, 240, 128)

    def leave(self):
        self.term.signature_pad.stop()

    def on_signature(self, event):
        self.events.append(event)

    def render(self, d, rows, cols):
        d.text(0, "Sign here")


def test_sign_draws_then_confirms_and_sign_none_only_confirms():
    sc, out = booted()
    assert run_text("sign\n", sc)[0] == 0
    assert "note: signature pad not active" in out.getvalue()
    drawn = signatures.generate(scenario.SIGN_SEED).points()  # the first `sign` draws the first one
    for line, strokes in (("sign", drawn), ("sign none", [])):
        screen = SigningScreen(sc.terminal)
        sc.terminal.go(screen)
        sc.do(parse_one(line))
        assert screen.events[-1] == (contracts.SIG_CONFIRM, None)
        assert conformance.strokes_of(screen.events[:-1]) == strokes  # point by point, pen-up ends each
        sc.terminal.go_idle()


def test_a_capability_used_without_being_declared_fails_the_run():
    # The recording proxy around every device: the console's pad has no pen, so a screen that
    # starts a capture without asking has() first is a bug the scenario reports as a crash.
    class CarelessScreen(SigningScreen):
        def enter(self):
            self.term.signature_pad.start(0, 0, 240, 100)

    board = make_board()
    board.signature_pad = NoSignaturePad()
    sc, out = booted(board=board)
    sc.terminal.go(SigningScreen(sc.terminal))  # asks has(): fine
    assert run_text("sign\n", sc)[0] == 0 and sc.violations == []
    assert "note: signature pad has no pen on this board" in out.getvalue()
    with pytest.raises(UndeclaredCapability, match="NoSignaturePad: the firmware used 'pen'"):
        sc.terminal.go(CarelessScreen(sc.terminal))
    err = io.StringIO()  # and the run fails at its next step, even had the firmware caught it
    assert scenario.run(scenario.parse("key 1\n"), sc, err) == 3
    assert "UndeclaredCapability" in err.getvalue() and "'pen'" in err.getvalue()
    assert sc.violations and "NoSignaturePad" in sc.violations[0]


class BeeplessKeypad(VirtualKeypad):
    capabilities: tuple = ()
    lacks = {contracts.CAP_BEEP: "no buzzer"}


def test_the_proxy_sees_declared_capabilities_used_and_fails_on_a_caught_violation():
    sc, _ = booted()
    assert run_text("key UP\n", sc)[0] == 0  # an unused key on idle beeps
    assert sc.board.keypad.used == {contracts.CAP_BEEP: 1} and sc.violations == []
    assert sc.board.clock.used == {contracts.CAP_RTC_KEPT_TIME: 1}  # asked once, at power-on
    board = make_board()
    board.keypad = BeeplessKeypad()
    sc, _ = booted(board=board)
    assert run_text("key UP\n", sc)[0] == 0 and sc.violations == []  # has() said no: no beep
    try:
        sc.board.keypad.beep()  # what a careless firmware would do, inside its own except
    except AssertionError:
        pass
    with pytest.raises(scenario.Crashed, match="UndeclaredCapability"):
        sc.do(parse_one("key 1"))


# ---- Secrets typed are echoed as "*" -------------------------------------
class PasswordScreen(Screen):
    """Stands in for an operator's password screen: it takes digits and declares them secret."""

    masked_input = True

    def __init__(self, term):
        super().__init__(term)
        self.typed = ""

    def on_key(self, key):
        self.typed += key if key in "0123456789" else ""
        self.term.redraw()
        return True

    def render(self, d, rows, cols):
        d.text(0, "Password " + "*" * len(self.typed))


def test_a_pin_typed_by_a_key_step_is_echoed_masked_and_never_written(tmp_path, capsys):
    # Once the trace said "-- 10: key 123456 ENTER".
    pin = "123456"  # the debit card's (docs/CARDS.md)
    trace_file = tmp_path / "frames.jsonl"
    assert (
        main(["run", "--lang", "en", "--trace", str(trace_file), str(ROOT / "tests/scenarios/sale_pin.txt")])
        == 0
    )
    trace = capsys.readouterr().out
    assert "-- 5: key ENTER 1 1234 ENTER\n" in trace  # the amount is no secret
    assert "-- 10: key ****** ENTER\n" in trace
    assert pin not in trace
    frames = trace_file.read_text()
    assert frames.count('"hex"') >= 4  # the sign-in and the sale, both ways
    # Frames hold the card number (whose digits happen to include these): the PIN would be there
    # as ASCII digits or as the clear format-0 block; only the block encrypted under the PIN key is.
    from tests.host.test_crypto_cross import ref_pin_block

    for form in (pin.encode().hex(), ref_pin_block(pin, cards_pan("debit")).hex()):
        assert form not in frames.lower(), form


def cards_pan(name):
    from sim import cards

    return cards.DECK[name].track2.split("=")[0]


def test_keys_on_a_screen_that_declares_masked_input_are_echoed_masked():
    sc, out = booted()
    sc.terminal.go(PasswordScreen(sc.terminal))
    assert run_text("key 8 7 6 5 CLEAR 4 ENTER\nkey 98 enter\n", sc) == (0, "")
    trace = out.getvalue()
    assert "-- 1: key * * * * CLEAR * ENTER\n" in trace and "-- 2: key ** enter\n" in trace
    assert sc.terminal.screen.typed == "8765498"  # the screen got every key: only the echo is masked
    sc.terminal.go_idle()
    assert run_text("key ENTER 1 42\n", sc) == (0, "")
    assert "-- 1: key ENTER 1 42\n" in out.getvalue()  # other screens: as written


# The service menu on a fresh simulator: the administrator's factory password, its forced change.
ADMIN = "key ENTER 8 12345678 ENTER 20261207 ENTER 20261207 ENTER ENTER\n"


def test_master_key_components_typed_in_key_entry_are_echoed_masked():
    sc, out = booted()
    script = ADMIN + "key 5 2\nkey {}\nkey enter\nkey {} FUNC 1 ENTER\nexpect Master key loaded\n".format(
        "1" * 32, "2" * 31
    )
    assert run_text(script, sc) == (0, "")
    trace = out.getvalue()
    assert "-- 1: key ENTER 8 ******** ENTER ******** ENTER ******** ENTER ENTER\n" in trace
    assert "-- 2: key 5 2\n" in trace
    assert "-- 3: key {}\n".format("*" * 32) in trace and "-- 4: key enter\n" in trace
    assert "-- 5: key {} * * ENTER\n".format("*" * 31) in trace
    assert "1" * 8 not in trace and "2" * 8 not in trace


def test_echo_masks_the_keys_a_power_cut_kept_from_being_pressed():
    step = parse_one("key 12 34 ENTER")
    assert scenario.echo(step, []) == "key 12 34 ENTER"
    assert scenario.echo(step, [False, False, True]) == "key 12 ** ENTER"
    assert scenario.echo(step, [False, True]) == "key 1* ** ENTER"
    assert scenario.echo(parse_one("expect 1234"), [True]) == "expect 1234"


def test_wait_moves_the_clock():
    sc, _ = booted()
    before = sc.board.clock.time()
    assert run_text("wait 3600\n", sc)[0] == 0
    assert sc.board.clock.time() - before == 3600


def test_clock_sets_the_local_time_in_the_terminal_zone():
    sc, _ = booted()
    assert run_text("clock 2026-11-22 10:30\nexpect 2026-11-22 10:30\n", sc)[0] == 0
    # 10:30 in China (UTC+8) is 02:30 UTC; one second passes so the idle screen refreshes.
    assert sc.board.clock.time() == 1795314600 + 1


def test_reboot_keeps_storage_and_wall_clock_loses_ram():
    sc, _ = booted()
    storage = sc.board.storage
    assert run_text("key ENTER 1 5\nwait 600\nreboot\n", sc)[0] == 0
    assert sc.board.storage is storage
    assert "Enter amount" not in sc.board.display.snapshot()
    assert run_text("expect ENTER for menu\n", sc)[0] == 0  # still English: params came through
    assert sc.board.clock.time() >= make_board().clock.time() + 590


def test_parse_reboot_rtc_lost_in_any_case():
    assert parse_one("reboot rtc-lost").args == ("rtc-lost",)
    assert parse_one("REBOOT RTC-Lost").args == ("rtc-lost",)
    assert parse_one("reboot").args == ()


def test_reboot_rtc_lost_comes_back_at_2000_and_refuses_sales_until_the_clock_is_set():
    sc, out = booted()
    assert run_text("reboot rtc-lost\n", sc)[0] == 0
    assert 946684800 <= sc.board.clock.time() <= 946684802  # 2000-01-01 00:00 UTC
    assert sc.board.clock.kept_time() is False
    assert sc.terminal.clock_valid is False
    assert run_text("expect Clock not set\nkey ENTER 1\nexpect Clock not set\n", sc)[0] == 0
    out.truncate(0)
    assert run_text("insert expired\n", sc)[0] == 0  # the sale never got to ask for a card
    assert "note: card reader not armed" in out.getvalue()
    assert run_text(ADMIN + "key 1 202611291030 ENTER\nexpect Clock set\n", sc)[0] == 0
    assert sc.terminal.clock_valid is True
    sale = "key ENTER CANCEL CANCEL ENTER 1 5 ENTER\ninsert expired\nexpect Card expired\n"
    assert run_text(sale, sc)[0] == 0


def test_a_plain_reboot_keeps_the_clock_it_set_and_not_one_nobody_set():
    sc, _ = booted()
    # Lost, then a plain power cycle before anyone set it: the RTC ran on from 2000, not trusted.
    assert run_text("reboot rtc-lost\nwait 60\nreboot\nexpect Clock not set\n", sc)[0] == 0
    assert 946684860 <= sc.board.clock.time() <= 946684862 and not sc.board.clock.kept_time()
    # Set from the service menu, then a plain power cycle: the battery RTC kept it.
    assert run_text(ADMIN + "key 1 202611291030 ENTER\nreboot\nexpect 2026-11-29 10:30\n", sc)[0] == 0
    assert sc.board.clock.kept_time() is True and sc.terminal.clock_valid is True
    # The scenario's own `clock` step sets the RTC as the service menu does.
    assert run_text("reboot rtc-lost\nclock 2026-11-30 09:00\nreboot\nexpect 2026-11-30 09:00\n", sc)[0] == 0


class BrokenKeypad(contracts.Keypad):
    """A keypad whose driver fails: the firmware's step() lets the error through."""

    def press(self, key):
        self.pressed = key

    def poll(self):
        if getattr(self, "pressed", None):
            raise RuntimeError("keypad bus stuck")
        return None

    def beep(self, ms=60):
        pass


def test_a_crash_in_the_firmware_is_reported_not_raised():
    board = make_board()
    board.keypad = BrokenKeypad()
    sc, _ = booted(board=board)
    err = io.StringIO()
    assert scenario.run(scenario.parse("\nkey 1\n"), sc, err) == 3
    assert err.getvalue().startswith("line 2: the terminal crashed: RuntimeError: keypad bus stuck\n")
    assert "Traceback" not in err.getvalue()
    err = io.StringIO()
    scenario.run(scenario.parse("key 1\n"), sc, err, debug=True)
    assert "Traceback" in err.getvalue()


# ---- Power cuts (cut N [torn MODE]) -----------------------------------------------------------


def test_parse_cut():
    assert parse_one("cut 3").args == (3, TEAR_NONE)
    assert parse_one("cut 12 torn half").args == (12, TEAR_HALF)
    assert parse_one("CUT 1 TORN All-But-1").args == (1, TEAR_ALL_BUT_ONE)
    assert [parse_one("cut 1 torn " + mode).args[1] for mode in TEAR_MODES] == list(TEAR_MODES)
    for line, message in (
        ("cut", "needs a storage operation number"),
        ("cut 1 half", "then optionally torn MODE (none 1 half all-but-1 all)"),
        ("cut 1 torn", "needs a storage operation number"),
        ("cut 1 torn half 2", "needs a storage operation number"),
        ("cut 0", 'bad storage operation number "0" (1 or more)'),
        ("cut -1", 'bad storage operation number "-1"'),
        ("cut ²", 'bad storage operation number "²"'),
        ("cut x torn all", 'bad storage operation number "x"'),
        ("cut 2 torn most", 'unknown tear "most" (none 1 half all-but-1 all)'),
    ):
        error = parse_error(f"key 1\n{line}\n")
        assert str(error).startswith("line 2: cut: ") and message in str(error), (line, str(error))


class TraceScreen(Screen):
    """Stands in for the sale: ENTER hands out a trace number (4 storage
    operations: write counters.tmp, sync, rename, sync), as a sale will."""

    def __init__(self, term):
        super().__init__(term)
        self.handed = []

    def on_key(self, key):
        self.handed.append(self.term.counters.next_trace())
        self.term.redraw()
        return True

    def render(self, d, rows, cols):
        d.text(0, "Trace {}".format(self.handed[-1] if self.handed else "-"))


def trace_screen(sc):
    screen = TraceScreen(sc.terminal)
    sc.terminal.go(screen)
    sc.terminal.settle()
    return screen


def counters_gen(seq, n):
    """The bytes of a generation of the counters record (firmware.store format)."""
    return pack(seq, {"v": 1, "n": n, "batch": 1})


@pytest.mark.parametrize(
    "n, tear, finished",
    [
        (1, "none", False),  # the write of counters.tmp: nothing lands
        (1, "half", False),  # half of it lands: a torn temp file, removed at the next boot
        (1, "1", False),
        (1, "all-but-1", False),
        (2, "all", True),  # its sync: all of it lands, and the boot finishes the write
        (3, "none", True),  # the rename: the temporary file was synced
    ],
)
def test_cut_during_a_step_reboots_and_says_where(n, tear, finished):
    sc, out = booted()
    storage = sc.board.storage
    screen = trace_screen(sc)
    sc.do(parse_one("key ENTER"))
    assert screen.handed == [1]
    assert run_text(f"\n\ncut {n} torn {tear}\nkey ENTER\nexpect ENTER for menu\n", sc) == (0, "")
    assert f"-- 4: key ENTER\nnote: power cut at storage operation {n} of line 4\n" in out.getvalue()
    assert sc.board.storage is storage and sc.terminal.screen is not screen  # rebooted: idle
    # the first hand-out wrote generations 1 and 2; the second goes over the older (.a)
    assert storage.read("counters.b") == counters_gen(2, 1)  # the newer generation survived the cut
    assert "counters.tmp" not in storage.list()  # finished or removed by the boot, never evidence
    assert storage.read("counters.a") == (counters_gen(3, 2) if finished else counters_gen(1, 1))
    assert sc.terminal.counters.trace == (3 if finished else 2)
    assert not [name for name in storage.list() if name.startswith("bad.")]
    storage.write("x", b"1")  # powered on, and the cut is gone with the step
    storage.sync()


def test_cut_after_the_last_operation_completes_the_step_and_disarms():
    sc, out = booted()
    screen = trace_screen(sc)
    # The first hand-out writes the provisioned marker and the counters, two generations each: 16
    # operations.
    assert run_text("cut 17 torn all\nkey ENTER\nkey ENTER\n", sc) == (0, "")
    assert screen.handed == [1, 2]
    trace = out.getvalue()
    assert (
        "-- 2: key ENTER\nnote: power cut at storage operation 17 not reached: line 2 did 16; disarmed\n"
        in trace
    )
    assert "-- 3: key ENTER\nnote" not in trace  # disarmed: the next ENTER was not cut


def test_the_steps_scenarios_md_says_write_storage_do_and_the_others_do_not(tmp_path, capsys):
    # docs/SCENARIOS.md once said no step writes storage; the sale does, from its card read on.
    doc = (ROOT / "docs" / "SCENARIOS.md").read_text(encoding="utf-8")
    assert "no step writes storage" not in doc
    assert "a sale from its card read on" in doc and "a cut before them is not reached" in doc
    script = (
        "cut 1\nwait 5\n"  # 2: nothing written
        "cut 1\nclock 2026-11-22 10:30\n"  # 4
        "cut 1\nlink down\nlink up\n"  # 6
        "cut 1\nkey ENTER 1 1234 ENTER\n"  # 9: the amount: nothing yet
        "cut 1\nexpect Swipe, insert or tap\n"  # 11
        "cut 1\ninsert debit\n"  # 13: the card read writes: cut, reboot
        "key ENTER 1 1234 ENTER\ninsert debit\nexpect Enter PIN\n"
        "cut 1\nkey 123456 ENTER\n"  # 18: the PIN's ENTER writes the transaction ahead
        "expect ENTER for menu\n"
    )
    file = tmp_path / "writes_storage.txt"
    file.write_text(script, encoding="utf-8")
    code = main(["run", "--lang", "en", str(file)])
    trace, err = capsys.readouterr()
    assert code == 0, err
    for line in (2, 4, 6, 9, 11):
        assert f"note: power cut at storage operation 1 not reached: line {line} did 0; disarmed" in trace
    for line in (13, 18):
        assert f"note: power cut at storage operation 1 of line {line}\n" in trace


def test_cut_fires_in_the_boot_of_a_reboot_that_writes():
    # A boot that finds a damaged record renames it to evidence and syncs: a cut there reboots again.
    sc, out = booted()
    storage = sc.board.storage
    storage.write("counters.json", b"{")
    storage.sync()
    assert run_text("cut 1\nreboot\nexpect Stored data damaged\ncut 3\nreboot\n", sc) == (0, "")
    trace = out.getvalue()
    assert "-- 2: reboot\nnote: power cut at storage operation 1 of line 2\n" in trace
    assert (
        "-- 5: reboot\nnote: power cut at storage operation 3 not reached: line 5 did 0; disarmed\n" in trace
    )
    passwords = ("operators.", "attempts.")  # the password table a boot with a security module makes
    kept = [n for n in storage.list() if not n.startswith(passwords)]
    assert kept == ["bad.000001.counters.json", "params.a", "params.b", "provisioned.a", "provisioned.b"]


def test_cut_followed_by_a_step_without_storage_is_not_reached():
    sc, out = booted()
    assert run_text("cut 1\nexpect ENTER for menu\ncut 2\ncut 1 torn all\nwait 1\n", sc) == (0, "")
    trace = out.getvalue()
    assert (
        "-- 2: expect ENTER for menu\nnote: power cut at storage operation 1 not reached: line 2 did 0"
        in trace
    )
    assert "-- 4: cut 1 torn all\nnote: power cut at storage operation 2 not reached: line 4 did 0" in trace
    assert "note: power cut at storage operation 1 not reached: line 5 did 0" in trace


def test_cut_step_disarms_when_the_step_fails():
    sc, _ = booted()
    screen = trace_screen(sc)
    assert run_text("cut 1\nexpect Receipt\n", sc)[0] == 1
    sc.terminal.go(screen)
    sc.do(parse_one("key ENTER"))  # the failed step left no cut armed
    assert screen.handed == [1]


def test_reboot_loses_what_was_not_synced():
    sc, _ = booted()
    sc.board.storage.write("unsynced", b"lost at the power cut")
    assert run_text("reboot\n", sc)[0] == 0
    assert "unsynced" not in sc.board.storage.list()
    assert "cut N [torn MODE]" in HELP


# ---- The command line ------------------------------------------------------------------------


def test_cli_bad_line_exits_2_before_running(tmp_path):
    script = tmp_path / "bad.txt"
    script.write_text("key ENTER\nkey 1\nwait forever\n", encoding="utf-8")
    result = sim("run", str(script))
    assert result.returncode == 2
    assert result.stderr == 'line 3: wait: bad number of seconds "forever"\n'
    assert result.stdout == ""  # nothing ran


def test_cli_failing_expect_exits_1_with_screen():
    result = sim("run", "--lang", "en", "-", stdin="key ENTER\nexpect Settlement done\n")
    assert result.returncode == 1
    assert 'line 2: expected "Settlement done" not on screen' in result.stderr
    assert "Main menu" in result.stderr
    assert "-- 1: key ENTER" in result.stdout


def test_cli_quiet_prints_nothing_on_success():
    result = sim("run", "--quiet", "-", stdin="key ENTER\n")
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


@pytest.mark.parametrize("make_bad", [lambda p: p / "missing.txt", lambda p: p, lambda p: _latin1(p)])
def test_cli_unreadable_script_exits_2_without_traceback(tmp_path, make_bad):
    result = sim("run", str(make_bad(tmp_path)))
    assert result.returncode == 2
    assert result.stderr.startswith("sim: cannot read ")
    assert "Traceback" not in result.stderr


def _latin1(tmp_path):
    path = tmp_path / "latin1.txt"
    path.write_bytes("expect caf\xe9\n".encode("latin-1"))
    return path


def test_cli_usage_errors_exit_2():
    assert sim("run").returncode == 2
    assert sim("run", "--lang", "fr", "x.txt").returncode == 2
    assert sim("fly").returncode == 2


def test_cli_state_persists_across_runs(tmp_path):
    state = tmp_path / "terminal"
    first = sim("run", "--state", str(state), "--lang", "en", "-", stdin="expect ENTER for menu\n")
    assert first.returncode == 0, first.stderr
    assert state.is_dir()
    # No --lang this time: English comes from the parameters stored by the first run.
    second = sim("run", "--state", str(state), "-", stdin="expect ENTER for menu\n")
    assert second.returncode == 0, second.stderr
    # Without --state each run starts fresh, in the default language.
    fresh = sim("run", "-", stdin="expect ENTER for menu\n")
    assert fresh.returncode == 1


def test_interactive_runs_lines_reports_errors_and_ends_on_eof():
    result = sim("--lang", "en", stdin="help\nenter\nbogus\nexpect Receipt\n1 2 3\n")
    assert result.returncode == 0
    assert "Traceback" not in result.stderr
    assert "expect TEXT" in result.stdout  # help
    assert "Main menu" in result.stdout and "¥1.23" not in result.stdout  # "enter" was a key line
    assert "¥0.23" in result.stdout  # "1" opened Sale, then 2 3
    assert 'line 3: key: unknown key "bogus"' in result.stderr
    assert 'line 4: expected "Receipt" not on screen' in result.stderr
    assert result.stdout.endswith("> \n")


def test_interactive_quit():
    result = sim("interactive", stdin="quit\nkey ENTER\n")
    assert result.returncode == 0
    assert "Main menu" not in result.stdout and "主菜单" not in result.stdout


def test_cli_damaged_state_is_reported_not_crashed(tmp_path):
    state = tmp_path / "terminal"
    assert sim("run", "--state", str(state), "-", stdin="wait 1\n").returncode == 0
    key_file = state / "keys" / "signer.key"
    key_file.write_bytes(key_file.read_bytes()[:-1])  # truncated: a fault, never a new key
    result = sim("run", "--state", str(state), "-", stdin="wait 1\n")
    assert result.returncode == 2
    assert "key signer is damaged" in result.stderr
    assert "Traceback" not in result.stderr
    # Damaged records the firmware reads are its own business: it boots and says so.
    key_file.unlink()
    (state / "counters.json").write_text("{")
    result = sim("run", "--state", str(state), "-", stdin="expect 存储数据损坏\n")
    assert result.returncode == 0, result.stderr
