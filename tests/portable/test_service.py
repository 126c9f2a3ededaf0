# The clock-valid state and the service menu (firmware/ui/service.py): a terminal whose RTC lost its
# time refuses transactions until the time is set from the service menu, which stays reachable.
from firmware.dates import unix_seconds
from firmware.errors import ClockNotSet
from firmware.terminal import Terminal, clock_trusted
from firmware.ui.amount import CardScreen
from firmware.ui.service import entered_time
from firmware.version import BUILD_DATE, BUILD_TIME, VERSION
from hal.contracts import CARD_INSERT, CardEvent
from tests.portable.conformance import raises
from tests.portable.drive import boot, open_admin, press, random_bytes, screen, set_passwords
from tests.portable.fakes import make_board
from virtual.devices import RTC_RESET_TIME, VirtualClock

DEBIT = "6222021234567890128"
EXPIRED_2020_10 = DEBIT + "D2010220"  # expired in October 2020: "not yet expired" in 2000
CHINA = 480


def lost_rtc_clock():
    """A board clock after a power-off without an RTC battery: 2000-01-01, kept_time() False."""
    clock = VirtualClock()
    clock.lose_rtc()
    return clock


def test_the_clock_is_trusted_if_it_kept_time_or_reads_after_the_build_date():
    assert clock_trusted(VirtualClock(time=BUILD_TIME, kept_time=False))
    assert clock_trusted(VirtualClock(time=BUILD_TIME + 86400 * 400, kept_time=False))
    assert not clock_trusted(VirtualClock(time=BUILD_TIME - 1, kept_time=False))
    assert not clock_trusted(lost_rtc_clock())
    assert clock_trusted(VirtualClock(time=BUILD_TIME - 86400 * 30, kept_time=True))  # a set battery RTC


def test_a_clock_without_an_rtc_battery_is_trusted_only_after_the_build_date():
    # It lacks rtc_kept_time: kept_time() is never asked (it would raise), only the date counts.
    assert not clock_trusted(VirtualClock(time=BUILD_TIME - 86400 * 30, rtc_battery=False))
    assert clock_trusted(VirtualClock(time=BUILD_TIME, rtc_battery=False))
    board, term = boot(clock=VirtualClock(time=BUILD_TIME - 1, rtc_battery=False))
    assert term.clock_valid is False and "Clock not set" in screen(board)


def test_a_lost_clock_says_so_on_the_idle_screen_instead_of_a_date():
    board, term = boot(clock=lost_rtc_clock())
    assert term.clock_valid is False
    s = screen(board)
    assert "Clock not set" in s and "2000-01-01" not in s
    assert "Batch 000001" in s and "ENTER for menu" in s
    board.clock.advance(61)  # the once-a-second refresh keeps saying so
    term.settle()
    assert "Clock not set" in screen(board) and "2000-01-01" not in screen(board)
    board, term = boot("zh", clock=lost_rtc_clock())
    assert "时间未设置" in screen(board)


def test_a_trusted_clock_shows_the_date_as_before():
    board, term = boot(clock=VirtualClock(time=BUILD_TIME + 3600, kept_time=False))
    assert term.clock_valid is True
    assert BUILD_DATE in screen(board) and "Clock not set" not in screen(board)


def test_a_sale_is_refused_with_a_clear_message_until_the_clock_is_set():
    board, term = boot(clock=lost_rtc_clock())
    press(board, term, "ENTER", "1")
    s = screen(board)
    assert "Sale" in s and "Clock not set" in s and "Set it in Admin" in s
    assert "Enter amount" not in s
    press(board, term, "ENTER")  # any key: back to the menu at Sale
    assert "Main menu" in screen(board) and board.display.inverse() == [1]
    press(board, term, "DOWN", "ENTER")  # Void moves money too: refused the same way
    s = screen(board)
    assert "Void" in s and "Clock not set" in s


