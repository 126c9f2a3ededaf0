# The interactive simulator (sim/app.py), driven by Textual's Pilot as a person would: keys, clicks,
# the host pane, the status line; its main screens against committed snapshots; the line-mode
# fallback of `python -m sim` where the full-screen app cannot run. Host tier.
import argparse
import asyncio
import contextlib
import os
import pty
import re
import select
import subprocess
import sys
import time

import pytest

from sim import app as simapp
from sim import cards
from sim.__main__ import _opened_board
from sim.host.acquirer import OPENING_BALANCE
from tools.mpy_gate import REPO

SNAPSHOTS = os.path.join(os.path.dirname(__file__), "snapshots")
UPDATE = os.environ.get("QIANPOS_SNAPSHOT_UPDATE") == "1"  # rewrite the snapshots (then review the diff)


def _args(state=None, lang="en"):
    return argparse.Namespace(state=state, lang=lang, host=None, offline=False, trace=None, debug=False)


@contextlib.contextmanager
def _sim(state=None, lang="en", realtime=False, at=None):
    """A Sim on the embedded host, as `make sim` opens it; `at` fixes the terminal's clock."""
    with _opened_board(_args(state, lang), sys.stderr) as (board, host, route):
        if at is not None:
            board.clock.set_time(at)
        yield simapp.Sim(board, host, route, state=state, realtime=realtime, now_ms=simapp._steady_ms())


def _screen(sim):
    return "\n".join(sim.screen()[0])


def _pane(sim):
    return "\n".join(sim.host_lines())


def _secrets():
    """Every PAN and track 2 of the deck, in every form a message carries them."""
    out = []
    for card in cards.DECK.values():
        pan = card.track2.split("=")[0]
        out += [pan, card.track2, card.track2.replace("=", "D"), card.pin]
    return [s for s in out if len(s) >= 8]  # a short PIN is a substring of anything; PANs and tracks are not


def _assert_masked(*texts):
    for text in texts:
        flat = text.replace("&#160;", " ")
        for secret in _secrets():
            assert secret not in flat


async def _sell(pilot, pin="123456"):
    await pilot.press(*simapp.SALE_KEYS, "i", *pin, "enter")
    await pilot.pause()


def test_sale_end_to_end_keyboard_and_mouse():
    async def go():
        with _sim() as sim:
            app = simapp.SimApp(sim)
            async with app.run_test(size=(120, 40)) as pilot:
                assert "ENTER for menu" in _screen(sim)
                # The mouse: ENTER and the sale's amount on the drawn keypad.
                for key in ("ENTER", "1", "1", "2", "3", "4", "ENTER"):
                    await pilot.click("#key-" + key)
                assert "¥12.34" in _screen(sim)
                await pilot.click("#card-debit")
                await pilot.click("#mode-insert")
                assert "Enter PIN" in _screen(sim)
                await pilot.press(*"123456", "enter")  # the keyboard: the PIN goes to the PIN entry
                await pilot.pause()
                assert "Cardholder, sign" in _screen(sim)
                await pilot.click("#sign")  # the cardholder signs (the mouse: a drawn signature, OK)
                await pilot.pause()
                screen = _screen(sim)
                assert "Approved" in screen and "Trace 000002" in screen
                pane = _pane(sim)
                assert "→ 0800 sign-in" in pane
                assert "→ 0200 sale       trace 000002 ¥12.34 621700*********5675" in pane
                assert "← 0210 sale       trace 000002 ¥12.34 00 approved  7 ms" in pane
                assert "no reversal" in sim.status() and "batch 000001" in sim.status()
                assert "1 in batch" in sim.status() and "no operator signed in" in sim.status()
                _assert_masked(pane, _screen(sim), app.export_screenshot())

    asyncio.run(go())


def _braille(text):
    return sum(1 for ch in text if 0x2800 < ord(ch) <= 0x28FF)


