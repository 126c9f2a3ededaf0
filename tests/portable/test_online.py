# The online sale against an in-process host (tests/portable/online_kit.py): sign-in, approved and
# declined sales, PIN cancelled, host down, every way an answer can be lost, the reversal that goes
# out before the next sale, the write-ahead proof and a power cut at every storage operation.
# Runs on CPython and MicroPython.

from firmware import journal as J
from firmware.host.codec import MAX_BODY, decode, frame_size
from firmware.host.session import Session, split_host
from firmware.journal import REVERSAL, Journal
from firmware.online import host_time
from firmware.store import Damaged, load
from firmware.ui.sale import AuthorisingScreen
from firmware.version import BUILD_TIME
from hal.contracts import LinkError
from tests.portable.campaign import CUT_SAMPLE, power_cut_campaign, sale_batch_failures
from tests.portable.drive import ADMIN_PASSWORD
from tests.portable.online_kit import PAN, TRACK2, TRACK2_OPTIONAL, FakeHost, Rig, SlowLink, chip, kind, tap
from virtual.devices import LoopbackLink, VirtualClock
from virtual.storage import TEAR_MODES, PowerCut, RamStorage

SAMPLE = CUT_SAMPLE  # campaign.py: MicroPython cuts each operation once


def _signed_rig(**kw):
    """A rig whose first sale (with the sign-in) is done and dismissed."""
    rig = Rig(**kw)
    assert "Approved" in rig.sale(100)
    rig.press("ENTER")
    return rig


def _sale_frames(host, kind):
    return [m for m in host.received if _kind(m) == kind]


def _kind(m):
    return kind(m)


def _reversal(rig):
    return rig.term.journal.reversal


# ---- the happy path ---------------------------------------------------------------------------
def test_a_first_sale_signs_in_then_is_approved_with_trace_rrn_and_auth_code():
    rig = Rig()
    shown = rig.sale(1234)
    assert rig.host.kinds() == ["sign_in", "sale"]
    assert rig.host.bad_request_macs == 0
    assert "Approved" in shown and "¥12.34" in shown and "621700*********5675" in shown
    assert "Trace 000002" in shown and "RRN 000000000001" in shown and "Auth code A00001" in shown
    assert PAN not in shown
    record = rig.term.journal.last
    assert record["state"] == J.APPROVED and record["trace"] == 2 and record["rrn"] == "000000000001"
    assert _reversal(rig)["state"] == J.NONE
    assert rig.host.ledger == {(1, 2): 1234}
    assert rig.security.key_set() is not None
    sale = _sale_frames(rig.host, "sale")[0]
    assert 52 in sale.fields and sale[22] == "051"  # chip, PIN entered
    rig.press("ENTER")
    assert "ENTER for menu" in rig.screen()
    assert "Approved" in rig.sale(500) and rig.host.kinds() == ["sign_in", "sale", "sale"]


def test_the_hosts_batch_is_adopted_when_higher_never_lower():
    rig = Rig(host=FakeHost(batch=7))
    rig.sale(100)
    assert rig.term.counters.batch == 7
    assert _sale_frames(rig.host, "sale")[0][60][2:8] == "000007"
    rig.press("ENTER")
    rig.host.batch = 3
    rig.term.journal.need_sign_in()
    rig.sale(100)
    assert rig.host.kinds()[-2:] == ["sign_in", "sale"]
    assert rig.term.counters.batch == 7


def test_a_small_contactless_sale_needs_no_pin_and_an_optional_pin_may_be_empty():
    rig = _signed_rig()
    assert "Approved" in rig.sale(1000, tap(), pin=None)
    assert 52 not in _sale_frames(rig.host, "sale")[-1].fields
    rig.press("ENTER")
    rig.start_sale(1000, chip(TRACK2_OPTIONAL))
    assert "No PIN: press ENTER" in rig.screen()
    rig.press("ENTER")
    assert rig.sign()  # a chip card signs
    assert "Approved" in rig.screen()
    assert _sale_frames(rig.host, "sale")[-1][22] == "052"


def test_declined_codes_show_their_message_and_leave_nothing_to_reverse():
    rig = _signed_rig()
    codes = [("05", "Do not honour"), ("51", "Insufficient funds"), ("55", "Incorrect PIN")]
    codes.append(("Q1", "Declined Q1"))
    for code, text in codes:
        rig.host.plan = ["code:" + code]
        shown = rig.sale(300)
        assert text in shown, shown
        assert rig.term.journal.last["state"] == J.DECLINED and rig.term.journal.last["code"] == code
        assert _reversal(rig)["state"] == J.NONE
        rig.press("ENTER")
    assert len(rig.host.ledger) == 1  # the first sale only


def _unsigned_decline(plan):
    rig = _signed_rig()
    rig.host.plan = [plan]
    shown = rig.sale(777)
    assert "Do not honour" in shown and "Approved" not in shown, shown
    trace = rig.term.journal.last["trace"]
    assert rig.term.journal.last["state"] == J.DECLINED and rig.term.journal.last["code"] == "05"
    rev = _reversal(rig)
    assert rev["state"] == J.PENDING and rev["trace"] == trace and rev["f"]["39"] == "06"
    return rig, trace


