# hal.cards.CardSources: one CardReader over separate parts, so that a dead part fails alone; and
# a terminal whose scanner is dead still sells by card and still opens its service menu.
from firmware.params import Params
from firmware.terminal import Terminal
from hal.cards import CardSources
from hal.contracts import CARD_INSERT, CARD_MODES, CARD_SCAN, CARD_SWIPE, CARD_TAP, CardEvent, HalError
from tests.portable import conformance
from tests.portable.conformance import raises
from tests.portable.fakes import make_board
from virtual.devices import VirtualCardReader

DEBIT_CHIP = CardEvent(CARD_INSERT, "6222021234567890128D31122201234", "CUP")
DEBIT_TAP = CardEvent(CARD_TAP, "6222021234567890128D31122201234", "CUP")


def _parts():
    """Four parts, one per mode, as on a board: (stripe, chip, contactless, scanner)."""
    return tuple(VirtualCardReader((mode,)) for mode in CARD_MODES)


def _present(reader, event):
    return reader.source(event.mode).present(event)


def test_card_sources_conformance():
    conformance.check_card_reader(lambda: CardSources(*_parts()), _present)
    conformance.check_card_reader(
        lambda: CardSources(VirtualCardReader((CARD_INSERT, CARD_TAP)), VirtualCardReader((CARD_SCAN,))),
        _present,
    )
    conformance.check_card_reader(CardSources, _present)  # no part at all: it reads nothing


def test_card_sources_declare_what_their_parts_read():
    reader = CardSources(VirtualCardReader((CARD_TAP, CARD_INSERT)), VirtualCardReader((CARD_SCAN,)))
    assert reader.capabilities == (CARD_INSERT, CARD_TAP, CARD_SCAN)
    assert sorted(reader.lacks) == [CARD_SWIPE]
    raises(ValueError, reader.arm, (CARD_SWIPE,))
    raises(ValueError, CardSources, VirtualCardReader((CARD_TAP,)), VirtualCardReader((CARD_TAP, CARD_SCAN)))
    assert reader.source(CARD_SCAN) is reader.sources[1] and reader.source(CARD_SWIPE) is None


def test_a_dead_part_fails_alone_and_is_reported():
    stripe, chip, tap, scanner = parts = _parts()
    reader = CardSources(*parts)
    reader.arm(CARD_MODES)
    scanner.fail = HalError("scanner not answering")
    assert tap.present(DEBIT_TAP)
    assert reader.poll() is DEBIT_TAP  # the scanner is not asked before the tap is found
    assert reader.dead_modes() == ()
    assert reader.poll() is None  # now it is asked first, and raises: dead, the others asked
    assert reader.dead_modes() == (CARD_SCAN,)
    assert reader.faults() == [((CARD_SCAN,), "HalError: scanner not answering")]
    assert chip.present(DEBIT_CHIP) and reader.poll() is DEBIT_CHIP and reader.poll() is None
    reader.disarm()  # the dead part's disarm raises too: swallowed, the others are disarmed
    assert stripe.armed_modes() == () and chip.armed_modes() == () and tap.armed_modes() == ()
    reader.arm(CARD_MODES)  # arming tries the dead part again: still dead, the rest armed
    assert reader.dead_modes() == (CARD_SCAN,) and chip.armed_modes() == (CARD_INSERT,)
    scanner.fail = None
    reader.arm((CARD_SCAN, CARD_TAP))  # it answers again: alive, and only what was asked is armed
    assert reader.dead_modes() == () and reader.faults() == []
    assert scanner.armed_modes() == (CARD_SCAN,) and chip.armed_modes() == () and stripe.armed_modes() == ()


def test_a_part_failing_to_arm_is_dead_and_never_polled():
    parts = _parts()
    parts[1].fail = HalError("chip reader: no answer to reset")
    reader = CardSources(*parts)
    reader.arm(CARD_MODES)
    assert reader.dead_modes() == (CARD_INSERT,)
    parts[1].fail = None  # it would answer now, but a dead part waits for the next arm()
    parts[1].arm((CARD_INSERT,))
    parts[1].present(DEBIT_CHIP)
    assert reader.poll() is None


def test_no_part_starves_the_others():
    stripe, chip, tap, scanner = parts = _parts()
    reader = CardSources(*parts)
    reader.arm(CARD_MODES)
    scans = [CardEvent(CARD_SCAN, str(i) * 8) for i in range(3)]
    for event in scans:
        scanner.present(event)
    tap.present(DEBIT_TAP)
    got = [reader.poll() for _ in range(5)]
    assert got[:2] == [DEBIT_TAP, scans[0]] and got[2:] == [scans[1], scans[2], None]


def test_a_bug_in_a_part_is_not_a_dead_part():
    parts = _parts()
    reader = CardSources(*parts)
    reader.arm(CARD_MODES)
    parts[0].fail = RuntimeError("driver bug")
    raises(RuntimeError, reader.poll)
    assert reader.dead_modes() == ()


# ---- through the terminal: a board whose scanner is dead ---------------------------------------
def _boot_with_dead_scanner():
    parts = _parts()
    parts[3].fail = HalError("scanner not answering")
    board = make_board(card_reader=CardSources(*parts))
    params = Params.load(board.storage)
    params.language = "en"
    params.save(board.storage)
    term = Terminal(board)
    term.settle()
    return board, term, parts


def _press(board, term, *keys):
    for key in keys:
        board.keypad.press(key)
        term.settle()


def _screen(board):
    return "\n".join(board.display.lines())


def test_a_dead_scanner_does_not_block_card_sales():
    board, term, parts = _boot_with_dead_scanner()
    for event in (DEBIT_CHIP, DEBIT_TAP):
        _press(board, term, "ENTER", "1", "1", "0", "0", "ENTER")
        assert "Swipe, insert or tap" in _screen(board)
        assert board.card_reader.dead_modes() == (CARD_SCAN,)
        assert board.card_reader.source(event.mode).present(event)
        term.settle()
        assert "Card number\n622202*********0128" in _screen(board) and "¥1.00" in _screen(board)
        _press(board, term, "ENTER")
    assert "ENTER for menu" in _screen(board)
    assert "Reader fault: scan" in _screen(board)  # the idle screen names the dead part


def test_a_dead_scanner_does_not_block_the_service_menu():
    board, term, parts = _boot_with_dead_scanner()
    _press(board, term, "ENTER", "1", "5", "ENTER")  # the card screen finds the scanner dead
    _press(board, term, "CANCEL", "CANCEL")
    assert "Reader fault: scan" in _screen(board)
    _press(board, term, "ENTER", "8")
    assert "Admin" in board.display.lines()[0]
    _press(board, term, "2")
    assert "Terminal 10000001" in _screen(board)
    parts[3].fail = None  # repaired: the next card prompt arms it again and the fault clears
    _press(board, term, "CANCEL", "CANCEL", "CANCEL", "ENTER", "1", "5", "ENTER")
    assert board.card_reader.dead_modes() == ()
    assert parts[3].present(CardEvent(CARD_SCAN, "134567890123456789"))
    term.settle()
    assert "Code scanned" in _screen(board)