def test_setting_the_time_in_the_service_menu_makes_the_clock_valid():
    board, term = boot(clock=lost_rtc_clock())
    press(board, term, "ENTER", "8")
    s = screen(board)
    assert "Admin" in board.display.lines()[0]
    assert "1 Set date and time" in s and "2 About" in s
    assert "3 Stored-data faults" in s and "4 Recover counters" in s
    press(board, term, "1")
    assert "Enter YYYYMMDDHHMM" in screen(board) and "____-__-__ __:__" in screen(board)
    press(board, term, *"2026112")
    assert "2026-11-2_ __:__" in screen(board)
    press(board, term, *"91030")
    assert "2026-11-29 10:30" in screen(board)
    press(board, term, "ENTER")
    assert "Clock set" in screen(board) and "2026-11-29 10:30" in screen(board)
    assert term.clock_valid is True
    assert board.clock.time() == unix_seconds(2026, 11, 29, 2, 30)  # 10:30 in China is 02:30 UTC
    press(board, term, "ENTER")  # back to the service menu at item 1
    assert "Admin" in board.display.lines()[0] and board.display.inverse() == [1]
    press(board, term, "CANCEL")  # back to the main menu at Admin
    assert "Main menu" in screen(board) and board.display.inverse() == [8]
    press(board, term, "CANCEL")
    assert "2026-11-29 10:30" in screen(board) and "Clock not set" not in screen(board)
    press(board, term, "ENTER", "1")
    assert "Enter amount" in screen(board)


def test_the_time_entry_refuses_what_is_not_a_real_time_and_cancel_sets_nothing():
    board, term = boot(clock=lost_rtc_clock())
    press(board, term, "ENTER", "8", "1")
    bad = (
        "20260230" + "1200",  # February 30th
        "20270229" + "1200",  # not a leap year
        "19991231" + "2359",  # before 2000
        "21000101" + "0000",  # after 2099
        "20261301" + "1200",  # month 13
        "20260001" + "1200",  # month 0
        "20261100" + "1200",  # day 0
        "20261129" + "2400",  # hour 24
        "20261129" + "1260",  # minute 60
        "2026112912",  # too short
    )
    for digits in bad:
        press(board, term, *digits)
        press(board, term, "ENTER")
        assert "Not a valid time" in screen(board), digits
        assert term.clock_valid is False and board.clock.time() < RTC_RESET_TIME + 60, digits
        press(board, term, *(["CLEAR"] * len(digits)))
        assert "____-__-__ __:__" in screen(board), digits
    beeps = board.keypad.beeps
    press(board, term, *"2028022923591")  # a 13th digit is refused; the leap day itself is fine
    assert board.keypad.beeps == beeps + 1 and "2028-02-29 23:59" in screen(board)
    press(board, term, "CANCEL")
    assert "Admin" in board.display.lines()[0]
    assert term.clock_valid is False
    press(board, term, "CANCEL", "CANCEL")
    assert "Clock not set" in screen(board)


def test_entered_time_is_local_time_in_the_terminals_zone():
    assert entered_time("202611291030", CHINA) == unix_seconds(2026, 11, 29, 2, 30)
    assert entered_time("202611291030", 0) == unix_seconds(2026, 11, 29, 10, 30)
    assert entered_time("200001010000", CHINA) == RTC_RESET_TIME - 8 * 3600  # local 2000 is still 1999 in UTC
    assert entered_time("209912312359", -720) == unix_seconds(2100, 1, 1, 11, 59)
    assert entered_time("202802290000", CHINA) is not None
    for bad in ("202702290000", "2026113010300", "20261130103", "", "2026113010a0", "202611301030 "):
        assert entered_time(bad, CHINA) is None, bad