def test_an_approval_turned_into_an_unsigned_decline_on_the_way_is_reversed():
    rig, trace = _unsigned_decline("mitm:05")
    assert rig.host.ledger[(1, trace)] == 777  # the host charged it; the terminal shows a decline
    rig = rig.reboot()  # the boot recovery keeps it: only a signed answer clears a reversal
    assert "Do not honour" in rig.screen() and _reversal(rig)["f"]["39"] == "06"
    _reversed_before_the_next_sale(rig, trace)
    assert rig.term.journal.failed_reversals() == []


def test_an_unsigned_decline_keeps_the_reversal_which_the_host_answers_25():
    rig, trace = _unsigned_decline("unsigned:05")
    assert (1, trace) not in rig.host.ledger
    rig.press("ENTER")
    assert "Approved" in rig.sale(888)
    assert rig.host.kinds()[-2:] == ["reversal", "sale"]
    assert _reversal(rig)["state"] == J.NONE and rig.host.bad_request_macs == 0


def test_pin_cancelled_sends_nothing():
    rig = _signed_rig()
    before = len(rig.host.received)
    rig.start_sale(300, chip())
    rig.press("1", "2", "CANCEL")
    assert "PIN entry cancelled" in rig.screen() and "timed out" not in rig.screen()
    assert len(rig.host.received) == before
    assert rig.term.journal.last["trace"] == 2  # the first sale's record: no new one
    rig.press("ENTER")
    assert "ENTER for menu" in rig.screen()


def test_host_down_the_sale_never_left_and_nothing_is_reversed():
    rig = _signed_rig()
    rig.link.host = None  # connections refused
    shown = rig.sale(300)
    assert "Host unreachable" in shown
    assert rig.term.journal.last["state"] == J.NOT_SENT
    assert _reversal(rig)["state"] == J.NONE
    rig.link.host = rig.host
    rig.press("ENTER")
    assert "Approved" in rig.sale(300)
    assert rig.host.kinds().count("reversal") == 0


def test_a_first_sale_with_the_host_down_fails_at_the_sign_in():
    rig = Rig()
    rig.link.host = None
    shown = rig.sale(300)
    assert "Host unreachable" in shown
    assert rig.term.journal.last is None and rig.host.received == []


# ---- answers lost ------------------------------------------------------------------------------
def _lost(plan, text, reason, link=None):
    rig = _signed_rig(link=link) if link else _signed_rig()
    rig.host.plan = [plan]
    shown = rig.sale(777)
    if "Waiting for host" in shown:
        rig.wait(31)
        shown = rig.screen()
    assert text in shown, shown
    trace = rig.term.journal.last["trace"]
    assert rig.term.journal.last["state"] == J.IN_DOUBT
    rev = _reversal(rig)
    assert rev["state"] == J.PENDING and rev["f"]["39"] == reason and rev["trace"] == trace
    return rig, trace


def _reversed_before_the_next_sale(rig, trace):
    rig.press("ENTER")
    assert "Approved" in rig.sale(888)
    kinds = rig.host.kinds()
    assert kinds[-2:] == ["reversal", "sale"], kinds
    rev = _sale_frames(rig.host, "reversal")[-1]
    assert int(rev[11]) == trace and rev.mti == "0400"
    for n in (2, 35, 36, 52, 53, 26, 37):
        assert n not in rev.fields
    assert _reversal(rig)["state"] == J.NONE
    assert (1, trace) not in rig.host.ledger  # no double charge: the lost sale is undone
    assert rig.host.bad_request_macs == 0


def test_no_answer_times_out_on_the_clock_and_is_reversed_before_the_next_sale():
    rig, trace = _lost("silent", "No answer: reversal", "98")
    assert (1, trace) in rig.host.ledger  # the host had charged it
    _reversed_before_the_next_sale(rig, trace)


def test_a_broken_link_is_reversed():
    rig, trace = _lost("drop", "Link broke: reversal", "98")
    _reversed_before_the_next_sale(rig, trace)


def test_garbage_is_reversed_with_06():
    rig, trace = _lost("garbage", "Bad answer: reversal", "06")
    _reversed_before_the_next_sale(rig, trace)


def test_an_answer_that_does_not_match_is_reversed_with_06():
    rig, trace = _lost("mismatch", "Mismatch: reversal", "06")
    _reversed_before_the_next_sale(rig, trace)


def test_a_bad_mac_is_reversed_with_a0_after_a_new_sign_in():
    rig, trace = _lost("bad_mac", "MAC error: reversal", "A0")
    assert rig.security.key_set() is None  # the keys are dropped
    assert rig.term.journal.host["need"]
    rig.press("ENTER")
    assert "Approved" in rig.sale(888)
    assert rig.host.kinds()[-3:] == ["sign_in", "reversal", "sale"]
    assert (1, trace) not in rig.host.ledger


