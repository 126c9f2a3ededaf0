# The terminal and its screens driven through the HAL seams: idle, menu, amount entry, card
# reads, timeouts, damaged storage, and a golden session whose digest must match on every runtime.
import hashlib

from firmware.terminal import Terminal
from hal.contracts import CARD_INSERT, CARD_SCAN, CARD_SWIPE, CARD_TAP, CardEvent
from tests.portable.drive import boot, press, screen
from tests.portable.fakes import make_board
from virtual.storage import RamStorage

DEBIT = "6222021234567890128"


def test_idle_screen_shows_merchant_time_batch_and_link():
    board, term = boot()
    s = screen(board)
    assert "QianPOS Demo Shop" in s
    assert "2026-11-23 08:00" in s  # VirtualClock starts at 2026-11-23 00:00 UTC; China is UTC+8
    assert "Batch 000001" in s
    assert "Link up" in s
    assert "ENTER for menu" in s


def test_idle_screen_follows_the_clock_and_the_link():
    board, term = boot()
    board.clock.advance(61)
    term.settle()
    assert "2026-11-23 08:01" in screen(board)
    board.link.attached = False
    board.clock.advance(1)
    term.settle()
    assert "Link down" in screen(board)


def test_chinese_is_the_default_language():
    board = make_board()
    term = Terminal(board)
    term.settle()
    assert "批次 000001" in screen(board)
    press(board, term, "ENTER")
    assert "主菜单" in screen(board)
    assert "1 消费" in screen(board)


def test_menu_lists_the_eight_functions_and_scrolls():
    board, term = boot()
    press(board, term, "FUNC")
    lines = board.display.lines()
    assert "Main menu" in lines[0]
    assert lines[1] == "1 Sale" and board.display.inverse() == [1]
    assert "8 Admin" in screen(board)  # 10 rows: title + 8 items fit
    press(board, term, "UP")  # wraps to the last item
    assert board.display.inverse() == [8]
    press(board, term, "DOWN", "DOWN")
    assert board.display.inverse() == [2]
    press(board, term, "CANCEL")
    assert "ENTER for menu" in screen(board)


def test_menu_scrolls_on_a_small_display():
    from virtual.devices import VirtualDisplay

    board, term = boot(display=VirtualDisplay(rows=4, cols=16))
    press(board, term, "ENTER")
    assert board.display.lines()[1:] == ["1 Sale", "2 Void", "3 Refund"]
    press(board, term, "UP")  # to 8 Admin: the window follows the highlight
    assert board.display.lines()[1:] == ["6 Query", "7 Operators", "8 Admin"]
    assert board.display.inverse() == [3]


def test_amount_entry_shifts_digits_in_and_clears():
    board, term = boot()
    press(board, term, "ENTER", "1")
    assert "Enter amount" in screen(board)
    assert "¥0.00" in screen(board)
    press(board, term, "1", "2", "3", "4", "5")
    assert "¥123.45" in screen(board)
    press(board, term, "CLEAR")
    assert "¥12.34" in screen(board)
    press(board, term, "CLEAR", "CLEAR", "CLEAR", "CLEAR")
    assert "¥0.00" in screen(board)
    beeps = board.keypad.beeps
    press(board, term, "CLEAR", "0")  # nothing to clear, no leading zero: both beep
    assert board.keypad.beeps == beeps + 2
    press(board, term, "CANCEL")
    assert "Main menu" in screen(board)


def test_unknown_keys_beep_and_change_nothing():
    board, term = boot()
    press(board, term, "ENTER", "1", "5")
    before = screen(board)
    beeps = board.keypad.beeps
    press(board, term, "F7", "UP", "*", "")
    assert board.keypad.beeps == beeps + 4
    assert screen(board) == before


def test_zero_and_over_limit_amounts_are_refused_with_a_message():
    board, term = boot()
    press(board, term, "ENTER", "1", "ENTER")
    assert "Amount cannot be 0" in screen(board)
    press(board, term, *"99999999")
    press(board, term, "9")  # a ninth digit is beyond the maximum's 8 digits: refused
    assert "¥999,999.99" in screen(board)
    press(board, term, "ENTER")
    assert "Over the limit" in screen(board)
    assert "Limit ¥100,000.00" in screen(board)
    assert "Swipe" not in screen(board)


def test_the_maximum_itself_is_accepted():
    board, term = boot()
    press(board, term, "ENTER", "1", *"10000000")
    press(board, term, "ENTER")
    assert "Swipe, insert or tap" in screen(board)
    assert "¥100,000.00" in screen(board)


def _card_screen():
    board, term = boot()
    press(board, term, "ENTER", "1", "1", "0", "0", "ENTER")
    return board, term


def test_card_prompt_arms_the_reader_and_cancel_disarms_it():
    board, term = _card_screen()
    assert board.card_reader.armed_modes()
    press(board, term, "CANCEL")
    assert board.card_reader.armed_modes() == ()
    assert "Main menu" in screen(board)