def test_signing_with_the_mouse_uploads_the_drawn_signature():
    from firmware import jbigdec
    from firmware.sigfile import name_key, unpack_image

    async def go():
        with _sim() as sim:
            app = simapp.SimApp(sim)
            async with app.run_test(size=(120, 40)) as pilot:
                await pilot.press(*simapp.SALE_KEYS, "i", *"123456", "enter")
                await pilot.pause()
                assert "Cardholder, sign" in _screen(sim)
                before = _braille(app.export_screenshot())
                # The pen: down on the screen's row 6 (offset 1 is the border), across, up; a second stroke.
                await pilot.mouse_down("#screen", offset=(3, 7))
                for x in range(4, 18):
                    await pilot.hover("#screen", offset=(x, 7 + x % 3))
                await pilot.mouse_up("#screen", offset=(18, 8))
                await pilot.mouse_down("#screen", offset=(10, 6))
                await pilot.hover("#screen", offset=(10, 9))
                await pilot.mouse_up("#screen", offset=(10, 9))
                await pilot.pause()
                assert "Cardholder, sign" in _screen(sim)  # still signing: the ink is on the screen
                assert _braille(app.export_screenshot()) > before + 10
                await pilot.press("enter")  # OK
                await pilot.pause()
                screen = _screen(sim)
                assert "Approved" in screen and "Trace 000002" in screen
                pane = _pane(sim)
                assert "→ 0820 signature  trace 000002 ¥12.34" in pane
                assert "← 0830 signature  trace 000002 ¥12.34 00 approved" in pane
                assert "0 signature(s) to upload" in sim.status()
                _assert_masked(pane, _screen(sim), app.export_screenshot())
                storage = sim.sc.board.storage
                names = [n for n in storage.list() if name_key(n) == (1, 2)]
                assert len(names) == 1
                image, _ = unpack_image(storage.read(names[0]))
                assert image.hex() not in pane  # F62 never shows
                width, height, bitmap = jbigdec.decode(image)
                assert any(bitmap), "the uploaded image is blank"

    asyncio.run(go())


def test_the_status_line_counts_the_signatures_waiting_for_upload():
    async def go():
        with _sim() as sim:
            app = simapp.SimApp(sim)
            async with app.run_test(size=(120, 40)) as pilot:
                await _sell(pilot)
                assert "Cardholder, sign" in _screen(sim)
                assert "0 signature(s) to upload" in sim.status()
                await pilot.press("k", "w")  # the link goes down, then the cardholder signs
                await pilot.pause()
                pane = _pane(sim)
                assert "0820 signature" not in pane
                assert "1 signature(s) to upload" in sim.status()
                assert "1 signature(s) to upload" in str(app.query_one("#status", simapp.Static).render())

    asyncio.run(go())


def test_lost_answer_times_out_and_its_reversal_clears():
    async def go():
        with _sim() as sim:
            app = simapp.SimApp(sim)
            async with app.run_test(size=(120, 40)) as pilot:
                await pilot.press("n")  # no-answer on the next financial answer
                assert sim.armed_fault() == "no-answer"
                assert app.query_one("#fault-no-answer").has_class("armed")
                await _sell(pilot)
                assert "Waiting for host" in _screen(sim) and "30 s" in _screen(sim)
                assert "host: 0200 trace 000002 withheld" in _pane(sim)
                assert "reversal pending: trace 000002" in sim.status()
                assert sim.armed_fault() is None  # it hit its one answer
                await pilot.press("f", "f")
                assert "10 s" in _screen(sim)  # the countdown: 30 s less 20
                await pilot.press("f", "f")
                assert "No answer: reversal" in _screen(sim)
                assert "× no answer" in _pane(sim)
                assert "reversal pending: trace 000002" in sim.status()
                await pilot.press("enter")
                await pilot.press("enter", "1", "5", "0", "0", "enter", "i", *"123456", "enter", "w")
                await pilot.pause()
                assert "Approved" in _screen(sim) and "Trace 000003" in _screen(sim)
                pane = _pane(sim)
                assert "→ 0400 reversal   trace 000002 ¥12.34 98" in pane
                assert "← 0410 reversal   trace 000002 ¥12.34 00 approved" in pane
                assert pane.index("0400 reversal") < pane.index("0200 sale       trace 000003")
                assert "no reversal" in sim.status() and "2 in batch" in sim.status()
                _assert_masked(pane, app.export_screenshot())

    asyncio.run(go())