def test_a_late_answer_is_lost_with_the_connection_and_never_counted():
    clock = VirtualClock()
    host = FakeHost()
    rig = Rig(host=host, clock=clock, link=SlowLink(host, clock, 31000))
    rig.link.delay_ms = 0
    rig.sale(100)
    rig.press("ENTER")
    rig.link.delay_ms = 31000
    shown = rig.sale(777)
    assert "Waiting for host" in shown
    rig.wait(32)
    assert "No answer: reversal" in rig.screen()
    trace = rig.term.journal.last["trace"]
    rig.link.delay_ms = 0
    _reversed_before_the_next_sale(rig, trace)


def test_an_answer_inside_the_timeout_is_taken():
    clock = VirtualClock()
    host = FakeHost()
    rig = Rig(host=host, clock=clock, link=SlowLink(host, clock, 29000))
    rig.start_sale(100, chip())  # the sign-in answer and the sale's each take 29 s
    rig.wait(29)
    assert "Enter PIN" in rig.screen()
    rig.press("1", "2", "3", "4", "ENTER")
    rig.wait(28)
    assert "Waiting for host" in rig.screen() and "2 s" in rig.screen()
    rig.wait(1)
    assert rig.sign()
    assert "Sending signature" in rig.screen()  # its upload's answer takes 29 s too
    rig.wait(29)
    assert "Approved" in rig.screen()


def test_duplicate_and_stray_answers_are_counted_once():
    rig = _signed_rig()
    for plan in ("dup", "stray"):
        rig.host.plan = [plan]
        assert "Approved" in rig.sale(400)
        assert _reversal(rig)["state"] == J.NONE
        rig.press("ENTER")
    assert len(rig.host.ledger) == 3
    assert rig.term.journal.last["state"] == J.APPROVED


def test_cancel_before_sending_aborts_cleanly_and_the_countdown_runs():
    rig = _signed_rig()
    rig.link.polls_to_open = None  # the connection hangs
    rig.sale(300)
    assert "Connecting" in rig.screen() and "30 s" in rig.screen()
    rig.wait(5)
    assert "25 s" in rig.screen()
    rig.press("CANCEL")
    assert "Cancelled" in rig.screen()
    assert rig.term.journal.last["state"] == J.NOT_SENT and _reversal(rig)["state"] == J.NONE


def test_cancel_after_sending_is_refused_and_a_hanging_connect_times_out():
    rig = _signed_rig()
    rig.host.plan = ["silent"]
    rig.sale(300)
    beeps = rig.raw.beeps
    rig.press("CANCEL")
    assert "Waiting for host" in rig.screen() and rig.raw.beeps == beeps + 1
    rig.wait(31)
    assert "No answer: reversal" in rig.screen()
    rig.press("ENTER")
    rig.link.polls_to_open = None
    rig.sale(300)  # the reversal's connection hangs
    rig.wait(31)
    assert "Host unreachable" in rig.screen()
    assert _reversal(rig)["attempts"] == 0  # a connection failure is not an attempt


# ---- reversal attempts -------------------------------------------------------------------------
def test_reversal_attempts_survive_a_reboot_and_the_last_failure_calls_support():
    rig, trace = _lost("silent", "No answer: reversal", "98")
    rig.press("ENTER")
    rig.host.plan = ["lost"]
    rig.sale(500)
    rig.wait(31)
    assert "Reversal due: retry" in rig.screen()
    assert _reversal(rig)["attempts"] == 1
    rig = rig.reboot()
    assert _reversal(rig)["attempts"] == 1
    rig.host.plan = ["code:96"]  # answered, but not done: an attempt
    rig.sale(500)
    assert "Reversal due: retry" in rig.screen() and _reversal(rig)["attempts"] == 2
    rig.press("ENTER")
    rig.host.plan = ["lost"]
    rig.sale(500)
    rig.wait(31)
    assert rig.sign()
    shown = rig.screen()
    assert "Reversal failed" in shown and "Call support" in shown and "Approved" in shown
    assert _reversal(rig)["state"] == J.NONE
    failed = rig.term.journal.failed_reversals()
    assert len(failed) == 1 and failed[0]["trace"] == trace and failed[0]["f"]["11"] == "00000" + str(trace)
    assert (1, trace) in rig.host.ledger  # still charged: support (and settlement) must see it


def _out_at_the_last_attempt():
    """A sale lost (no answer, trace 3), its reversal unanswered twice, the third attempt out when
    the power goes: after the reboot the reversal is pending at the attempt limit."""
    rig, trace = _lost("silent", "No answer: reversal", "98")
    for _ in range(2):
        rig.press("ENTER")
        rig.host.plan = ["silent"]
        rig.sale(300)
        rig.wait(31)
        assert "Reversal due: retry" in rig.screen()
    rig.press("ENTER")
    rig.host.plan = ["silent"]
    assert "Sending reversal" in rig.sale(300)
    rig = rig.reboot()
    assert _reversal(rig)["attempts"] == 3 and rig.host.kinds().count("reversal") == 3
    return rig, trace