def test_the_service_menu_stays_reachable_in_a_fault_state():
    board = make_board(clock=lost_rtc_clock())
    board.storage.write("counters.json", b"{broken")
    term = Terminal(board)
    term.settle()
    assert "存储数据损坏" in screen(board) and "时间未设置" in screen(board)
    press(board, term, "ENTER", "1")
    assert "存储数据损坏" in screen(board) and "请输入金额" not in screen(board)
    press(board, term, "ENTER", "8")
    assert "系统管理" in board.display.lines()[0] and "1 设置日期时间" in screen(board)
    press(board, term, "1", *"202611291030")
    press(board, term, "ENTER")
    assert "时间已设置" in screen(board) and term.clock_valid is True
    press(board, term, "CANCEL", "CANCEL", "CANCEL", "ENTER", "1")
    assert "存储数据损坏" in screen(board) and "请输入金额" not in screen(board)  # the fault still blocks


def test_about_shows_version_build_date_and_terminal_id():
    board, term = boot()
    press(board, term, "ENTER", "8", "2")
    s = screen(board)
    assert "About" in s
    assert "Version " + VERSION in s and "Built " + BUILD_DATE in s and "Terminal 10000001" in s
    press(board, term, "CANCEL")
    assert "Admin" in board.display.lines()[0] and board.display.inverse() == [2]


def test_about_shows_the_keys_check_values_never_a_key():
    from hal.soft.des import check_value
    from hal.soft.keystore import StorageKeyStore
    from hal.soft.security import SoftSecurityModule
    from tests.portable.conformance import MAK, PIK, TDK, TMK_PARTS, field62, xor_parts
    from virtual.storage import RamStorage

    def about(board, term):
        open_admin(board, term)
        press(board, term, "2")
        s = screen(board)
        press(board, term, "CANCEL", "CANCEL", "CANCEL", "CANCEL")
        return s

    def kcv(key):
        return "".join("{:02X}".format(b) for b in check_value(key))

    board, term = boot()
    assert "TMK" not in about(board, term) and "master key" not in about(board, term)  # no module
    key_store = StorageKeyStore(RamStorage())
    sec = SoftSecurityModule(key_store, urandom=random_bytes)
    board, term = boot(security=sec)
    set_passwords(term)
    assert "No master key" in about(board, term)
    tmk = xor_parts(TMK_PARTS)
    sec.load_tmk_components(list(TMK_PARTS))
    s = about(board, term)
    assert "TMK " + kcv(tmk) in s and "No working keys" in s
    sec.load_working_keys(field62(tmk, [PIK, MAK]), "003")
    s = about(board, term)
    assert "PIK " + kcv(PIK) in s and "MAK " + kcv(MAK) in s and "TDK" not in s
    sec.load_working_keys(field62(tmk, [PIK, MAK, TDK]), "004")
    s = about(board, term)
    assert "TDK " + kcv(TDK) in s
    for key in (tmk, PIK, MAK, TDK):
        assert "".join("{:02X}".format(b) for b in key[:4]) not in s
    key_store.storage.write("tmk.key", b"QPR1 damaged")
    board, term = boot(security=SoftSecurityModule(key_store, urandom=random_bytes))
    assert "Key fault" in about(board, term)  # a stored-data fault: About without the password


def test_about_shows_the_signing_keys_fingerprint_or_says_there_is_none():
    import hashlib

    from hal.soft.keystore import StorageKeyStore
    from hal.soft.signer import KEY_NAME, SoftSigner
    from tests.portable.fakes import FakeSigner
    from virtual.storage import RamStorage

    def about(language="en", **devices):
        board, term = boot(language, **devices)
        press(board, term, "ENTER", "8", "2")
        return board.display.lines()

    digest = hashlib.sha256(FakeSigner().public_key()).digest()
    expected = " ".join("{:02X}{:02X}".format(digest[i], digest[i + 1]) for i in range(0, 8, 2))
    lines = about()
    assert "Signing key ENTER=QR" in lines and expected in lines and len(expected) == 19
    assert lines.index(expected) == lines.index("Signing key ENTER=QR") + 1
    assert "公钥指纹 确认=二维码" in about("zh")
    lines = about(signer=None)
    assert "No receipt signer" in lines and "Signing key" not in lines
    assert "本机无签名模块" in about("zh", signer=None)
    keys = StorageKeyStore(RamStorage())
    keys.save(KEY_NAME, bytes(32))  # not a P-256 scalar: a damaged key, never replaced
    lines = about(signer=SoftSigner(keys))
    assert "Signing key fault" in lines and "Signing key" not in lines
    assert keys.load(KEY_NAME) == bytes(32)
    assert "签名密钥故障" in about("zh", signer=SoftSigner(keys))


