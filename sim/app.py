# The interactive simulator (`make sim`, `python -m sim` at a terminal): a Textual app around the
# scenario runner's terminal. The screen as text cells, the keypad, the card deck, time running in
# real time, the host pane (each message decoded and masked), the host's faults, power. CPython only.
# Every action is a scenario step (sim/scenario.py), so the app adds no way of driving the terminal
# that the scripts do not have, and each new flow of the firmware shows here without new UI code.

import datetime
import os
import shutil
import sys
import time

from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, RichLog, Static

from firmware.card import mask_pan
from firmware.esign import PENDING
from firmware.host import codec
from hal.contracts import CARD_INSERT, CARD_SWIPE, CARD_TAP, LinkError, text_cells
from sim import board as sim_board
from sim import cards, scenario
from sim.checked import unwrap
from sim.host.server import FAULT_KINDS
from sim.link import RoutedTcpLink
from virtual.storage import TEAR_ALL

APP_NAME = "qianpos"
MIN_COLS, MIN_ROWS = 110, 36  # the smallest terminal the app is laid out for (it fits 120 x 40)
FAST_FORWARD_S = 10
TICK_S = 0.05  # how often real time moves the terminal on
PEN_STEP_PX = 4  # the mouse's pen moves a cell at a time: a point every this many pixels between

# The messages by MTI (and F3 where one MTI carries two kinds): what the host pane calls them.
_KINDS = {
    "0800": "sign-in",
    "0820": "network",
    "0220": "refund",
    "0320": "upload",
    "0400": "reversal",
    "0500": "settlement",
}
# Response codes a tester meets with the host simulator (docs/HOST.md), in a few words.
_CODES = {
    "00": "approved",
    "03": "bad merchant",
    "05": "do not honour",
    "12": "invalid",
    "13": "bad amount",
    "14": "bad card",
    "25": "not found",
    "30": "format error",
    "35": "over refund",
    "51": "no funds",
    "54": "expired",
    "55": "wrong PIN",
    "61": "over limit",
    "75": "PIN tries",
    "94": "duplicate",
    "96": "malfunction",
    "98": "no answer",
    "A0": "MAC error",
}
# The fault keys of the app: the docs/HOST.md names, each on a letter.
SCAN_MAX = 512  # the longest text the scanner's window takes (a receipt QR is shorter)
FAULT_KEYS = {
    "no-answer": "n",
    "late": "l",
    "drop": "d",
    "garbage": "g",
    "bad-mac": "m",
    "duplicate": "u",
}
assert tuple(FAULT_KEYS) == FAULT_KINDS


def _kind(msg):
    mti = msg.mti
    if mti in ("0200", "0210"):
        return "void" if msg.get(3, "").startswith("20") else "sale"
    request = mti[:2] + str(int(mti[2]) & ~1) + mti[3]
    if request == "0820":  # one MTI, told apart by F60: 60.1 the type, 60.3 the network code
        f60 = msg.get(60) or ""
        if f60[:2] == "07":
            return "signature"
        return {"002": "sign-off", "301": "echo"}.get(f60[8:11], "network")
    return _KINDS.get(request, "")


def _pan(msg):
    """The card number of a request, masked (first 6 + last 4), from F2 or the track data; ""."""
    pan = msg.get(2)
    if not pan:
        track = msg.get(35) or ""
        pan = track.replace("D", "=").split("=")[0]
    return mask_pan(pan) if isinstance(pan, str) and len(pan) >= 10 and pan.isdigit() else ""