def test_a_good_card_shows_only_the_masked_number():
    board, term = _card_screen()
    assert board.card_reader.present(CardEvent(CARD_INSERT, DEBIT + "D31122201234", "CUP"))
    term.settle()
    s = screen(board)
    assert "Card number\n622202*********0128" in s
    assert DEBIT not in s
    assert "¥1.00" in s
    assert board.card_reader.armed_modes() == ()


def test_bad_card_reads_give_a_clear_message_and_let_the_card_be_presented_again():
    board, term = _card_screen()
    cases = (
        (CARD_SWIPE, "garbage", "Card read failed"),
        (CARD_TAP, "6222021234567890127=3112220", "Invalid card number"),
        (CARD_INSERT, DEBIT + "D2010220", "Card expired"),
        (CARD_SWIPE, DEBIT + "=3112220", "Chip card: insert it"),  # service code 2xx: chip card
    )
    for mode, data, message in cases:
        assert board.card_reader.present(CardEvent(mode, data, "CUP"))
        term.settle()
        assert message in screen(board), message
        assert "Present card again" in screen(board)
    assert board.card_reader.armed_modes()


def test_a_magstripe_only_card_may_be_swiped():
    board, term = _card_screen()
    board.card_reader.present(CardEvent(CARD_SWIPE, "4111111111111111=3112101", "VISA"))
    term.settle()
    assert "411111******1111" in screen(board)


def test_a_scanned_payment_code_is_acknowledged():
    board, term = _card_screen()
    board.card_reader.present(CardEvent(CARD_SCAN, "134567890123456789"))
    term.settle()
    assert "Code scanned" in screen(board)


def test_inactivity_returns_to_idle_and_disarms_the_reader():
    board, term = _card_screen()
    board.clock.advance(59)
    term.settle()
    assert "Swipe" in screen(board)
    board.clock.advance(2)
    term.settle()
    assert "ENTER for menu" in screen(board)
    assert board.card_reader.armed_modes() == ()


def test_damaged_counters_block_transactions_visibly():
    board = make_board()
    board.storage.write("counters.json", b"{broken")
    for _ in range(2):  # the fault lasts across a reboot: the damaged file is evidence now
        term = Terminal(board)
        term.settle()
        assert "批次 ------" in screen(board)
        assert "存储数据损坏" in screen(board)
        press(board, term, "ENTER", "1")
        assert "存储数据损坏" in screen(board)
        assert "请输入金额" not in screen(board)
    assert board.storage.read("bad.000001.counters.json") == b"{broken"


def test_damaged_params_fall_back_to_defaults_and_say_so():
    board = make_board()
    board.storage.write("params.json", b'{"language": "klingon"}')
    for _ in range(2):  # a lasting warning, not one that disappears after a reboot
        term = Terminal(board)
        term.settle()
        assert "参数曾损坏" in screen(board)
        assert term.fault is None


def test_a_lost_terminal_identity_blocks_transactions():
    board = make_board()
    board.storage.write("params.json", b'{"terminal_id": "1234", "language": "en"}')
    term = Terminal(board)
    term.settle()
    assert "Terminal ID lost" in screen(board)
    press(board, term, "ENTER", "1")
    assert "Terminal ID lost" in screen(board) and "Enter amount" not in screen(board)


def _provisioned_with_two_identities(saves):
    """A terminal that stored its parameters `saves` times (terminal id 1000000N at save N) and
    handed out a number."""
    from firmware.params import Params

    board = make_board()
    params = Params.load(board.storage)
    for n in range(1, saves + 1):
        params.terminal_id = "1000000" + str(n + 1)
        params.save(board.storage)
    term = Terminal(board)
    term.counters.next_trace()
    return board


def test_parameter_files_deleted_on_a_provisioned_terminal_block_like_a_lost_identity():
    board = _provisioned_with_two_identities(2)
    for name in ("params.a", "params.b"):
        board.storage.remove(name)
    for _ in range(2):  # never the defaults (terminal 10000001), and not after a reboot either
        term = Terminal(board)
        term.settle()
        assert term.fault == "params_identity_lost" and term.params.terminal_id is None
        assert "终端参数丢失" in screen(board)


def test_the_newest_parameters_deleted_never_bring_an_older_identity_back():
    for saves in (1, 2, 3):
        for newest in (True, False):
            board = _provisioned_with_two_identities(saves)
            names = [n for n in board.storage.list() if n.startswith("params.")]
            seqs = [int(board.storage.read(n)[5:13], 16) for n in names]
            gone = names[seqs.index(max(seqs) if newest else min(seqs))]
            board.storage.remove(gone)
            term = Terminal(board)
            term.settle()
            assert term.fault == "params_identity_lost", (saves, gone)
            assert term.params.terminal_id is None


