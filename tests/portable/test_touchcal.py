# The touch calibration in the service menu (firmware/ui/touchcal.py TouchCalScreen) and its record
# (firmware/touchcal.py): three crosses, the pad's raw taps, the calibration stored and given back
# to the pad at every boot. The pad is the ESP32 board's touch pad over a fake XPT2046 whose plates
# lie turned against the pixels. Runs on CPython and MicroPython.
from firmware import registry
from firmware.terminal import Terminal
from firmware.touchcal import TOUCH_CAL, apply_stored, store
from hal.contracts import SIG_POINT
from hal.drivers.touch_pad import TouchSignaturePad
from hal.drivers.xpt2046 import XPT2046
from tests.portable.drive import boot, press, screen
from tests.portable.esp32_fakes import SignerHand, TouchChip
from tests.portable.fakes import make_board


def turned(x, y):
    """The plates under the pixels: raw X along the screen's y, raw Y falling along its x."""
    return 300 + (y * 3500) // 319, 3800 - (x * 3450) // 239


def touch_board(storage=None):
    chip = TouchChip(raw=turned)
    pad = TouchSignaturePad(XPT2046(chip, chip))  # the driver's default calibration: wrong here
    devices = {"signature_pad": pad}
    if storage is not None:
        devices["storage"] = storage
    return pad, SignerHand(chip), devices


def tap(term, hand, x, y):
    hand.tap(term.signature_pad, x, y)
    for _ in range(4):  # a tap is a few samples of the plates
        term.step()
    term.settle()


def lands(pad, hand, x, y):
    """Where a tap at pixel (x, y) lands through the pad's calibration now."""
    pad.start(0, 0, 240, 320)
    hand.tap(pad, x, y)
    got = None
    for _ in range(4):
        event = pad.poll()
        if event is not None and event[0] == SIG_POINT:
            got = event[1]
    pad.stop()
    return got


def near(point, x, y):
    return point is not None and abs(point[0] - x) <= 1 and abs(point[1] - y) <= 1


def test_calibration_from_the_service_menu_is_stored_and_used():
    pad, hand, devices = touch_board()
    board, term = boot(**devices)
    assert not near(lands(pad, hand, 30, 40), 30, 40)  # uncalibrated: far off
    press(board, term, "ENTER", "8", "6")
    assert "Tap the cross 1/3" in screen(board)
    assert board.display.pixel(30, 40) and board.display.pixel(23, 40) and board.display.pixel(30, 33)
    assert not board.display.pixel(210, 160)  # one cross at a time
    tap(term, hand, 30, 40)
    assert "Tap the cross 2/3" in screen(board) and board.display.pixel(210, 160)
    tap(term, hand, 210, 160)
    tap(term, hand, 120, 280)
    assert "Calibration saved" in screen(board)
    for x, y in ((30, 40), (200, 300), (120, 160), (5, 5)):
        assert near(lands(pad, hand, x, y), x, y), (x, y)
    assert registry.unknown_files(board.storage) == []
    # The next boot: a fresh pad with the driver's default gets the stored calibration.
    pad2, hand2, devices2 = touch_board(storage=board.storage)
    Terminal(make_board(**devices2))
    assert near(lands(pad2, hand2, 200, 300), 200, 300)


def test_cancel_keeps_the_calibration_in_force():
    pad, hand, devices = touch_board()
    board, term = boot(**devices)
    press(board, term, "ENTER", "8", "6")
    tap(term, hand, 30, 40)
    press(board, term, "CANCEL")
    assert "Calibrate touch" in screen(board)  # back in the service menu
    assert board.storage.list() == [n for n in board.storage.list() if not n.startswith("touchcal")]
    assert pad.area is None and pad.poll() is None  # the raw capture ended with the screen


def test_three_taps_on_one_line_start_again():
    pad, hand, devices = touch_board()
    board, term = boot(**devices)
    press(board, term, "ENTER", "8", "6")
    for _ in range(3):
        tap(term, hand, 100, 100)  # the signer missed every cross in the same place
    assert "Failed: tap again" in screen(board) and "Tap the cross 1/3" in screen(board)
    assert [n for n in board.storage.list() if n.startswith("touchcal")] == []


def test_a_board_without_a_calibrating_pad_says_so():
    board, term = boot()  # the virtual pad: nothing to calibrate
    press(board, term, "ENTER", "8", "6")
    assert "No touch screen" in screen(board)
    press(board, term, "5")
    assert "Calibrate touch" in screen(board)


def test_a_damaged_or_foreign_calibration_leaves_the_default():
    pad, hand, devices = touch_board()
    board = make_board(**devices)
    store(board.storage, (1, 2, 3))  # a record the pad does not take (not six numbers)
    term = Terminal(board)
    assert apply_stored(term) is False and not term.device_faults
    board.storage.write(TOUCH_CAL.name + ".b", b"rot")
    board.storage.sync()
    pad2, _hand2, devices2 = touch_board(storage=board.storage)
    Terminal(make_board(**devices2))  # boots; the damaged copy is kept as evidence
    assert [name for _, name in registry.faults(board.storage)] == [TOUCH_CAL.name + ".b"]
    assert not near(lands(pad2, _hand2, 30, 40), 30, 40)  # still the driver's default