def _money(amount):
    fen = int(amount)
    return "¥{:,}.{:02d}".format(fen // 100, fen % 100)


def describe(msg):
    """One line for a decoded message: MTI, kind, trace, amount, the masked card, F39. Only these
    fields: never F35, F36, F52, F62 or a key, whatever the message carries."""
    parts = [msg.mti, "{:<10}".format(_kind(msg))]
    if msg.get(11):
        parts.append("trace " + msg[11])
    if msg.get(4):
        parts.append(_money(msg[4]))
    pan = _pan(msg)
    if pan:
        parts.append(pan)
    code = msg.get(39)
    if code:
        parts.append("{} {}".format(code, _CODES.get(code, "")).rstrip())
    return " ".join(parts)


class LinkTap:
    """What went over the terminal's link, as the host pane shows it: each request and answer
    decoded and masked (describe), the round trip, an answer that never came. `lines` is the pane's
    text; `now_ms` the clock of the round trips (real time; a test fixes it)."""

    def __init__(self, now_ms=None):
        self.lines = []
        self.now_ms = now_ms or (lambda: time.monotonic_ns() // 1000000)
        self._buffer = b""
        self._sent_at = None

    def add(self, line):
        self.lines.append(line)

    def request(self, data):
        self._buffer = b""
        self._sent_at = self.now_ms()
        self.add("→ " + self._decoded(data))

    def received(self, data):
        self._buffer += data
        while len(self._buffer) >= 2:
            size = 2 + (self._buffer[0] << 8 | self._buffer[1])
            if len(self._buffer) < size:
                return
            frame, self._buffer = self._buffer[:size], self._buffer[size:]
            line = "← " + self._decoded(frame)
            if self._sent_at is not None:
                line += "  {} ms".format(self.now_ms() - self._sent_at)
                self._sent_at = None
            else:
                line += "  (repeated)"
            self.add(line)

    def closed(self, why=""):
        if self._sent_at is not None:
            seconds = (self.now_ms() - self._sent_at) / 1000
            self.add("× no answer: {} after {:.1f} s".format(why or "the terminal closed the link", seconds))
        self._sent_at = None
        self._buffer = b""

    @staticmethod
    def _decoded(frame):
        try:
            return describe(codec.decode(frame))
        except codec.ProtocolError:
            return "a frame that does not decode ({} bytes)".format(len(frame))


class TappedLink(RoutedTcpLink):
    """The board's link (RoutedTcpLink), telling a LinkTap what goes over it."""

    def __init__(self, route, tap):
        super().__init__(route)
        self.tap = tap

    def send(self, data):
        self.tap.request(bytes(data))
        super().send(data)

    def recv(self, max_bytes):
        try:
            data = super().recv(max_bytes)
        except LinkError as e:
            self.tap.closed(str(e))
            raise
        if data:
            self.tap.received(data)
        return data

    def close(self):
        self.tap.closed()
        super().close()


def _tapped(board, route, tap):
    if route is not None:
        unwrap(board.link).close()
        board.link = TappedLink(route, tap)
    return board


class AppScenario(scenario.Scenario):
    """The scenario runner, but in real time: the terminal is never waited for (the app's timer
    moves it on while the host answers), so the screen never freezes."""

    def __init__(self, *args, realtime=False, **kw):
        self.realtime = realtime
        super().__init__(*args, **kw)

    def _await_host(self, where):
        if not self.realtime:
            super()._await_host(where)

    def reset(self):
        """The reset button: RAM is lost, storage keeps what was written (the power stayed on)."""
        self.board.storage.power_cut(TEAR_ALL)
        self._power_cycle("reset")


class _Notes:
    """The runner's output: its notes are kept for the app's message line, the screens dropped."""

    def __init__(self):
        self.notes = []

    def write(self, text):
        if text.startswith("note: "):
            self.notes.append(text[6:].strip())
        return len(text)

    def flush(self):
        pass


class Sim:
    """The terminal of the app and everything around it, without the UI: one scenario (board,
    host, route) driven by steps, the link tap, the status. `realtime`: time runs (tick())."""

    def __init__(self, board, host, route, state=None, realtime=True, now_ms=None):
        self.host = host
        self.route = route
        self.state = state
        self.realtime = realtime
        self.tap = LinkTap(now_ms)
        self.out = _Notes()
        self.message = ""
        self.crashed = None
        self._fates = 0
        self._uploads_seen = None  # (what it was read for, the count) of _uploads()
        self._pen = None  # the pad pixel the mouse's pen last touched, None while it is up
        if realtime:
            board.clock.realtime = True  # ticks follow the PC's monotonic clock from now on
        _tapped(board, route, self.tap)

        def make_board(**kw):
            return _tapped(sim_board.make_board(route=route, realtime=realtime, **kw), route, self.tap)

        self.sc = AppScenario(
            board, self.out, make_board=make_board, headers=False, host=host, route=route, realtime=realtime
        )

    # ---- driving -----------------------------------------------------------------------------
    def step(self, line):
        """Run one scenario line (docs/SCENARIOS.md); its notes or its failure become the message."""
        self.out.notes = []
        try:
            step = scenario.parse_line(0, line)
            if step is not None:
                self.sc.do(step)
            self.message = "; ".join(self.out.notes)
        except scenario.Crashed as e:
            self.crashed = e
            self.message = "{}: press r to reset".format(_short(e))
        except scenario.Failure as e:
            self.message = _short(e)
        except Exception as e:  # noqa: BLE001 - the state directory failing (disk full): a line, never a traceback
            self._stopped(e)

    def _stopped(self, error):
        """Something outside the firmware failed (the state directory, the key store): the terminal
        stops where it is, said in one line; a reset tries again."""
        self.crashed = error
        self.message = scenario.printable(
            "sim: {}: {}: press r to reset, q to quit".format(type(error).__name__, error)
        )

    def key(self, name):
        if self.crashed is None:
            self.step("key " + name)

    def card(self, name, mode):
        self.step("{} {}".format(mode, name))
        if not self.message:
            self.message = "{} {}".format(mode, name)

    def scan(self, text):
        """The QR / barcode scanner reads text (pasted or typed by the user): one line of printable
        characters, else a message and nothing scanned."""
        text = text.strip()
        if not text or not text.isprintable():
            self.message = "scan: one line of printable text, please"
            return
        self.step("scan " + text)
        self.message = self.message or "scanned {} characters".format(len(text))

    def fast_forward(self, seconds=FAST_FORWARD_S):
        self.step("wait {}".format(seconds))
        self.message = self.message or "{} s later".format(seconds)

    def fault(self, kind):
        if kind is None:
            self.step("host clear")
        else:
            self.step("host fault {}".format(kind))
        self.message = self.message or ("host faults cleared" if kind is None else kind + ": next answer")

    def toggle_host(self):
        down = self.route is not None and not self.route.host_down
        self.step("host down" if down else "host up")

    def toggle_link(self):
        down = self.route is not None and not self.route.link_down
        self.step("link down" if down else "link up")

    def pull_plug(self):
        """Power fails: storage keeps what was synced only; the terminal boots again."""
        self.crashed = None
        self.step("reboot")
        self.message = self.message or "the plug was pulled: booted again"

    def reset(self):
        """The reset button: storage keeps everything written; the terminal boots again."""
        self.crashed = None
        self.out.notes = []
        try:
            self.sc.reset()
            self.message = "reset: booted again"
        except scenario.Crashed as e:
            self.crashed = e
            self.message = "{}: press r to reset".format(_short(e))
        except Exception as e:  # noqa: BLE001 - as in step()
            self._stopped(e)

    def pen(self, col, row):
        """The mouse on the terminal's screen at text cell (col, row) with its button down: the pen
        touches the signature pad there, scaled from cells to display pixels (the cell's middle),
        with points every few pixels from the last one so a stroke is a line. Outside the signing
        area the pen is lifted. False when the pad is not capturing (nothing happens)."""
        pad = unwrap(self.sc.board.signature_pad)
        area = pad.area() if self.crashed is None and hasattr(pad, "area") else None
        if area is None:
            self._pen = None
            return False
        display = self.sc.board.display
        rows, cols = display.size()
        width, height = display.pixels()
        x = (2 * col + 1) * width // (2 * cols) - area[0]
        y = (2 * row + 1) * height // (2 * rows) - area[1]
        if not (0 <= x < area[2] and 0 <= y < area[3]):
            self.pen_up()
            return True
        points = [(x, y)]
        if self._pen is not None:
            x0, y0 = self._pen
            steps = max(abs(x - x0), abs(y - y0)) // PEN_STEP_PX
            points = [
                (x0 + (x - x0) * i // (steps + 1), y0 + (y - y0) * i // (steps + 1))
                for i in range(1, steps + 1)
            ]
            points.append((x, y))
        for px, py in points:
            pad.pen_at(px, py)
        self._pen = (x, y)
        self.tick()
        return True

    def pen_up(self):
        """The mouse button is let go: the pen is lifted (the stroke ends), if it was down."""
        if self._pen is None:
            return
        self._pen = None
        pad = unwrap(self.sc.board.signature_pad)
        if hasattr(pad, "pen_up"):
            pad.pen_up()
        self.tick()

    def tick(self):
        """Real time: let the terminal run (countdowns, the host's answers, the idle clock)."""
        if self.crashed is not None:
            return
        try:
            self.sc._settle_at("running")
        except scenario.Crashed as e:
            self.crashed = e
            self.message = "{}: press r to reset".format(_short(e))
        except Exception as e:  # noqa: BLE001 - as in step()
            self._stopped(e)

    # ---- what the app shows ------------------------------------------------------------------
    def screen(self):
        """(rows, highlighted row indexes, cols) of the terminal's display."""
        display = self.sc.board.display
        return display.lines(), display.inverse(), display.size()[1]

    def ink(self):
        """The display's pixels (the signature) scaled to its text grid: {(row, col): a braille
        character, 2 x 4 dots a cell} for each cell with a pixel set; {} on a text-only display."""
        display = unwrap(self.sc.board.display)
        if not hasattr(display, "frame"):
            return {}
        return braille(display.frame(), display.pixels(), display.size())

    def qr(self):
        """The QR code on the terminal's screen, or None: (modules, box), modules read from the
        shown pixels (rows of 0/1, each module's centre pixel) at the box its screen says it drew
        it (a screen's `qr_box`: x, y, pixels a module, modules a side; firmware/ui/keyqr.py)."""
        screen = getattr(self.sc.terminal, "screen", None)
        box = getattr(screen, "qr_box", None)
        display = unwrap(self.sc.board.display)
        if box is None or not hasattr(display, "pixel"):
            return None
        x, y, scale, size = box
        half = scale // 2
        modules = tuple(
            tuple(display.pixel(x + c * scale + half, y + r * scale + half) for c in range(size))
            for r in range(size)
        )
        return modules, box

    def host_lines(self):
        """The host pane: the link tap's lines, with the embedded host's decisions woven in."""
        if self.host is not None:
            history = self.host.history
            for fate in history[self._fates :]:
                if fate.fate != "answered":
                    trace = "" if fate.trace is None else " trace {:06d}".format(fate.trace)
                    self.tap.add("  host: {}{} {}".format(fate.mti or "?", trace, fate.fate))
            self._fates = len(history)
        return self.tap.lines

    def _uploads(self, term):
        """How many e-signatures of the current batch wait for upload (batch journal esign state
        pending, firmware/esign.py), or None without one. Read again only when the terminal showed
        a new screen (or the link's traffic changed): status() runs at every tick."""
        counters = getattr(term, "counters", None)
        if counters is None:
            return None
        shows = getattr(unwrap(self.sc.board.display), "shows", None)
        key = (id(term), shows, counters.batch, term.journal.batch.count, len(self.tap.lines))
        if self._uploads_seen is None or self._uploads_seen[0] != key:
            try:
                count = sum(
                    1
                    for view in term.journal.batch.transactions()
                    if view.get("esign") == PENDING and view.get("batch") == counters.batch
                )
            except (OSError, ValueError, KeyError):
                return None
            self._uploads_seen = (key, count)
        return self._uploads_seen[1]

    def armed_fault(self):
        plan = None if self.host is None else self.host.plan
        if plan is None or (plan.count and plan.left <= 0):
            return None
        return plan.kind

    def status(self):
        term = self.sc.terminal
        parts = []
        counters = getattr(term, "counters", None)
        if counters is not None:
            parts.append("batch {:06d}".format(counters.batch))
        operator = getattr(term, "operator", None)
        parts.append("operator " + operator if operator else "no operator signed in")
        journal = getattr(term, "journal", None)
        if journal is not None:
            parts.append("{} in batch".format(journal.batch.count))
            rev = journal.pending_reversal()
            parts.append("reversal pending: trace {:06d}".format(rev["trace"]) if rev else "no reversal")
            failed = len(journal.failed_reversals())
            if failed:
                parts.append("{} reversal(s) given up".format(failed))
            uploads = self._uploads(term)
            if uploads is not None:
                parts.append("{} signature(s) to upload".format(uploads))
        storage = unwrap(self.sc.board.storage)
        try:
            used = storage.capacity - storage.free()
            parts.append("storage {:.1f} of {} KB".format(used / 1024, storage.capacity // 1024))
        except (AttributeError, OSError):
            pass
        if self.route is None:
            parts.append("offline")
        else:
            parts.append("link down" if self.route.link_down else "link up")
            where = "embedded" if self.host is not None else "{}:{}".format(self.route.ip, self.route.port)
            parts.append("host down" if self.route.host_down else "host " + where)
        return " · ".join(parts)


def braille(frame, pixels, grid):
    """{(row, col): braille character} of the cells of a rows x cols grid over a MONO_HLSB frame
    of width x height pixels that have a pixel set: each cell is 2 x 4 dots, a dot set when any
    pixel under it is."""
    width, height = pixels
    rows, cols = grid
    stride = (width + 7) // 8
    groups = []  # (dot column over the whole grid, mask of its pixels in a frame row)
    for gx in range(2 * cols):
        first, last = gx * width // (2 * cols), (gx + 1) * width // (2 * cols)
        mask = 0
        for x in range(first, last):
            mask |= 1 << (stride * 8 - 1 - x)
        groups.append((gx, mask))
    out = {}
    for y in range(height):
        line = int.from_bytes(frame[y * stride : (y + 1) * stride], "big")
        if not line:
            continue
        gy = y * 4 * rows // height
        dot_row = gy % 4
        for gx, mask in groups:
            if line & mask:
                cell = (gy // 4, gx // 2)
                out[cell] = out.get(cell, 0) | _DOTS[gx % 2][dot_row]
    return {cell: chr(0x2800 + bits) for cell, bits in out.items()}


_DOTS = ((0x01, 0x02, 0x04, 0x40), (0x08, 0x10, 0x20, 0x80))  # braille dot bits by (column, row)

QR_QUIET = 4  # light modules around a QR code on the laptop's screen (ISO 18004's quiet zone)
_HALVES = (" ", "▄", "▀", "█")  # a text cell's two modules (top dark: 2, bottom dark: 1)
QR_STYLE = "#000000 on #ffffff"  # dark on light whatever the theme: what a phone's reader expects


def half_blocks(modules, quiet=QR_QUIET):
    """A QR code's text at one module a column and two module rows a text row (upper and lower
    half blocks), with `quiet` light modules around it: (size + 2 * quiet) columns."""
    size = len(modules)
    side = size + 2 * quiet

    def dark(r, c):
        r -= quiet
        c -= quiet
        return 0 <= r < size and 0 <= c < size and modules[r][c]

    return [
        "".join(_HALVES[2 * bool(dark(r, c)) + bool(dark(r + 1, c))] for c in range(side))
        for r in range(0, side, 2)
    ]


def modules_of(lines):
    """The module rows of half_blocks() text (the quiet zone included): what a reader sees."""
    out = []
    for line in lines:
        top = [1 if ch in "▀█" else 0 for ch in line]
        bottom = [1 if ch in "▄█" else 0 for ch in line]
        out += [top, bottom]
    return out


def _rows_under(box, pixels, rows):
    """The text rows whose pixels meet a QR code at box (with its quiet zone): first, last."""
    x, y, scale, size = box
    height = pixels[1]
    top = y - QR_QUIET * scale
    bottom = y + (size + QR_QUIET) * scale  # exclusive
    first = max(0, top * rows // height)
    last = min(rows - 1, (bottom - 1) * rows // height)
    return first, last


def _short(failure):
    return scenario.printable(str(failure))


# ---- the app -----------------------------------------------------------------------------------

KEYPAD = (
    ("1", "2", "3", "CANCEL"),
    ("4", "5", "6", "CLEAR"),
    ("7", "8", "9", "ENTER"),
    ("FUNC", "0", "UP", "DOWN"),
)
_KEY_LABELS = {"UP": "▲ UP", "DOWN": "▼ DOWN"}
_MODES = ((CARD_SWIPE, "s"), (CARD_INSERT, "i"), (CARD_TAP, "t"))


def _inked(row, i, cols, ink):
    """A text row padded to cols cells, its blank cells showing the ink of the pixels under them."""
    out = []
    cell = 0
    for ch in row:
        out.append(ink.get((i, cell), ch) if ch == " " else ch)
        cell += text_cells(ch)
    for c in range(cell, cols):
        out.append(ink.get((i, c), " "))
    return "".join(out)


class TerminalScreen(Static):
    """The terminal's display: one cell per character, a highlighted row in reverse, the pixels
    (the signature) in braille where no text is. A QR code (qr: Sim.qr()) takes the place of the
    text rows its pixels cover, at a half cell a module with its quiet zone, dark on light, so that
    a phone reads it from the laptop's screen; the widget grows to hold it. The mouse signs on it
    while the pad captures."""

    def show(self, rows, inverse, cols, ink=None, qr=None, pixels=None):
        text = Text()
        first = last = len(rows)
        width = cols
        if qr is not None and pixels is not None:
            blocks = half_blocks(qr[0])
            first, last = _rows_under(qr[1], pixels, len(rows))
            width = max(cols, len(blocks[0]))
        pad = " " * ((width - cols) // 2)
        lines = []
        for i, row in enumerate(rows):
            if first <= i <= last:
                if i == first:
                    lines += [(line, QR_STYLE) for line in blocks]
                continue
            lines.append((pad + _inked(row, i, cols, ink or {}), "reverse" if i in inverse else ""))
        for i, (line, style) in enumerate(lines):
            text.append(line, style=style)
            if i < len(lines) - 1:
                text.append("\n")
        self.update(text)
        shown = first < len(rows)
        self.styles.width = width + 2 if shown else None  # + the border
        self.styles.height = len(lines) + 2 if shown else None

    def _pen(self, event):
        where = event.get_content_offset(self)
        app = self.app
        if where is not None and isinstance(app, SimApp):
            app.pen(where.x, where.y)

    def on_mouse_down(self, event):
        self.capture_mouse()
        self._pen(event)

    def on_mouse_move(self, event):
        if event.button:
            self._pen(event)

    def on_mouse_up(self, event):
        self.capture_mouse(False)
        app = self.app
        if isinstance(app, SimApp):
            app.pen_up()


class ScanScreen(ModalScreen):
    """The scanner's window: paste or type the text of a QR code or barcode, Enter scans it, Esc
    closes the window with nothing scanned."""

    BINDINGS = [Binding("escape", "dismiss", show=False)]

    def compose(self) -> ComposeResult:
        with Vertical(id="scan"):
            yield Static("Scan a QR code: paste or type its text, Enter = scan, Esc = close")
            yield Input(id="scan-text", max_length=SCAN_MAX)

    def on_mount(self):
        self.query_one("#scan").border_title = "Scanner"
        self.query_one("#scan-text", Input).focus()

    def on_input_submitted(self, event: Input.Submitted):
        self.dismiss(event.value)


class SimApp(App):
    """The app. Every key of the keyboard goes to the terminal or to an action: no widget takes
    focus, so ENTER is always the terminal's."""

    TITLE = "QianPOS simulator"
    CSS_PATH = "app.tcss"
    ENABLE_COMMAND_PALETTE = False
    BINDINGS = [
        *[Binding(str(d), "key('{}')".format(d), show=False) for d in range(10)],
        Binding("enter", "key('ENTER')", show=False, priority=True),
        Binding("escape", "key('CANCEL')", show=False),
        Binding("backspace", "key('CLEAR')", show=False),
        Binding("f1", "key('FUNC')", show=False),
        Binding("up,f2", "key('UP')", show=False),
        Binding("down,f3", "key('DOWN')", show=False),
        Binding("c", "next_card(1)", show=False),
        Binding("C", "next_card(-1)", show=False),
        *[Binding(k, "card('{}')".format(m), show=False) for m, k in _MODES],
        Binding("f", "fast_forward", show=False),
        Binding("v", "scan", show=False),
        Binding("w", "sign('')", show=False),
        Binding("e", "sign('none')", show=False),
        *[Binding(k, "fault('{}')".format(kind), show=False) for kind, k in FAULT_KEYS.items()],
        Binding("x", "fault('')", show=False),
        Binding("o", "toggle_host", show=False),
        Binding("k", "toggle_link", show=False),
        Binding("p", "plug", show=False),
        Binding("r", "reset", show=False),
        Binding("q,ctrl+q", "quit", show=False, priority=True),
    ]

    def __init__(self, sim, where=""):
        super().__init__()
        self.sim = sim
        self.where = where  # where the state is kept, said on screen
        self.card_name = next(iter(cards.DECK))
        self._shown_lines = 0
        self._seen = None

    def compose(self) -> ComposeResult:
        with Horizontal(id="main"):
            with Vertical(id="left"):
                with Horizontal(id="top"):
                    yield TerminalScreen(id="screen")
                    yield Static(id="info")
                with Grid(id="keypad"):
                    for row in KEYPAD:
                        for key in row:
                            yield Button(Text(_KEY_LABELS.get(key, key)), id="key-" + key, compact=True)
                with Vertical(id="cards"):
                    with Grid(id="deck"):
                        for name in cards.DECK:
                            yield Button(name, id="card-" + name, compact=True)
                    with Horizontal(id="modes"):
                        for mode, key in _MODES:
                            yield Button(Text("[{}] {}".format(key, mode)), id="mode-" + mode, compact=True)
                        yield Button(Text("[v] scan"), id="scan-open", compact=True)
                    with Horizontal(id="signing"):
                        yield Button(Text("[w] sign for me"), id="sign", compact=True)
                        yield Button(Text("[e] OK unsigned"), id="sign-none", compact=True)
                    yield Static(id="card-info")
            with Vertical(id="right"):
                yield RichLog(id="host", wrap=False, markup=False)
                with Grid(id="faults"):
                    for kind, key in FAULT_KEYS.items():
                        yield Button(Text("[{}] {}".format(key, kind)), id="fault-" + kind, compact=True)
                    yield Button(Text("[x] clear"), id="fault-clear", compact=True)
                with Grid(id="power"):
                    yield Button(Text("[o] host down/up"), id="host-toggle", compact=True)
                    yield Button(Text("[k] link down/up"), id="link-toggle", compact=True)
                    yield Button(Text("[f] +{} s".format(FAST_FORWARD_S)), id="ff", compact=True)
                    yield Button(Text("[p] pull plug"), id="plug", compact=True)
                    yield Button(Text("[r] reset"), id="reset", compact=True)
                    yield Button(Text("[q] quit"), id="quit", compact=True)
                yield Static(id="message")
        yield Static(id="status")
        yield Static(id="hints")

    def on_mount(self):
        for button in self.query(Button):
            button.can_focus = False
            button.active_effect_duration = 0  # else a second click within 0.2 s is lost: "11" typed as "1"
        self.query_one("#screen").border_title = "Terminal"
        self.query_one("#keypad").border_title = "Keypad"
        self.query_one("#cards").border_title = "Cards (docs/CARDS.md)"
        self.query_one("#host", RichLog).border_title = "Host: messages (card data masked)"
        self.query_one("#faults").border_title = "Host faults: the next financial answer"
        self.query_one("#power").border_title = "Network, time, power"
        self.query_one("#hints", Static).update(
            "Keys: 0-9 Enter · Esc=CANCEL · Backspace=CLEAR · F1=FUNC · ↑↓ · f=+{} s · q=quit\n"
            "Cards: c=next · s/i/t=swipe/insert/tap · v=scan · Signing: drag the mouse, Enter=OK"
            " · w=sign for me · e=OK unsigned".format(FAST_FORWARD_S)
        )
        self.refresh_all()
        if self.sim.realtime:
            self.set_interval(TICK_S, self._tick)

    def _tick(self):
        self.sim.tick()
        sim = self.sim
        rows, inverse, _ = sim.screen()
        seen = (
            tuple(rows),
            tuple(inverse),
            len(sim.host_lines()),
            tuple(sorted(sim.ink().items())),
            sim.qr(),
            sim.message,
            sim.status(),
            sim.armed_fault(),
        )
        if seen != self._seen:  # redraw only what real time changed: no work while nothing happens
            self._seen = seen
            self.refresh_all()

    def refresh_all(self):
        sim = self.sim
        rows, inverse, cols = sim.screen()
        qr = sim.qr()
        self.query_one("#main").set_class(qr is not None, "qr")
        pixels = unwrap(sim.sc.board.display).pixels() if qr is not None else None
        self.query_one("#screen", TerminalScreen).show(
            rows, inverse, cols, ink=sim.ink(), qr=qr, pixels=pixels
        )
        log = self.query_one("#host", RichLog)
        lines = sim.host_lines()
        for line in lines[self._shown_lines :]:
            log.write(Text(line))
        self._shown_lines = len(lines)
        card = cards.DECK[self.card_name]
        pan = mask_pan(card.track2.split("=")[0]) if len(card.track2.split("=")[0]) >= 10 else "(unreadable)"
        self.query_one("#card-info", Static).update(
            Text("{} {}\n{}".format(card.name, pan, " ".join(card.modes)))
        )
        for name in cards.DECK:
            self.query_one("#card-" + name, Button).set_class(name == self.card_name, "chosen")
        armed = sim.armed_fault()
        for kind in FAULT_KINDS:
            self.query_one("#fault-" + kind, Button).set_class(kind == armed, "armed")
        route = sim.route
        self.query_one("#host-toggle", Button).set_class(route is not None and route.host_down, "armed")
        self.query_one("#link-toggle", Button).set_class(route is not None and route.link_down, "armed")
        self.query_one("#message", Static).update(Text(sim.message))
        self.query_one("#status", Static).update(Text(sim.status()))
        info = [
            "Time: " + ("real time" if sim.realtime else "stands still"),
            "  f: {} s later".format(FAST_FORWARD_S),
            "",
            "State kept in:",
            self.where or "RAM (nothing kept)",
            "",
            "p pull the plug",
            "r reset · q quit",
        ]
        self.query_one("#info", Static).update(Text("\n".join(info)))

    # ---- actions -----------------------------------------------------------------------------
    def action_key(self, name):
        self.sim.key(name)
        self.refresh_all()

    def action_next_card(self, step):
        names = list(cards.DECK)
        self.card_name = names[(names.index(self.card_name) + step) % len(names)]
        self.refresh_all()

    def action_card(self, mode):
        self.sim.card(self.card_name, mode)
        self.refresh_all()

    def check_action(self, action, parameters):
        # While the scanner's window is open its text box takes every key (Enter and q too)
        return not isinstance(self.screen, ScanScreen)

    def action_scan(self):
        self.push_screen(ScanScreen(), self._scanned)

    def _scanned(self, text):
        if text is not None:
            self.sim.scan(text)
        self.refresh_all()

    def action_fast_forward(self):
        self.sim.fast_forward()
        self.refresh_all()

    def action_sign(self, how):
        """The cardholder signs on the pad (a generated signature, sim/signatures.py) and presses
        OK; how "none": OK with nothing drawn."""
        self.sim.step("sign none" if how else "sign")
        self.refresh_all()

    def pen(self, col, row):
        """The mouse signs on the terminal's screen (Sim.pen); the ink shows as it is drawn."""
        if self.sim.pen(col, row):
            self.refresh_all()

    def pen_up(self):
        self.sim.pen_up()
        self.refresh_all()

    def action_fault(self, kind):
        self.sim.fault(kind or None)
        self.refresh_all()

    def action_toggle_host(self):
        self.sim.toggle_host()
        self.refresh_all()

    def action_toggle_link(self):
        self.sim.toggle_link()
        self.refresh_all()

    def action_plug(self):
        self.sim.pull_plug()
        self.refresh_all()

    def action_reset(self):
        self.sim.reset()
        self.refresh_all()

    def on_button_pressed(self, event: Button.Pressed):
        bid = event.button.id or ""
        what, _, name = bid.partition("-")
        if what == "key":
            self.action_key(name)
        elif what == "card":
            self.card_name = name
            self.refresh_all()
        elif what == "mode":
            self.action_card(name)
        elif what == "fault":
            self.action_fault("" if name == "clear" else name)
        elif what == "sign":
            self.action_sign(name)
        else:
            action = {
                "host-toggle": self.action_toggle_host,
                "link-toggle": self.action_toggle_link,
                "ff": self.action_fast_forward,
                "plug": self.action_plug,
                "reset": self.action_reset,
                "quit": self.exit,
                "scan-open": self.action_scan,
            }.get(bid)
            if action is not None:
                action()


# ---- starting -----------------------------------------------------------------------------------


def cannot_run(stdin=None, stdout=None):
    """Why the full-screen app cannot run here (a sentence), or None. "" when nobody is at a
    terminal at all (input and output both piped): the line mode then says nothing."""
    stdin = sys.stdin if stdin is None else stdin
    stdout = sys.stdout if stdout is None else stdout
    tty_in = stdin is not None and stdin.isatty()
    tty_out = stdout is not None and stdout.isatty()
    if not tty_in and not tty_out:
        return ""
    if not tty_in:
        return "standard input is not a terminal"
    if not tty_out:
        return "standard output is not a terminal"
    if os.environ.get("TERM", "") in ("", "dumb"):
        return "the terminal type (TERM) cannot draw a full screen"
    size = shutil.get_terminal_size((0, 0))
    if size.columns < MIN_COLS or size.lines < MIN_ROWS:
        return "the terminal is {} x {}: the app needs {} x {} at least".format(
            size.columns, size.lines, MIN_COLS, MIN_ROWS
        )
    return None


def default_state():
    """The per-user state directory of the app's terminal (its host's ledger beside it)."""
    import platformdirs

    return os.path.join(platformdirs.user_state_dir(APP_NAME), "terminal")


def fresh(state, host_suffix, now=None):
    """--fresh: the state directory (and its host's ledger, STATE + host_suffix) moved aside, never
    deleted; a new one is made at the start. The name it was moved to, or None if there was none."""
    if not os.path.exists(state):
        return None
    stamp = (now or datetime.datetime.now()).strftime("%Y%m%d-%H%M%S")
    aside = "{}.{}".format(os.path.normpath(state), stamp)
    os.rename(state, aside)
    if os.path.exists(os.path.normpath(state) + host_suffix):
        os.rename(os.path.normpath(state) + host_suffix, aside + host_suffix)
    return aside


def run(args, opened_board, host_suffix, err):
    """The app on a terminal: state in --state DIR or the per-user directory, the host of the run
    (opened_board: sim.__main__'s, which locks DIR and starts the host). Exit code."""
    if args.state is None:
        args.state = default_state()
    moved = fresh(args.state, host_suffix) if args.fresh else None
    with opened_board(args, err) as (board, host, route):
        try:
            sim = Sim(board, host, route, state=args.state)
        except scenario.Crashed as e:
            scenario.report(e, err, board.display, args.debug)
            return e.exit_code
        if moved:
            sim.message = "the old state was moved to " + moved
        SimApp(sim, where=args.state).run()
    return 0


# ---- the picture in README.md (make screenshot) --------------------------------------------------

SHOWN_TIME = 1796608800  # 2026-12-07 02:00 UTC: 10:00 on the terminal (UTC+8), a fixed clock
SHOWN_STATE = "~/.local/state/qianpos/terminal"  # the per-user directory as a Linux user sees it
SALE_KEYS = ("enter", "1", "1", "2", "3", "4", "enter")  # the main menu, sale, ¥12.34


def _steady_ms():
    """A clock for the round trips of a picture or a test: 7 ms each, every time."""
    ticks = iter(range(0, 1 << 62, 7))
    return lambda: next(ticks)


def picture(path, lang="en"):
    """Write an SVG of the app after a signed sale with a PIN (the embedded host, a fixed clock)."""
    import argparse
    import asyncio

    from sim.__main__ import _opened_board  # noqa: PLC0415 - run as a script here, never from there

    args = argparse.Namespace(state=None, lang=lang, host=None, offline=False, trace=None, debug=False)
    with _opened_board(args, sys.stderr) as (board, host, route):
        board.clock.set_time(SHOWN_TIME)
        sim = Sim(board, host, route, realtime=False, now_ms=_steady_ms())
        app = SimApp(sim, where=SHOWN_STATE)

        async def shoot():
            async with app.run_test(size=(120, 40)) as pilot:
                await pilot.press(*SALE_KEYS, "i", *"123456", "enter", "w")  # w: the cardholder signs
                sim.realtime = True  # the picture shows the app as a person runs it
                app.refresh_all()
                await pilot.pause()
                return app.export_screenshot(title="make sim")

        svg = asyncio.run(shoot())
    with open(path, "w", encoding="utf-8") as f:
        f.write(svg)


if __name__ == "__main__":
    picture(sys.argv[1] if len(sys.argv) > 1 else "docs/sim.svg")