def test_a_fresh_terminal_starts_with_the_default_identity_and_stores_it():
    board = make_board()
    term = Terminal(board)
    term.settle()
    assert term.fault is None and term.params.terminal_id == "10000001"
    assert "params.a" in board.storage.list() and "params.b" in board.storage.list()
    term.counters.next_trace()
    term = Terminal(board)
    assert term.fault is None and term.params.terminal_id == "10000001"


def test_failing_storage_boots_into_a_visible_fault_instead_of_crashing():
    class Failing(RamStorage):
        def read(self, name):
            raise OSError(5, "I/O error")

        def write(self, name, data):
            raise OSError(5, "I/O error")

    board = make_board(storage=Failing())
    term = Terminal(board)
    term.settle()
    assert "存储故障" in screen(board)
    press(board, term, "ENTER", "1")
    assert "请输入金额" not in screen(board)


def test_a_bug_in_a_screen_propagates_from_step_but_not_from_run():
    board, term = boot()

    class Boom(Exception):
        pass

    class BrokenKeypad:
        def poll(self):
            raise Boom("keypad fault")

    term.keypad = BrokenKeypad()
    try:
        term.step()
        raise AssertionError("step() hid a bug")
    except Boom:
        pass

    class StopLoop(Exception):
        pass

    class OneShotClock:
        def __init__(self, clock):
            self.clock = clock

        def ticks_ms(self):
            return self.clock.ticks_ms()

        def time(self):
            return self.clock.time()

        def sleep_ms(self, ms):
            raise StopLoop()

    term.clock = OneShotClock(board.clock)
    term.keypad = board.keypad
    board.keypad.press("ENTER")
    calls = []

    def crash(key):
        calls.append(key)
        raise Boom("screen bug")

    term.screen.on_key = crash
    try:
        term.run()
    except StopLoop:
        pass
    assert calls == ["ENTER"]
    assert term.last_crash.startswith("Boom tests.portable.test_terminal:")  # type and place
    assert "screen bug" not in term.last_crash  # never the message
    assert "Operation failed" in screen(board)


# The golden session: the same keys and cards must give the same screens and stored state on
# CPython and on MicroPython. The digest covers every screen shown and every file stored; the
# expected value was recorded once and is checked on both runtimes by the test tiers.
GOLDEN_SESSION = (
    "ENTER",
    "DOWN",
    "DOWN",
    "UP",
    "UP",
    "ENTER",
    "1",
    "2",
    "3",
    "4",
    "CLEAR",
    "5",
    "ENTER",
    CardEvent(CARD_SWIPE, "garbage", "CUP"),
    CardEvent(CARD_TAP, DEBIT + "D31122201234", "CUP"),
    "ENTER",
    "FUNC",
    "3",
    "ENTER",
    "CANCEL",
    "CANCEL",
)
# the digest with refund_max, esign_*, 3 Refund
GOLDEN_DIGEST = "e9cdacc9cfa0d8968cd148ec82f03a94b2d4f6b2a159e172f33af3a174df0061"


def golden_session(language):
    """Every screen shown during the session, then every stored file as name=content. The merchant
    name is Chinese, so the stored bytes prove the encoding is the same on every runtime."""
    board, term = boot(language, merchant='钱记小店 Qian\'s "Shop"')
    term.counters.next_trace()
    term.counters.next_trace()
    shots = [screen(board)]
    for step in GOLDEN_SESSION:
        if isinstance(step, str):
            board.keypad.press(step)
        else:
            board.card_reader.present(step)
        term.settle()
        shots.append(screen(board))
    stored = [name + "=" + board.storage.read(name).decode() for name in board.storage.list()]
    return shots, stored


def golden_digest():
    h = hashlib.sha256()
    for language in ("en", "zh"):
        shots, stored = golden_session(language)
        for text in shots + stored:
            h.update(text.encode())
            h.update(b"\x00")
    return "".join("{:02x}".format(b) for b in h.digest())


def test_golden_session_screens():
    shots, stored = golden_session("en")
    assert "1 Sale" in shots[1]
    assert "¥12.35" in shots[12]
    assert "Card read failed" in shots[14]
    assert "622202*********0128" in shots[15]
    assert "Card to refund to" in shots[18]  # 3 Refund: a board without a security module asks none
    assert "Main menu" in shots[20]
    assert "ENTER for menu" in shots[21]
    assert "钱记小店" in shots[0]
    names = ["counters.a", "counters.b", "params.a", "params.b", "provisioned.a", "provisioned.b"]
    assert [s.split("=")[0] for s in stored] == names
    assert '"merchant_name":"钱记小店 Qian\'s \\"Shop\\""' in stored[2] + stored[3]


def test_golden_session_digest_is_the_same_on_every_runtime():
    assert golden_digest() == GOLDEN_DIGEST