async def _refund(pilot, sim, fen, reason, password=None):
    """Main menu 3 from the result screen: the supervisor's password (its factory one changed the
    first time), the inserted card, the sale's RRN and date (MMDD: the host's day of it, as on its
    slip), the amount, the reason; stops at the summary."""
    await pilot.press("enter", "enter", "3")
    if password is None:
        await pilot.press(*"123456", "enter", *"202612", "enter", *"202612", "enter")
        await pilot.pause()
        assert "Password changed" in _screen(sim)
        await pilot.press("enter")
    else:
        await pilot.press(*password, "enter")
    await pilot.pause()
    assert "Card to refund to" in _screen(sim)
    day = sim.host.call(lambda a: a.ledger.txns())[0]["day"]
    await pilot.press(
        "i", *"000000000001", "enter", *(day[5:7] + day[8:10]), "enter", *str(fen), "enter", reason
    )
    await pilot.pause()
    assert "Refund it?" in _screen(sim)


def test_refund_resent_after_a_lost_answer_then_not_confirmed():
    """A refund is never reversed: its answer lost, the 0220 is resent with the same trace and the
    host replays the approval (booked once); both answers lost: "Refund not confirmed"."""

    async def go():
        with _sim() as sim:
            app = simapp.SimApp(sim)
            async with app.run_test(size=(120, 40)) as pilot:
                await _sell(pilot)
                await pilot.press("w")  # the cardholder signs the sale
                await pilot.pause()
                await _refund(pilot, sim, 300, "4")
                await pilot.press("n", "enter")  # no-answer on the refund's 0220
                await pilot.pause()
                assert "Waiting for host" in _screen(sim)
                assert "host: 0220 trace 000003 withheld" in _pane(sim)
                await pilot.press("f", "f", "f")  # past the 30 s: the resend, answered at once
                await pilot.pause()
                assert "Cardholder, sign" in _screen(sim) and "¥3.00" in _screen(sim)  # 现场退单: signed
                await pilot.press("w")
                await pilot.pause()
                screen = _screen(sim)
                assert "Refund" in screen and "Approved" in screen and "¥3.00" in screen
                assert "Trace 000003" in screen and "RRN 000000000002" in screen
                pane = _pane(sim)
                assert pane.count("→ 0220 refund     trace 000003 ¥3.00 621700*********5675") == 2
                assert "← 0230 refund     trace 000003 ¥3.00 00 approved" in pane
                assert "no reversal" in sim.status()  # a refund is not reversed

                await _refund(pilot, sim, 200, "1", password="202612")
                await pilot.press("n", "enter")
                await pilot.pause()
                await pilot.press("n", "f", "f", "f")  # the resend's answer lost as well
                await pilot.pause()
                assert "Waiting for host" in _screen(sim)
                await pilot.press("f", "f", "f")
                await pilot.pause()
                screen = _screen(sim)
                assert "Refund not confirmed" in screen and "Trace 000004" in screen
                pane = _pane(sim)
                assert pane.count("host: 0220 trace 000004 withheld") == 2
                assert "← 0230 refund     trace 000004" not in pane
                assert "no reversal" in sim.status()
                _assert_masked(pane, screen, app.export_screenshot())
                # The host booked each refund once: the sale refunded ¥5.00, the card credited so.
                txns = sim.host.call(lambda a: a.ledger.txns())
                assert [(t["kind"], t["trace"], t["amount"]) for t in txns] == [
                    ("sale", 2, 1234),
                    ("refund", 3, 300),
                    ("refund", 4, 200),
                ]
                assert txns[0]["refunded"] == 500
                pan = cards.DECK["debit"].track2.split("=")[0]
                assert sim.host.call(lambda a: a.ledger.balance(pan)) == OPENING_BALANCE - 1234 + 500

    asyncio.run(go())


