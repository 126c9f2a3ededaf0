# Sign-off from the host (签退, menu 7 item 5, firmware.online.SignOff): behind the supervisor's
# password, one 0820 (60.3 = 002, F63 the operator) through the host session with a progress
# screen, cancellable before it is sent; then the working keys are dropped and the next transaction
# signs in first, whatever the host answered (docs/PROTOCOL.md, Sign-off).
from firmware.events import entries
from firmware.online import APPROVED, FAILED, SignOff
from tests.portable.drive import SUPERVISOR_PASSWORD
from tests.portable.online_kit import FakeHost, Rig, SlowLink
from virtual.devices import LoopbackLink, VirtualClock

_SIGN_OFF_KEYS = ("ENTER", "7", "5") + tuple(SUPERVISOR_PASSWORD) + ("ENTER",)


def _signed_in_rig(**kw):
    rig = Rig(**kw)
    assert "Approved" in rig.sale(100)
    rig.press("ENTER")
    rig.term.go_idle()
    rig.term.settle()
    assert rig.security.key_set() is not None
    return rig


def _signed_off_here(rig):
    assert rig.security.key_set() is None  # the working keys are gone
    assert rig.term.journal.host["need"] is True
    assert ["sign_off", "00"] in [e[2:] for e in entries(rig.storage)]


def test_sign_off_sends_the_0820_with_the_operator_then_drops_the_keys_and_the_next_sale_signs_in():
    clock = VirtualClock()
    host = FakeHost()
    link = SlowLink(host, clock, 0)
    rig = _signed_in_rig(host=host, clock=clock, link=link)
    link.delay_ms = 1200
    trace = rig.term.counters.trace
    rig.press("ENTER", "7", "5")
    assert "Supervisor password" in rig.screen()
    rig.press(*SUPERVISOR_PASSWORD)
    rig.press("ENTER")
    assert "Waiting for host" in rig.screen() and "30 s" in rig.screen(), rig.screen()
    assert "CANCEL to stop" in rig.screen()
    rig.wait(2)
    assert "Signed off" in rig.screen() and "Signed off here" not in rig.screen(), rig.screen()
    req = host.received[-1]
    assert host.kinds()[-1] == "sign_off"
    assert req.mti == "0820" and req[60][8:11] == "002" and req[63] == b"01 " and 64 not in req.fields
    assert int(req[11]) == trace and rig.term.counters.trace == trace + 1  # a trace number of its own
    _signed_off_here(rig)
    rig.press("ENTER")
    assert "Sign off from host" in rig.screen()  # back in menu 7 at its item
    rig.term.go_idle()
    rig.term.settle()
    assert "Not signed in" in rig.screen(), rig.screen()
    before = len(host.received)
    link.delay_ms = 0
    assert "Approved" in rig.sale(100)
    assert host.kinds()[before:] == ["sign_in", "sale"]  # nothing financial before the sign-in


def test_the_0820_carries_the_operator_signed_in_who_is_signed_out_with_it():
    rig = _signed_in_rig()
    rig.term.operator = "07"
    rig.press(*_SIGN_OFF_KEYS)
    rig.term.settle()
    assert rig.host.received[-1][63] == b"07 "
    assert rig.term.operator is None and rig.term.operator_id() == "01"


def test_with_the_host_down_the_terminal_signs_off_here_and_says_the_host_did_not_confirm():
    rig = _signed_in_rig()
    before = len(rig.host.received)
    rig.link.host = None  # connections refused
    rig.press(*_SIGN_OFF_KEYS)
    shown = rig.screen()
    assert "Host unreachable" in shown and "Signed off here" in shown, shown
    assert len(rig.host.received) == before
    _signed_off_here(rig)


def test_without_an_answer_the_sign_off_times_out_and_signs_off_here():
    rig = _signed_in_rig()
    rig.host.plan = ["silent"]
    rig.press(*_SIGN_OFF_KEYS)
    assert "Waiting for host" in rig.screen()
    assert rig.security.key_set() is not None  # not yet
    rig.wait(30)
    shown = rig.screen()
    assert "No answer (timeout)" in shown and "Signed off here" in shown, shown
    _signed_off_here(rig)
    assert rig.term.journal.pending_reversal() is None  # a sign-off is never reversed


def test_a_declined_or_garbled_sign_off_signs_off_here_all_the_same():
    for plan, code in (("code:96", "96"), ("garbage", None)):
        rig = _signed_in_rig()
        rig.host.plan = [plan]
        sign_off = SignOff(rig.term)
        for _ in range(20):
            sign_off.step()
        assert sign_off.outcome == FAILED and sign_off.message == "echo_bad_answer", plan
        assert sign_off.code == code and sign_off.signed_off, plan
        _signed_off_here(rig)


def test_an_approved_sign_off_outcome():
    rig = _signed_in_rig()
    sign_off = SignOff(rig.term)
    for _ in range(20):
        sign_off.step()
    assert sign_off.outcome == APPROVED and sign_off.message is None and sign_off.signed_off
    _signed_off_here(rig)


def test_cancel_before_the_0820_is_sent_changes_nothing():
    host = FakeHost()
    link = LoopbackLink(host)
    rig = _signed_in_rig(host=host, link=link)
    link.polls_to_open = 1000
    before = len(host.received)
    rig.press(*_SIGN_OFF_KEYS)
    assert "Connecting" in rig.screen(), rig.screen()
    rig.press("CANCEL")
    shown = rig.screen()
    assert "Cancelled" in shown and "Signed off here" not in shown, shown
    assert len(host.received) == before
    assert rig.security.key_set() is not None and rig.term.journal.host["need"] is False
    assert "sign_off" not in [e[2] for e in entries(rig.storage)]


def test_a_wrong_supervisor_password_sends_nothing():
    rig = _signed_in_rig()
    before = len(rig.host.received)
    rig.press("ENTER", "7", "5", *"999999")
    rig.press("ENTER")
    assert "Wrong password" in rig.screen()
    rig.press("CANCEL")
    assert len(rig.host.received) == before and rig.security.key_set() is not None


def test_the_sign_off_screen_names_every_sending_state_of_the_session():
    from firmware.host.session import CONNECTING, RECEIVING, SENDING
    from firmware.ui.operators import SESSION_STATES

    assert sorted(SESSION_STATES) == sorted([CONNECTING, RECEIVING, SENDING])