def _given_up_then_sold(rig, trace):
    sales = len(_sale_frames(rig.host, "sale"))
    shown = rig.sale(55555)
    assert "Reversal failed" in shown and "Call support" in shown, shown
    assert "Approved" in shown and "¥555.55" in shown and "¥7.77" not in shown, shown
    assert rig.host.kinds().count("reversal") == 3  # at the limit: given up, not sent a fourth time
    sold = _sale_frames(rig.host, "sale")
    assert len(sold) == sales + 1 and sold[-1][4] == "000000055555"
    last = rig.term.journal.last
    assert last["amount"] == 55555 and last["trace"] != trace and last["state"] == J.APPROVED
    assert last["rrn"] != "" and "RRN " + last["rrn"] in shown
    assert _reversal(rig)["state"] == J.NONE
    failed = rig.term.journal.failed_reversals()
    assert [(f["trace"], f["amount"]) for f in failed] == [(trace, 777)]
    rig.press("ENTER")
    assert "ENTER for menu" in rig.screen()


def test_a_reversal_out_at_its_last_attempt_when_the_power_went_is_given_up_and_the_sale_goes_on():
    rig, trace = _out_at_the_last_attempt()
    _given_up_then_sold(rig, trace)


def test_an_echo_answer_is_never_taken_for_the_sale_after_a_reversal_given_up():
    rig, trace = _out_at_the_last_attempt()
    # The echo test (service menu 8, behind the administrator's password): its answer stays on the
    # one host session.
    rig.press("ENTER", "8", *ADMIN_PASSWORD, "ENTER", "8")
    assert "Link OK" in rig.screen()
    rig.press("ENTER", "CANCEL", "CANCEL")
    assert "ENTER for menu" in rig.screen()
    _given_up_then_sold(rig, trace)


def test_a_transaction_never_takes_the_answer_of_an_exchange_it_did_not_start():
    from firmware.online import Echo

    rig = _signed_rig()
    rig.host.plan = ["silent"]
    assert "Waiting for host" in rig.sale(777)
    trace = rig.term.journal.last["trace"]
    echo = Echo(rig.term)  # another user of the one session: answered at once, code 00
    for _ in range(5):
        echo.step()
    assert echo.outcome == "approved", echo.message
    rig.term.settle()
    shown = rig.screen()
    assert "Interrupted: retry" in shown and "Approved" not in shown, shown
    assert "Trace 00000" + str(trace) in shown
    assert rig.term.journal.last["state"] == J.IN_DOUBT
    rev = _reversal(rig)
    assert rev["state"] == J.PENDING and rev["trace"] == trace and rev["f"]["39"] == "98"
    rig.press("ENTER")
    _reversed_before_the_next_sale(rig, trace)


def test_a_reversal_answered_12_or_25_is_done_and_a_duplicate_answer_is_harmless():
    for plan in ("code:12", "code:25", "dup"):
        rig, trace = _lost("silent", "No answer: reversal", "98")
        rig.press("ENTER")
        rig.host.plan = [plan]
        assert "Approved" in rig.sale(500)
        assert _reversal(rig)["state"] == J.NONE


def test_an_approved_answer_that_cannot_be_recorded_is_reversed_with_96():
    # The outcome is recorded in the batch journal (txn is only the request written ahead): its
    # appends fail once the request is out.
    class OutcomeFails(RamStorage):
        failing = False

        def append(self, name, data):
            if self.failing and name.startswith("batch."):
                raise OSError(28, "no space")
            super().append(name, data)

    class FailAfterSend(LoopbackLink):
        armed = False

        def send(self, data):
            super().send(data)
            storage.failing = self.armed  # the answer is in; its outcome cannot be recorded

    storage = OutcomeFails()
    host = FakeHost()
    link = FailAfterSend(host)
    rig = Rig(storage=storage, host=host, link=link, language="en")
    rig.sale(100)
    rig.press("ENTER")
    link.armed = True
    rig.start_sale(600, chip())
    rig.press("1", "2", "3", "4", "ENTER")
    assert "Not saved: reversal" in rig.screen()
    rev = _reversal(rig)
    assert rev["state"] == J.PENDING and rev["f"]["39"] == "96"
    trace = rev["trace"]
    assert (1, trace) in rig.host.ledger
    link.armed = False
    storage.failing = False
    rig.press("ENTER")
    rig.sale(500)
    assert _sale_frames(rig.host, "reversal")[-1][39] == "96"
    assert (1, trace) not in rig.host.ledger


# ---- sign-in -------------------------------------------------------------------------------------
def test_sign_in_each_day_and_not_twice_a_day():
    rig = _signed_rig()
    rig.sale(100)
    rig.press("ENTER")
    assert rig.host.kinds().count("sign_in") == 1
    rig.clock.advance(86400)
    rig.sale(100)
    assert rig.host.kinds().count("sign_in") == 2


def test_an_invalid_clock_is_set_by_the_sign_in():
    rig = Rig()
    rig.clock.lose_rtc()
    rig = rig.reboot()
    assert not rig.term.clock_valid
    rig.term.go(AuthorisingScreen(rig.term, "menu_sale"))
    rig.term.settle()
    assert "Signed in" in rig.screen()
    assert rig.term.clock_valid
    from firmware.dates import civil

    assert civil(rig.clock.time(), 480)[:5] == (2026, 11, 29, 10, 30)


