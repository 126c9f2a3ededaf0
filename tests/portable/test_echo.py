# The echo test (回响测试) of the service menu: one 0820 with 60.3 = 301 through the host session,
# against the fake host over the loopback link on the virtual clock. No sign-in, no trace number.

from firmware.online import APPROVED, FAILED, Echo
from tests.portable.drive import ADMIN_KEYS
from tests.portable.online_kit import FakeHost, Rig, SlowLink
from virtual.devices import VirtualClock

_ECHO_KEYS = ADMIN_KEYS + ("8",)  # main menu -> Admin (its password) -> Echo test


def _counters(rig):
    c = rig.term.counters
    return c.trace, c.batch


def test_the_echo_is_item_8_of_the_service_menu_and_says_link_ok_with_the_round_trip():
    clock = VirtualClock()
    host = FakeHost()
    rig = Rig(host=host, clock=clock, link=SlowLink(host, clock, 1200))
    before = _counters(rig)
    rig.press(*_ECHO_KEYS)
    assert "Waiting for host" in rig.screen(), rig.screen()
    assert "30 s" in rig.screen()  # the host_timeout_s countdown
    rig.wait(2)
    shown = rig.screen()
    assert "Link OK" in shown, shown
    assert "Round trip 2000 ms" in shown, shown  # the answer came at 1.2 s, seen at the 2 s pass
    assert host.kinds() == ["echo"]  # no sign-in first, even on a terminal never signed in
    req = host.received[0]
    assert req.mti == "0820" and req[60][8:11] == "301"
    assert 11 not in req.fields and 64 not in req.fields  # no trace number, no MAC
    assert _counters(rig) == before  # no trace number consumed
    rig.press("ENTER")
    assert "Echo test" in rig.screen()  # back in the service menu at the item


def test_echo_with_the_host_down_says_unreachable_and_sends_nothing():
    rig = Rig()
    rig.link.host = None  # connections refused
    rig.press(*_ECHO_KEYS)
    assert "Host unreachable" in rig.screen(), rig.screen()
    assert "Link OK" not in rig.screen()
    assert rig.host.received == []


def test_echo_without_an_answer_times_out_on_the_clock():
    rig = Rig()
    rig.host.plan = ["silent"]
    rig.press(*_ECHO_KEYS)
    assert "Waiting for host" in rig.screen()
    rig.wait(29)
    assert "Waiting for host" in rig.screen() and "1 s" in rig.screen()
    rig.wait(1)
    shown = rig.screen()
    assert "No answer (timeout)" in shown, shown
    assert rig.term.journal.pending_reversal() is None  # an echo is never reversed


def test_echo_bad_answers_say_so():
    for plan, extra in (("garbage", None), ("code:96", "96")):
        rig = Rig()
        rig.host.plan = [plan]
        echo = Echo(rig.term)
        for _ in range(20):
            echo.step()
        assert echo.outcome == FAILED and echo.message == "echo_bad_answer", (plan, echo.message)
        assert echo.code == extra


def test_echo_ok_needs_no_sign_in_and_leaves_the_journal_alone():
    rig = Rig()
    journal_host = dict(rig.term.journal.host)
    echo = Echo(rig.term)
    for _ in range(20):
        echo.step()
    assert echo.outcome == APPROVED and echo.round_trip_ms == 0
    assert rig.term.journal.host == journal_host  # still needs its sign-in: the echo is no sign-in


def test_echo_cancelled_before_it_is_sent():
    from virtual.devices import LoopbackLink

    host = FakeHost()
    rig = Rig(host=host, link=LoopbackLink(host, polls_to_open=1000))
    rig.press(*_ECHO_KEYS)
    assert "Connecting" in rig.screen(), rig.screen()
    rig.press("CANCEL")
    assert "Cancelled" in rig.screen(), rig.screen()
    assert host.received == []


def test_the_echo_screen_names_every_sending_state_of_the_session():
    # firmware/ui/echo.py spells the session's states itself (it imports the session only when the echo runs)
    from firmware.host.session import CONNECTING, RECEIVING, SENDING
    from firmware.ui.echo import _ECHO_STATES

    assert sorted(_ECHO_STATES) == sorted([CONNECTING, RECEIVING, SENDING])


def test_an_echo_that_cannot_start_fails_with_its_reason_not_a_type_error():
    # A host parameter that is not host:port, an identity without a terminal id: the echo ends at
    # once with the reason (its constructor once returned the failure, a TypeError on CPython).
    rig = Rig()
    rig.term.params.host = "no port here"
    echo = Echo(rig.term)
    assert echo.outcome == FAILED and echo.message == "host_unreachable"
    rig = Rig()
    rig.term.params.terminal_id = ""
    echo = Echo(rig.term)
    assert echo.outcome == FAILED and echo.message == "host_protocol"
    assert rig.host.received == []