def test_a_pasted_qr_text_is_scanned_and_the_window_takes_every_key():
    async def run():
        with _sim() as sim:
            app = simapp.SimApp(sim)
            async with app.run_test(size=(120, 40)) as pilot:
                await pilot.press(*simapp.SALE_KEYS)
                await pilot.press("v")
                assert isinstance(app.screen, simapp.ScanScreen)
                await pilot.press("escape")  # closed with nothing scanned: the sale still waits
                assert not isinstance(app.screen, simapp.ScanScreen) and "12.34" in _screen(sim)
                await pilot.press("v", *"qr 1", "enter")  # q, digits and Enter go to the text box
                await pilot.pause()
                assert app.is_running and not isinstance(app.screen, simapp.ScanScreen)
                assert "Code scanned" in _screen(sim) and sim.message == "scanned 4 characters"
                await pilot.press("enter", "v", "enter")  # an empty scan scans nothing
                await pilot.pause()
                assert sim.message == "scan: one line of printable text, please"

    asyncio.run(run())


def test_quit_mid_sale_then_the_next_start_recovers(tmp_path):
    state = str(tmp_path / "terminal")

    async def first():
        with _sim(state) as sim:
            app = simapp.SimApp(sim, where=state)
            async with app.run_test(size=(120, 40)) as pilot:
                await pilot.press("n")
                await _sell(pilot)
                assert "Waiting for host" in _screen(sim)
                await pilot.press("q")  # quit while the terminal waits for the answer
            assert app.return_code in (0, None)

    async def second():
        with _sim(state) as sim:
            app = simapp.SimApp(sim, where=state)
            async with app.run_test(size=(120, 40)) as pilot:
                assert "In doubt: reversal" in _screen(sim)
                assert "reversal pending: trace 000002" in sim.status()
                await pilot.press("enter", "enter", "1", "5", "0", "0", "enter", "i", *"123456", "enter", "w")
                await pilot.pause()
                assert "Approved" in _screen(sim)
                assert "← 0410 reversal   trace 000002 ¥12.34 00 approved" in _pane(sim)
                assert "no reversal" in sim.status()

    asyncio.run(first())
    asyncio.run(second())
    _assert_masked(*(p.read_bytes().decode("latin-1") for p in tmp_path.rglob("*") if p.is_file()))


def test_pull_the_plug_and_reset_boot_again():
    async def go():
        with _sim() as sim:
            app = simapp.SimApp(sim)
            async with app.run_test(size=(120, 40)) as pilot:
                await pilot.press("enter", "1", "5")
                assert "¥0.05" in _screen(sim)
                await pilot.press("p")
                assert "ENTER for menu" in _screen(sim) and "plug" in sim.message
                await pilot.press("enter", "1", "5", "r")
                assert "ENTER for menu" in _screen(sim) and "reset" in sim.message

    asyncio.run(go())


def test_link_and_host_toggles_show_on_the_idle_screen():
    async def go():
        with _sim() as sim:
            app = simapp.SimApp(sim)
            async with app.run_test(size=(120, 40)) as pilot:
                await pilot.press("k")
                assert "Link down" in _screen(sim) and "link down" in sim.status()
                await pilot.press("k", "o")
                assert "host down" in sim.status()
                await pilot.press(*simapp.SALE_KEYS, "i")
                assert "Host unreachable" in _screen(sim)

    asyncio.run(go())


def test_real_time_runs_the_countdown():
    async def go():
        with _sim(realtime=True) as sim:
            app = simapp.SimApp(sim)
            async with app.run_test(size=(120, 40)) as pilot:
                await pilot.press("n")
                await _sell(pilot)
                deadline = time.monotonic() + 10
                while "Waiting for host" not in _screen(sim) and time.monotonic() < deadline:
                    await pilot.pause(0.05)  # the host answers the sign-in while real time runs
                assert "Waiting for host" in _screen(sim)
                shown = re.search(r"(\d+) s", _screen(sim)).group(1)
                await pilot.pause(2.2)
                now = re.search(r"(\d+) s", _screen(sim)).group(1)
                assert int(now) < int(shown)

    asyncio.run(go())