def test_about_scrolls_when_its_lines_pass_the_screen():
    from virtual.devices import VirtualDisplay

    board, term = boot(display=VirtualDisplay(rows=4, cols=20))
    press(board, term, "ENTER", "8", "2")
    assert board.display.lines()[1].startswith("Version ") and "Signing key" not in board.display.lines()
    press(board, term, "DOWN", "DOWN", "DOWN")
    lines = board.display.lines()
    assert lines[1] == "Signing key ENTER=QR" and "About" in lines[0]
    press(board, term, "UP")
    assert board.display.lines()[1].startswith("Terminal ")
    press(board, term, "CLEAR")
    assert "Admin" in board.display.lines()[0]


def test_stored_data_faults_list_the_evidence_newest_first():
    board, term = boot()
    press(board, term, "ENTER", "8", "3")
    assert "No faults recorded" in screen(board)
    press(board, term, "ENTER")
    assert "Admin" in board.display.lines()[0] and board.display.inverse() == [3]
    for name in ("counters.json", "provisioned.a"):
        board.storage.write(name, b"rot")
    term = Terminal(board)
    term.settle()
    press(board, term, "ENTER", "8", "3")
    lines = board.display.lines()
    assert lines[1:5] == ["Stored data damaged", "#2 provisioned.a", "#1 counters.json", ""]
    press(board, term, "DOWN")
    assert board.display.lines()[1] == "#2 provisioned.a"


def test_counter_recovery_needs_two_confirmations_and_unblocks_sales():
    board, term = boot()
    handed = [term.counters.next_trace() for _ in range(5)]
    for name in ("counters.a", "counters.b"):
        board.storage.write(name, b"rot")
    term = Terminal(board)
    term.settle()
    assert "Stored data damaged" in screen(board)
    press(board, term, "ENTER", "8", "4")
    assert "Counters lost" in screen(board) and "ENTER to continue" in screen(board)
    press(board, term, "ENTER")
    assert "ENTER again" in screen(board) and "Counters lost" in screen(board)
    press(board, term, "CANCEL")
    assert "Admin" in board.display.lines()[0]
    press(board, term, "4")
    assert "Counters lost" in screen(board)  # nothing was done
    press(board, term, "ENTER", "ENTER")
    assert "Counters recovered" in screen(board)
    assert term.counters.trace > handed[-1] and term.fault is None
    press(board, term, "ENTER", "CANCEL", "CANCEL", "ENTER", "1")
    assert "Enter amount" in screen(board)
    again = Terminal(board)  # and after a reboot
    assert again.fault is None and again.counters.trace == term.counters.trace


def test_a_card_expiry_is_never_checked_against_an_invalid_clock():
    # The menu refuses the sale; this reaches the card screen anyway, as a future flow might.
    board, term = boot(clock=lost_rtc_clock())
    term.go(CardScreen(term, "menu_sale", 100))
    term.settle()
    assert board.card_reader.present(CardEvent(CARD_INSERT, EXPIRED_2020_10, "CUP"))
    term.settle()
    s = screen(board)
    assert "Clock not set" in s  # against 2000-01-01 this card would have looked valid
    assert "622202" not in s and "Card number" not in s
    raises(ClockNotSet, term.now)
    term.set_clock(unix_seconds(2026, 11, 29, 2, 30))
    assert term.now() == board.clock.time()
    term.go(CardScreen(term, "menu_sale", 100))
    term.settle()
    board.card_reader.present(CardEvent(CARD_INSERT, EXPIRED_2020_10, "CUP"))
    term.settle()
    assert "Card expired" in screen(board)