def test_host_time_takes_the_first_date_not_before_the_floor():
    tz = 480
    from firmware.dates import civil, unix_seconds

    floor = unix_seconds(2026, 12, 31, 23, 0, 0, tz)
    assert civil(host_time("0101", "000500", floor, tz), tz) == (2027, 1, 1, 0, 5, 0)
    assert civil(host_time("1231", "080000", floor, tz), tz) == (2026, 12, 31, 8, 0, 0)  # same day
    assert civil(host_time("0229", "120000", floor, tz), tz)[:3] == (2028, 2, 29)
    assert civil(host_time("1129", "103000", BUILD_TIME, tz), tz)[:3] == (2026, 11, 29)
    for bad in (("1301", "000000"), ("0132", "000000"), ("0101", "250000"), ("01x1", "000000"), (None, "1")):
        assert host_time(bad[0], bad[1], floor, tz) is None


# ---- the records ---------------------------------------------------------------------------------
class ProbeLink(LoopbackLink):
    """Records, at every send(), whether the reversal record for that request was already durable:
    it cuts the power with nothing torn (only synced data survives), reads the record, powers on."""

    def __init__(self, host, storage):
        super().__init__(host)
        self.storage = storage
        self.seen = []

    def send(self, data):
        msg = decode(bytes(data))
        if msg.mti == "0200":
            self.storage.power_cut()
            self.storage.power_on()
            rev = load(self.storage, REVERSAL).record
            txn = load(self.storage, J.TXN).record
            durable = rev is not None and rev["state"] == J.PENDING and rev["f"]["11"] == msg[11]
            self.seen.append((durable, txn is not None and txn["state"] == J.SENT))
        super().send(data)


def test_write_ahead_the_reversal_record_is_synced_before_the_first_byte_of_a_sale():
    storage = RamStorage()
    host = FakeHost()
    rig = Rig(storage=storage, host=host, link=ProbeLink(host, storage), language="en")
    rig.sale(100)
    rig.press("ENTER")
    rig.sale(200)
    assert rig.link.seen == [(True, True), (True, True)]


def test_a_reversal_record_refuses_card_and_pin_fields():
    base = {"v": 1, "state": "pending", "trace": 5, "batch": 1, "amount": 1, "attempts": 0}
    good = dict(base)
    good["f"] = {"11": "000005", "39": "98"}
    REVERSAL.validate(good)
    for n in ("2", "35", "36", "52", "53", "26", "37", "55"):
        bad = dict(base)
        bad["f"] = {"11": "000005", "39": "98", n: "1"}
        try:
            REVERSAL.validate(bad)
            raise AssertionError("field {} accepted".format(n))
        except Damaged:
            pass
    txn = {"v": 1, "kind": "sale", "trace": 1, "batch": 1, "amount": 1, "card": PAN, "time": 0}
    txn.update({"state": "sent", "code": "", "rrn": "", "auth": "", "mode": "insert", "shown": False})
    try:
        J.TXN.validate(txn)
        raise AssertionError("a full PAN accepted")
    except Damaged:
        pass


def _files_hold_no_card_data(rig, secrets):
    for name in rig.storage.list():
        data = rig.storage.read(name)
        for secret in secrets:
            assert secret not in data, name
    return True


def test_no_file_the_terminal_wrote_holds_a_pan_track_or_pin_block():
    rig, trace = _lost("silent", "No answer: reversal", "98")
    rig.press("ENTER")
    rig.host.plan = ["bad_mac"]
    rig.sale(300)
    rig.press("ENTER")
    rig.sale(300)
    blocks = [m[52] for m in rig.host.received if 52 in m.fields]
    assert len(blocks) >= 3
    secrets = [PAN.encode(), TRACK2.encode(), TRACK2.replace("D", "=").encode(), PAN[6:-4].encode()]
    assert _files_hold_no_card_data(rig, secrets + blocks)


def test_the_result_recorded_but_never_shown_is_shown_again_after_a_reboot():
    rig = _signed_rig()
    rig.sale(4321)
    rig.storage.power_cut()  # the power fails while the result is on screen
    rig = rig.reboot()
    shown = rig.screen()
    assert "Last transaction" in shown and "Approved" in shown and "¥43.21" in shown and "RRN" in shown
    rig.press("ENTER")
    assert "ENTER for menu" in rig.screen()
    rig = rig.reboot()
    assert "ENTER for menu" in rig.screen()
    assert rig.term.journal.last["state"] == J.APPROVED


def _cut_run(n, tear, plan=()):
    """A signed-in terminal, the power cut at its n-th storage operation of a sale (from the menu
    to the result dismissed; the host's `plan` for it); then reboot, settle, one more sale.
    (fired, trace, state after boot)."""
    rig = _signed_rig()
    trace = rig.term.counters.trace
    rig.host.plan = list(plan)
    rig.storage.cut_at(n, tear)
    # Sign-in (storage ops) happens at first use; this sale must only do its own.
    fired = False
    try:
        rig.sale(999)
        rig.press("ENTER")
    except PowerCut:
        fired = True
    if not fired:
        rig.storage.cut_at(None)
        return False, trace, None, rig
    rig = rig.reboot()
    rig.host.plan = []  # a cut before the request went leaves its plan unused
    last = rig.term.journal.last
    state = last["state"] if last is not None and last["trace"] == trace else None
    where = "cut {} {}: state {}".format(n, tear, state)
    assert sale_batch_failures(rig.term) == [], (where, sale_batch_failures(rig.term))
    if state == J.APPROVED and not last["shown"]:
        assert "Last transaction" in rig.screen(), rig.screen()
    rig.press("ENTER")
    assert "Approved" in rig.sale(100), rig.screen()
    failures = sale_batch_failures(rig.term, rig.host.ledger)
    assert failures == [], (where, failures)
    return True, trace, state, rig