def test_host_pane_describes_without_secrets():
    from firmware.host import codec

    msg = codec.Message("0200", {2: "6217002430012345675", 3: "000000", 4: "000000001234", 11: "000002"})
    msg[35] = "6217002430012345675D311222012345"
    msg[52] = b"\x01" * 8
    line = simapp.describe(msg)
    assert line == "0200 sale       trace 000002 ¥12.34 621700*********5675"
    tap = simapp.LinkTap(now_ms=simapp._steady_ms())
    tap.received(b"\x00\x05abcde")
    assert tap.lines == ["← a frame that does not decode (7 bytes)  (repeated)"]


# ---- the about screen's QR code ----------------------------------------------------------------

# The service menu from idle: the administrator's factory password, its forced change, the message.
ADMIN_KEYS = ("enter", "8", *"12345678", "enter", *"20261207", "enter", *"20261207", "enter", "enter")
WHITE = (255, 255, 255)


def _shown_cells(app, widget):
    """The widget's content region as the app's screen shows it: per row, (character, is the cell
    light-backgrounded) per cell."""
    region = widget.content_region
    rows = []
    for strip in app.screen._compositor.render_strips()[region.y : region.bottom]:
        cells = []
        for seg in strip.crop(region.x, region.right):
            bg = seg.style.bgcolor if seg.style is not None else None
            light = bg is not None and tuple(bg.get_truecolor()) == WHITE
            cells += [(ch, light) for ch in seg.text]
        rows.append(cells)
    return rows


def _read_qr(cells):
    """What a reader gets from the shown QR code: the half blocks back into modules (two a text
    row), an image of them, zxing-cpp's text. Checks the light margin (the quiet zone) first."""
    import zxingcpp
    from PIL import Image

    qr_rows = [row for row in cells if row and all(light for _, light in row)]
    assert qr_rows, "no light-backgrounded QR rows on the screen"
    modules = simapp.modules_of(["".join(ch for ch, _ in row) for row in qr_rows])
    dark = [(r, c) for r, line in enumerate(modules) for c, v in enumerate(line) if v]
    top, bottom = min(r for r, _ in dark), max(r for r, _ in dark)
    left, right = min(c for _, c in dark), max(c for _, c in dark)
    assert top >= simapp.QR_QUIET and left >= simapp.QR_QUIET  # the quiet zone, light
    assert len(modules) - 1 - bottom >= simapp.QR_QUIET and len(modules[0]) - 1 - right >= simapp.QR_QUIET
    assert bottom - top == right - left  # square: one module a column, two a text row
    scale = 4
    img = Image.new("L", (len(modules[0]) * scale, len(modules) * scale), 255)
    for r, c in dark:
        img.paste(0, (c * scale, r * scale, (c + 1) * scale, (r + 1) * scale))
    found = zxingcpp.read_barcodes(img)
    assert len(found) == 1 and found[0].format == zxingcpp.BarcodeFormat.QRCode
    return found[0].text, right - left + 1


def test_about_shows_the_public_key_as_a_qr_code_that_scans():
    from firmware.ui.keyqr import key_text
    from sim.host import receipts

    async def go():
        with _sim() as sim:
            app = simapp.SimApp(sim)
            async with app.run_test(size=(120, 40)) as pilot:
                await pilot.press(*ADMIN_KEYS, "2")
                assert "Signing key ENTER=QR" in _screen(sim)
                widget = app.query_one("#screen")
                before = widget.region
                await pilot.press("enter")
                await pilot.pause()
                assert "Signing public key" in _screen(sim) and sim.qr() is not None
                region = widget.region
                assert region.width > before.width and region.height > before.height  # it grew
                assert region.right <= 120 and region.bottom <= 40 - 3  # above the status and hints
                assert app.query_one("#keypad").region.bottom <= 40 - 3  # the keypad still shown
                cells = _shown_cells(app, widget)
                text, size = _read_qr(cells)
                key = sim.sc.board.signer.public_key()
                assert text == key_text(key) and size == 41
                assert receipts.public_key(text).public_numbers() == receipts.public_key(key).public_numbers()
                lines = ["".join(ch for ch, _ in row) for row in cells]
                assert lines[0].strip() == "Signing public key" and lines[-1].strip() == "Press any key"
                await pilot.press("5")  # any key: back to About, the screen as it was
                await pilot.pause()
                assert "Signing key ENTER=QR" in _screen(sim) and sim.qr() is None
                assert widget.region == before and app.query_one("#cards").display

    asyncio.run(go())


