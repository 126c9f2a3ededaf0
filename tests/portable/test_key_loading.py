# Key loading from the service menu: the field engineer types the TMK as components on the PIN
# entry's key-entry mode; the firmware starts it, sees digit counts, and shows the check value only.
from firmware.terminal import Terminal
from hal.soft.des import check_value
from hal.soft.keystore import StorageKeyStore
from hal.soft.pin import KeypadPinEntry
from hal.soft.security import SoftSecurityModule
from tests.portable.drive import ADMIN_KEYS, random_bytes, screen, set_passwords
from tests.portable.fakes import make_board
from virtual.devices import VirtualClock, VirtualKeypad
from virtual.storage import RamStorage

PART_1 = "0123456789ABCDEF0123456789ABCDEF"
PART_2 = "FEDCBA9876543210FEDCBA9876543211"


def _board():
    raw = VirtualKeypad()
    clock = VirtualClock()
    security = SoftSecurityModule(StorageKeyStore(RamStorage()), urandom=random_bytes)
    pin_entry = KeypadPinEntry(raw, security, clock)
    board = make_board(keypad=pin_entry.keypad, clock=clock, security=security, pin_entry=pin_entry)
    return board, raw


def press(raw, term, *keys):
    """Keys pressed on the board's keypad (the PIN entry takes them while it is active)."""
    for key in keys:
        raw.press(key)
        term.settle()


def _type_hex(board, term, raw, digits):
    for ch in digits:
        if ch in "ABCDEF":
            raw.press("FUNC")
            term.settle()
            ch = str("ABCDEF".index(ch) + 1)
        raw.press(ch)
        term.settle()


def test_the_tmk_is_typed_as_components_and_only_its_check_value_shown():
    board, raw = _board()
    term = Terminal(board)
    set_passwords(term)
    term.settle()
    press(raw, term, *ADMIN_KEYS)
    press(raw, term, "5")
    assert "Components: 2 or 3" in screen(board) or "分量个数" in screen(board)
    press(raw, term, "2")
    assert "1" in screen(board) and "0/32" in screen(board)
    _type_hex(board, term, raw, PART_1[:10])
    assert "10/32" in screen(board)
    assert "0123456789" not in screen(board)  # digit counts only, never the digits
    _type_hex(board, term, raw, PART_1[10:])
    press(raw, term, "ENTER")
    assert "2" in screen(board) and "0/32" in screen(board)
    _type_hex(board, term, raw, PART_2)
    press(raw, term, "ENTER")
    tmk = bytes(a ^ b for a, b in zip(bytes.fromhex(PART_1), bytes.fromhex(PART_2)))
    kcv = "".join("{:02X}".format(b) for b in check_value(tmk))
    assert "KCV " + kcv in screen(board)
    assert board.security.tmk_check_value() == check_value(tmk)
    for name in board.storage.list():  # the firmware's storage never holds the key
        assert tmk not in board.storage.read(name)
    press(raw, term, "ENTER")  # back to the service menu: the keypad is the firmware's again
    assert board.display.inverse() == [5]


def test_cancel_during_key_entry_leaves_the_tmk_unchanged():
    board, raw = _board()
    term = Terminal(board)
    set_passwords(term)
    term.settle()
    before = board.security.tmk_check_value()
    press(raw, term, *ADMIN_KEYS)
    press(raw, term, "5", "3")
    _type_hex(board, term, raw, PART_1[:5])
    press(raw, term, "CANCEL")
    assert board.security.tmk_check_value() == before
    assert "Master key unchanged" in screen(board) or "主密钥未更改" in screen(board)
    assert not board.pin_entry.active()


def test_a_board_without_key_entry_says_so():
    board = make_board()
    term = Terminal(board)
    term.settle()
    press(board.keypad, term, "ENTER", "8", "5", "2")
    assert "本机不支持" in screen(board)