def test_a_power_cut_at_every_storage_operation_of_a_sale_never_charges_silently():
    def attempt(n, tear):
        fired, trace, state, rig = _cut_run(n, tear)
        if fired:
            charged = [k for k in rig.host.ledger if rig.host.ledger[k] == 999]
            where = "cut {} {}: state {}".format(n, tear, state)
            assert len(charged) == (1 if state == J.APPROVED else 0), where
            if charged:
                assert charged[0] == (1, trace), where
            assert _reversal(rig)["state"] == J.NONE, where
        return fired

    runs = power_cut_campaign(attempt, TEAR_MODES, SAMPLE)
    assert runs >= 5 * 20 // SAMPLE, runs  # every operation of the sale, in every tear mode


def test_a_power_cut_at_every_storage_operation_of_an_unsigned_decline_never_loses_its_reversal():
    def attempt(n, tear):
        fired, trace, state, rig = _cut_run(n, tear, ["mitm:05"])
        if fired:
            where = "cut {} {}: state {}".format(n, tear, state)
            assert 999 not in [rig.host.ledger[k] for k in rig.host.ledger], where  # reversed
            assert _reversal(rig)["state"] == J.NONE, where
        return fired

    runs = power_cut_campaign(attempt, TEAR_MODES, SAMPLE)
    assert runs >= 5 * 10 // SAMPLE, runs


# ---- the session on its own ----------------------------------------------------------------------
def test_split_host_refuses_malformed_addresses():
    assert split_host("10.0.0.5:8583") == ("10.0.0.5", 8583)
    for bad in ("10.0.0.5", ":1", "h:0", "h:70000", "h:x", "a:1:2"):
        try:
            split_host(bad)
            raise AssertionError(bad)
        except ValueError:
            pass


def test_a_session_without_working_keys_sends_nothing():
    rig = Rig()
    host = FakeHost()
    session = Session(LoopbackLink(host), rig.clock, rig.security)
    from firmware.host import messages

    acc = messages.Acceptor("10000001", "898100012340001")
    session.start(messages.sale(acc, 9, 1, 100, TRACK2, "insert"), "127.0.0.1:1", 1000)
    assert session.state == "failed" and session.error == "no_key" and not session.sent
    assert host.received == []


def test_a_session_reads_the_answer_into_the_buffer_it_sent_from_and_keeps_no_request():
    rig = Rig()
    host = FakeHost()
    frame = bytearray(MAX_BODY + 2)
    session = Session(LoopbackLink(host), rig.clock, rig.security, frame=frame)
    from firmware.host import messages

    acc = messages.Acceptor("10000001", "898100012340001")
    session.start(messages.sign_in(acc, 7, 1), "127.0.0.1:1", 1000)
    sent = bytes(frame[: frame_size(frame)])  # the request, before a step sends it
    for _ in range(10):
        session.step()
    answer = session.answer
    assert session.state == "done" and answer is not None and answer[39] == "00"
    assert host.frames == [sent]
    # The answer (0810) was read into the same buffer, over the request; what the answer does not
    # cover of the request was wiped before it came.
    reply_size = frame_size(frame)
    assert decode(bytes(frame[:reply_size])).mti == answer.mti == "0810"
    assert frame[reply_size:] == bytearray(len(frame) - reply_size)
    for bad in (bytearray(MAX_BODY), bytes(MAX_BODY + 2), bytearray(MAX_BODY + 3)):
        try:
            Session(LoopbackLink(host), rig.clock, rig.security, frame=bad)
            raise AssertionError(len(bad))
        except ValueError:
            pass


def test_a_session_reset_forgets_the_last_exchange_and_each_start_is_numbered():
    from firmware.host import messages

    rig = Rig()
    link = LoopbackLink(FakeHost())
    session = Session(link, rig.clock, rig.security)
    acc = messages.Acceptor("10000001", "898100012340001")
    session.start(messages.echo(acc, 1), "127.0.0.1:1", 1000)
    first = session.exchange
    for _ in range(5):
        session.step()
    assert session.state == "done" and session.code == "00" and session.answer is not None
    session.reset()
    assert (session.state, session.answer, session.code, session.error) == ("idle", None, None, None)
    assert not session.done() and session.exchange == first
    link.polls_to_open = None  # the next connection hangs: a new exchange, nothing of the last
    session.start(messages.sign_in(acc, 7, 1), "127.0.0.1:1", 1000)
    assert session.exchange == first + 1 and session.state == "connecting" and session.answer is None
    session.reset()  # a connection in progress is given up
    try:
        link.poll_open()
        raise AssertionError("the link is still connecting")
    except LinkError:
        pass