def test_half_blocks_give_back_the_modules():
    modules = ((1, 0, 1), (0, 1, 1), (1, 1, 0))
    lines = simapp.half_blocks(modules, quiet=1)
    assert lines == [" ▄ ▄ ", " ▄█▀ ", "     "]
    back = simapp.modules_of(lines)
    assert [row[1:4] for row in back[1:4]] == [list(r) for r in modules]
    assert back[0] == [0] * 5 and back[4] == [0] * 5 and back[5] == [0] * 5


# ---- snapshots ---------------------------------------------------------------------------------


def _check_snapshot(name, svg):
    path = os.path.join(SNAPSHOTS, name + ".svg")
    if UPDATE or not os.path.exists(path):
        if not UPDATE:
            pytest.fail(f"no snapshot {path}: run with QIANPOS_SNAPSHOT_UPDATE=1 once and commit it")
        os.makedirs(SNAPSHOTS, exist_ok=True)
        with open(path, "w", encoding="utf-8") as f:
            f.write(svg)
        return
    with open(path, encoding="utf-8") as f:
        expected = f.read()
    if svg != expected:
        actual = os.path.join(REPO, "build", "snapshots", name + ".actual.svg")  # build/: not committed
        os.makedirs(os.path.dirname(actual), exist_ok=True)
        with open(actual, "w", encoding="utf-8") as f:
            f.write(svg)
        pytest.fail(f"{name}: the app's screen changed: compare {actual} with {path}")


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_snapshots_of_the_main_screens(lang):
    async def go():
        with _sim(lang=lang, at=simapp.SHOWN_TIME) as sim:
            app = simapp.SimApp(sim, where=simapp.SHOWN_STATE)
            async with app.run_test(size=(120, 40)) as pilot:
                await pilot.pause()
                _check_snapshot(f"idle_{lang}", app.export_screenshot(title="make sim"))
                await pilot.press("enter")
                _check_snapshot(f"menu_{lang}", app.export_screenshot(title="make sim"))
                await pilot.press("1", "1", "2", "3", "4", "enter", "c")
                _check_snapshot(f"card_{lang}", app.export_screenshot(title="make sim"))

    asyncio.run(go())


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_snapshot_of_the_key_qr_code(lang, tmp_path):
    from hal.soft.signer import KEY_NAME
    from sim.board import make_key_store

    # a known receipt key in the state's key store: the same symbol every run
    make_key_store(str(tmp_path)).save(KEY_NAME, (0x51494E_504F53).to_bytes(32, "big"))

    async def go():
        with _sim(state=str(tmp_path), lang=lang, at=simapp.SHOWN_TIME) as sim:
            app = simapp.SimApp(sim, where=simapp.SHOWN_STATE)
            async with app.run_test(size=(120, 40)) as pilot:
                await pilot.press(*ADMIN_KEYS, "2", "enter")
                await pilot.pause()
                _check_snapshot(f"key_qr_{lang}", app.export_screenshot(title="make sim"))

    asyncio.run(go())


def test_the_readme_picture_is_the_app():
    with open(os.path.join(REPO, "README.md"), encoding="utf-8") as f:
        readme = f.read()
    assert "docs/sim.svg" in readme
    with open(os.path.join(REPO, "docs", "sim.svg"), encoding="utf-8") as f:
        svg = f.read()
    assert "Host:" in svg and "Keypad" in svg
    _assert_masked(svg)


# ---- where the app cannot run --------------------------------------------------------------------


class _Stream:
    def __init__(self, tty):
        self.tty = tty

    def isatty(self):
        return self.tty


def test_cannot_run_says_why(monkeypatch):
    assert simapp.cannot_run(_Stream(False), _Stream(False)) == ""
    assert simapp.cannot_run(_Stream(False), _Stream(True)) == "standard input is not a terminal"
    assert simapp.cannot_run(_Stream(True), _Stream(False)) == "standard output is not a terminal"
    monkeypatch.setenv("TERM", "dumb")
    assert "TERM" in simapp.cannot_run(_Stream(True), _Stream(True))
    monkeypatch.setenv("TERM", "xterm-256color")
    monkeypatch.setenv("COLUMNS", "80")
    monkeypatch.setenv("LINES", "24")
    why = simapp.cannot_run(_Stream(True), _Stream(True))
    assert why == f"the terminal is 80 x 24: the app needs {simapp.MIN_COLS} x {simapp.MIN_ROWS} at least"
    monkeypatch.setenv("COLUMNS", "120")
    monkeypatch.setenv("LINES", "40")
    assert simapp.cannot_run(_Stream(True), _Stream(True)) is None


def _env(**more):
    env = dict(os.environ, PYTHONPATH=REPO, TERM="xterm-256color", **more)
    env.pop("PYTEST_CURRENT_TEST", None)
    return env


def test_a_small_terminal_gets_the_line_mode_and_why():
    master, slave = pty.openpty()
    try:
        result = subprocess.run(
            [sys.executable, "-m", "sim", "--lang", "en"],
            input=b"quit\n",
            stdout=slave,
            stderr=subprocess.PIPE,
            cwd=REPO,
            env=_env(COLUMNS="80", LINES="24"),
            timeout=60,
        )
    finally:
        os.close(slave)
        os.close(master)
    assert result.returncode == 0
    assert result.stderr.decode() == (
        "sim: standard input is not a terminal: the line mode instead (`help` lists the steps)\n"
    )


def test_piped_input_keeps_the_silent_line_mode():
    result = subprocess.run(
        [sys.executable, "-m", "sim", "--lang", "en"],
        input=b"key ENTER\nexpect Main menu\nquit\n",
        capture_output=True,
        cwd=REPO,
        env=_env(),
        timeout=60,
    )
    assert (result.returncode, result.stderr) == (0, b"")
    assert "Main menu" in result.stdout.decode()


def test_make_sim_opens_the_app_at_a_terminal_and_q_quits(tmp_path):
    """`python -m sim` on a 120 x 40 terminal: the app draws, keeps its state where asked, quits on q."""
    master, slave = pty.openpty()
    env = _env(COLUMNS="120", LINES="40")
    proc = subprocess.Popen(
        [sys.executable, "-m", "sim", "--lang", "en", "--state", str(tmp_path / "t")],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        cwd=REPO,
        env=env,
        start_new_session=True,
    )
    os.close(slave)
    seen = b""
    try:
        deadline = time.monotonic() + 60
        while b"ENTER for menu" not in seen and time.monotonic() < deadline:
            if select.select([master], [], [], 0.2)[0]:
                try:
                    seen += os.read(master, 65536)
                except OSError:
                    break
        assert b"ENTER for menu" in seen, seen[-2000:]
        os.write(master, b"q")
        deadline = time.monotonic() + 30
        while proc.poll() is None and time.monotonic() < deadline:  # drained, or the app blocks writing
            if select.select([master], [], [], 0.2)[0]:
                try:
                    os.read(master, 65536)
                except OSError:
                    break
        assert proc.wait(timeout=5) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)
    assert (tmp_path / "t").is_dir() and (tmp_path / "t-host" / "ledger.db").exists()


def test_fresh_moves_the_kept_state_aside(tmp_path):
    import datetime

    state = tmp_path / "terminal"
    (state).mkdir()
    (state / "params").write_bytes(b"x")
    (tmp_path / "terminal-host").mkdir()
    when = datetime.datetime(2026, 12, 7, 10, 0, 0)
    aside = simapp.fresh(str(state), "-host", now=when)
    assert aside == str(tmp_path / "terminal.20261207-100000")
    assert (tmp_path / "terminal.20261207-100000" / "params").read_bytes() == b"x"
    assert (tmp_path / "terminal.20261207-100000-host").is_dir()
    assert not state.exists() and simapp.fresh(str(state), "-host") is None