def test_the_journal_recovers_a_sent_record_without_its_reversal_as_not_sent():
    storage = RamStorage()
    journal = Journal(storage)
    txn = {"kind": "sale", "trace": 3, "batch": 1, "amount": 5, "card": "621700*********5675"}
    txn.update({"mode": "insert", "time": 0})
    journal.write_ahead(txn, {11: "000003", 39: "98"})
    journal.clear_reversal()  # as if the reversal record had never been written
    journal.last = dict(journal.last)
    journal.last["state"] = J.SENT
    journal._save(J.TXN, journal.last)
    again = Journal(storage)
    again.recover()
    assert again.last["state"] == J.NOT_SENT


def test_the_idle_screen_says_whether_the_terminal_is_signed_in():
    rig = Rig()
    assert "Not signed in" in rig.screen()
    rig.sale(100)
    rig.press("ENTER")
    assert "Signed in" in rig.screen() and "Not signed in" not in rig.screen()
    rig.clock.advance(86400)
    rig.term.settle()
    assert "Not signed in" in rig.screen()


def test_a_sale_with_an_invalid_clock_signs_in_first_and_is_refused_only_when_the_host_is_down():
    rig = Rig()
    rig.clock.lose_rtc()
    rig = rig.reboot()
    rig.link.host = None
    rig.press("ENTER", "1")
    shown = rig.screen()
    assert "Host unreachable" in shown and "Clock not set" in shown and "Set it in Admin" in shown
    rig.press("ENTER")
    assert "1 Sale" in rig.screen()  # back to the menu, where Admin sets the clock
    rig.link.host = rig.host
    rig.press("1")
    assert "Enter amount" in rig.screen()
    assert rig.term.clock_valid
    rig.press("1", "0", "0", "ENTER")
    assert rig.board.card_reader.present(chip())
    rig.term.settle()
    rig.press("1", "2", "3", "4", "ENTER")
    assert rig.sign()
    assert "Approved" in rig.screen()
    assert rig.host.kinds() == ["sign_in", "sale"]


def test_a_reversal_whose_attempt_cannot_be_written_is_not_sent():
    class ReversalFails(RamStorage):
        failing = False

        def write(self, name, data):
            if self.failing and name.startswith("reversal"):
                raise OSError(28, "no space")
            super().write(name, data)

    storage = ReversalFails()
    rig = Rig(storage=storage, language="en")
    rig.sale(100)
    rig.press("ENTER")
    rig.host.plan = ["silent"]
    rig.sale(200)
    rig.wait(31)
    rig.press("ENTER")
    sent = len(rig.host.received)
    storage.failing = True
    rig.sale(300)
    assert "Storage failing" in rig.screen()
    assert len(rig.host.received) == sent  # no attempt that is not counted durably
    assert _reversal(rig)["attempts"] == 0


def test_a_pin_entry_that_times_out_ends_the_sale_and_sends_nothing():
    rig = _signed_rig()
    before = len(rig.host.received)
    rig.start_sale(300, chip())
    rig.press("1", "2")
    rig.wait(61)
    assert "PIN entry timed out" in rig.screen() and "cancelled" not in rig.screen(), rig.screen()
    assert len(rig.host.received) == before and not rig.pin.active()
    assert rig.term.journal.last["trace"] == 2  # the first sale's record: no new one


def test_a_pin_timeout_and_a_pin_cancel_say_which_in_chinese_too():
    rig = _signed_rig()
    rig.term.params.language = "zh"
    rig.start_sale(300, chip())
    rig.wait(61)
    assert "密码输入超时" in rig.screen(), rig.screen()
    rig.press("ENTER")
    rig.start_sale(300, chip())
    rig.press("CANCEL")
    assert "密码输入已取消" in rig.screen(), rig.screen()


def test_the_ecb_mac_parameter_is_used_both_ways():
    rig = Rig(host=FakeHost(algorithm="ecb"), language="en", mac_algorithm="ecb")
    assert "Approved" in rig.sale(100)
    assert rig.host.bad_request_macs == 0
    rig.press("ENTER")
    rig.host.algorithm = "x919"  # the host now MACs the other way: the terminal must refuse it
    rig.sale(100)
    assert "MAC error: reversal" in rig.screen()


def _cut_reversal_run(n, tear):
    """A sale whose answer is lost (777), then the power cut at the n-th storage operation of the
    next sale (999), whose reversal phase goes first; reboot, one more sale (100)."""
    rig = _signed_rig()
    rig.host.plan = ["silent"]
    rig.sale(777)
    rig.wait(31)
    rig.press("ENTER")
    trace = rig.term.counters.trace
    rig.storage.cut_at(n, tear)
    try:
        rig.sale(999)
        rig.press("ENTER")
    except PowerCut:
        rig = rig.reboot()
        last = rig.term.journal.last
        state = last["state"] if last is not None and last["trace"] == trace else None
        where = "cut {} {}: state {}".format(n, tear, state)
        assert sale_batch_failures(rig.term) == [], (where, sale_batch_failures(rig.term))
        rig.press("ENTER")
        assert "Approved" in rig.sale(100), rig.screen()
        failures = sale_batch_failures(rig.term, rig.host.ledger)
        assert failures == [], (where, failures)
        return True, trace, state, rig
    rig.storage.cut_at(None)
    return False, trace, None, rig


def test_a_power_cut_at_every_storage_operation_of_a_reversal_and_the_sale_after_it():
    def attempt(n, tear):
        fired, trace, state, rig = _cut_reversal_run(n, tear)
        if fired:
            where = "cut {} {}: state {}".format(n, tear, state)
            amounts = [rig.host.ledger[k] for k in rig.host.ledger]
            assert 777 not in amounts, where  # the lost sale is reversed, whatever the cut
            assert amounts.count(999) == (1 if state == J.APPROVED else 0), where
            assert _reversal(rig)["state"] == J.NONE and rig.term.journal.failed_reversals() == [], where
        return fired

    runs = power_cut_campaign(attempt, TEAR_MODES, SAMPLE)
    assert runs >= 5 * 30 // SAMPLE, runs


class TrickleLink(LoopbackLink):
    """Hands the answer over one byte per recv(), whatever max_bytes asks."""

    def recv(self, max_bytes):
        return super().recv(1)


def test_an_answer_arriving_a_byte_at_a_time_is_framed():
    host = FakeHost()
    rig = Rig(host=host, link=TrickleLink(host))
    assert "Approved" in rig.sale(100)


def test_a_stream_of_stray_frames_is_garbage_and_a_bad_length_prefix_too():
    class Strays(FakeHost):
        def handle(self, data):
            frame = FakeHost.handle(self, data)
            if _kind(decode(data)) != "sale":
                return frame
            other = decode(frame)
            other[11] = "999999"
            return self._frame(other, False) * 6 + frame

    rig = Rig(host=Strays())
    rig.sale(100)
    assert "Bad answer: reversal" in rig.screen()  # four strays are dropped, the fifth is too many
    assert _reversal(rig)["f"]["39"] == "06"

    class BadPrefix(FakeHost):
        def handle(self, data):
            FakeHost.handle(self, data)
            return b"\xff\xff" + bytes(30)

    rig = Rig(host=BadPrefix())
    rig.sale(100)
    assert "Sign-in failed" in rig.screen()


def test_the_reversal_attempt_is_durable_before_the_reversal_is_sent():
    storage = RamStorage()
    host = FakeHost()
    seen = []

    class AttemptProbe(LoopbackLink):
        def send(self, data):
            if decode(bytes(data)).mti == "0400":
                storage.power_cut()
                storage.power_on()
                seen.append(load(storage, REVERSAL).record["attempts"])
            super().send(data)

    rig = Rig(storage=storage, host=host, link=AttemptProbe(host), language="en")
    rig.sale(100)
    rig.press("ENTER")
    host.plan = ["silent"]
    rig.sale(200)
    rig.wait(31)
    rig.press("ENTER")
    host.plan = ["lost"]
    rig.sale(300)
    rig.wait(31)
    rig.press("ENTER")
    rig.sale(300)
    assert seen == [1, 2]


def test_every_reason_an_answer_is_in_doubt_has_a_message():
    from firmware.host import session
    from firmware.strings import text

    for error in (session.NO_ANSWER, session.BROKEN, session.GARBAGE, session.MISMATCH, session.BAD_MAC):
        assert text("host_" + error, "en") != "host_" + error  # firmware/online.py shows "host_" + error


def _given_up_on_a_bad_mac(event, pin):
    """A sale whose answer fails its MAC, then its reversal's only attempt (reversal_attempts 1),
    after the sign-in that MAC failure asks for, failing its MAC too: the keys are dropped again
    while the reversal is given up. The next sale signs in again before its PIN block or its MAC
    (found by the host fault matrix, tests/host/fault_matrix.py: bad-mac with a fault count of 4)."""
    rig = _signed_rig(reversal_attempts=1)
    rig.host.plan = ["bad_mac"]
    assert "MAC error: reversal" in rig.sale(777)
    trace = rig.term.journal.last["trace"]
    rig.press("ENTER")
    rig.host.plan = ["ok", "bad_mac"]  # the sign-in, then the reversal's answer MACed wrong
    rig.start_sale(500, event)
    shown = rig.screen()
    if pin is not None:  # the sign-in and the reversal went before the PIN: their result first
        assert "Reversal failed" in shown and "Call support" in shown, shown
        rig.press("ENTER")
        assert "Enter PIN" in rig.screen(), rig.screen()
        rig.press(*list(pin))
        rig.press("ENTER")
        assert rig.sign()  # a chip card's sale of ¥5.00 is signed
        shown = rig.screen()
    assert "Approved" in shown and "¥5.00" in shown, shown
    assert rig.host.kinds()[-4:] == ["sign_in", "reversal", "sign_in", "sale"], rig.host.kinds()
    assert rig.host.bad_request_macs == 0
    assert [f["trace"] for f in rig.term.journal.failed_reversals()] == [trace]
    assert rig.term.journal.last["state"] == J.APPROVED


def test_a_reversal_given_up_on_a_bad_mac_signs_in_again_before_the_pin():
    _given_up_on_a_bad_mac(chip(), "1234")


def test_a_reversal_given_up_on_a_bad_mac_signs_in_again_before_a_sale_without_pin():
    _given_up_on_a_bad_mac(tap(), None)