def test_a_failing_state_directory_is_one_line_not_a_traceback(monkeypatch):
    with _sim() as sim:

        def disk_full(step):
            raise OSError(28, "No space left on device")

        monkeypatch.setattr(sim.sc, "_do_key", disk_full)
        sim.key("ENTER")
        assert sim.message == "sim: OSError: [Errno 28] No space left on device: press r to reset, q to quit"
        monkeypatch.undo()
        sim.key("ENTER")  # stopped: nothing runs until a reset
        assert "ENTER for menu" in _screen(sim)
        sim.reset()
        sim.key("ENTER")
        assert "Main menu" in _screen(sim)


# ---- money back and settlement -----------------------------------------------------------------

_WORDS = {"ENTER": "enter", "CANCEL": "escape", "CLEAR": "backspace", "DOWN": "down", "UP": "up"}


async def _keys(pilot, *words):
    """Scenario-style key words (ENTER, CANCEL, DOWN, digits) pressed on the keyboard."""
    for word in words:
        await pilot.press(*([_WORDS[word]] if word in _WORDS else list(word)))
    await pilot.pause()


async def _approved(pilot, sim):
    """The cardholder signs if asked (w), then the result must say Approved."""
    if "Cardholder, sign" in _screen(sim):
        await _keys(pilot, "w")
    assert "Approved" in _screen(sim), _screen(sim)


def test_void_refund_and_settlement_in_the_app():
    async def go():
        with _sim(at=simapp.SHOWN_TIME) as sim:
            app = simapp.SimApp(sim)
            async with app.run_test(size=(120, 40)) as pilot:
                await _keys(pilot, "ENTER", "1", "1000", "ENTER", "i", "123456", "ENTER")
                await _approved(pilot, sim)
                await _keys(pilot, "ENTER")
                # The void: the factory supervisor password changed at once, trace 2, confirm, the card.
                await _keys(pilot, "ENTER", "2", "123456", "ENTER")
                assert "New 6-digit password" in _screen(sim)
                await _keys(pilot, "202612", "ENTER", "202612", "ENTER", "ENTER", "2", "ENTER")
                assert "Void it?" in _screen(sim)
                await _keys(pilot, "ENTER", "i", "123456", "ENTER")
                await _approved(pilot, sim)
                assert "→ 0200 void       trace 000003 ¥10.00 621700*********5675" in _pane(sim)
                await _keys(pilot, "ENTER")
                # A sale of ¥20.00 (RRN 000000000003), then ¥5.00 of it back (reason 3).
                await _keys(pilot, "ENTER", "1", "2000", "ENTER", "i", "123456", "ENTER")
                await _approved(pilot, sim)
                assert "RRN 000000000003" in _screen(sim)
                await _keys(pilot, "ENTER", "ENTER", "3", "202612", "ENTER", "i")
                assert "Original RRN" in _screen(sim)
                await _keys(pilot, "000000000003", "ENTER", "1207", "ENTER", "500", "ENTER", "3")
                assert "Refund it?" in _screen(sim)
                await _keys(pilot, "ENTER")
                await _approved(pilot, sim)
                assert "¥5.00" in _screen(sim)
                pane = _pane(sim)
                assert "→ 0220 refund" in pane and "¥5.00" in pane
                assert "4 in batch" in sim.status(), sim.status()
                await _keys(pilot, "ENTER")
                # Settlement (main menu 4): the password, the totals to their end, ENTER settles.
                await _keys(pilot, "ENTER", "4", "202612", "ENTER")
                assert "Batch totals" in _screen(sim)
                for _ in range(40):
                    if "ENTER settle" in _screen(sim):
                        break
                    await _keys(pilot, "DOWN")
                await _keys(pilot, "ENTER")
                assert "Settlement report" in _screen(sim), _screen(sim)
                pane = _pane(sim)
                assert "→ 0500 settlement" in pane and "← 0510 settlement" in pane
                assert "batch 000002" in sim.status() and "0 in batch" in sim.status(), sim.status()
                _assert_masked(pane, _screen(sim), app.export_screenshot())

    asyncio.run(go())
