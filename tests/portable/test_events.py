# The event log (firmware/events.py) and the forward-only uptime it stamps (firmware/uptime.py):
# bounded, newest first, never a value in a detail, never an exception into a transaction.
from firmware import registry
from firmware.events import EVENTS, EVENTS_MAX, detail_ok, entries
from firmware.store import Damaged, load, save
from firmware.uptime import SAVE_EVERY_S, UPTIME, Uptime
from tests.portable.drive import boot, press
from virtual.devices import VirtualClock
from virtual.storage import RamStorage


def _raises(exc_type, fn, *args):
    try:
        fn(*args)
    except exc_type:
        return True
    return False


def test_an_event_is_stamped_with_the_time_and_the_uptime_newest_first():
    board, term = boot()
    board.clock.advance(5)
    assert term.log_event("sign_in", "01") is True
    board.clock.advance(3)
    term.log_event("pwd_change", "00")
    got = entries(board.storage)
    assert [e[2:] for e in got] == [["pwd_change", "00"], ["sign_in", "01"]]
    assert got[0][0] == board.clock.time() and got[1][0] == board.clock.time() - 3
    assert got[0][1] - got[1][1] == 3


def test_an_untrusted_clock_gives_no_time_but_the_uptime_still_counts():
    clock = VirtualClock()
    clock.lose_rtc()
    board, term = boot(clock=clock)
    assert not term.clock_valid
    board.clock.advance(7)
    term.log_event("sign_off")
    entry = entries(board.storage)[0]
    assert entry[0] is None and entry[1] >= 7 and entry[2:] == ["sign_off", ""]


def test_the_log_keeps_the_newest_entries_and_drops_the_oldest():
    board, term = boot()
    for i in range(EVENTS_MAX + 5):
        term.log_event("sign_in", "0" + str(i % 10))
    got = entries(board.storage)
    assert len(got) == EVENTS_MAX
    assert got[0][3] == "0" + str((EVENTS_MAX + 4) % 10)


def test_a_detail_never_holds_a_value():
    assert detail_ok("terminal_id") and detail_ok("00") and detail_ok("")
    for bad in ("123456", "123", "6222021234567890128", "pw 1234", "Terminal", "a" * 25, 5, None):
        assert not detail_ok(bad), bad
    board, term = boot()
    assert _raises(ValueError, term.log_event, "pwd_change", "123456")
    assert _raises(ValueError, term.log_event, "no_such_code")
    assert entries(board.storage) == []


def test_a_stored_entry_with_a_value_is_damaged_data():
    storage = RamStorage()
    assert _raises(
        Damaged,
        save,
        storage,
        EVENTS,
        {"v": 1, "items": [[None, 0, "sign_in", "1234"]]},
        load(storage, EVENTS),
    )
    assert storage.list() == []


def test_a_failing_storage_never_raises_from_the_log_it_is_counted():
    board, term = boot()
    board.storage.capacity = 0  # every write is refused: ENOSPC
    assert term.log_event("clock_set") is False
    assert term.event_failures == 1


def test_a_clock_set_and_a_counter_recovery_are_logged():
    board, term = boot()
    term.set_clock(board.clock.time() + 60)
    term.recover_counters()
    codes = [e[2] for e in entries(board.storage)]
    assert codes == ["counters_recovered", "clock_set"]
    assert registry.owner("events.a") is EVENTS and registry.unknown_files(board.storage) == []


def test_the_clock_set_from_the_service_menu_is_logged():
    board, term = boot()
    press(board, term, "ENTER", "8", "1", *"202612011200", "ENTER")
    assert [e[2] for e in entries(board.storage)] == ["clock_set"]


# ---- uptime --------------------------------------------------------------------------------------


def test_uptime_accumulates_across_boots_and_is_saved_at_a_bounded_rate():
    storage = RamStorage()
    clock = VirtualClock()
    up = Uptime(storage, clock)
    assert up.seconds() == 0
    clock.advance(SAVE_EVERY_S - 1)
    up.tick()
    assert load(storage, UPTIME).record is None  # not yet: at most one write every SAVE_EVERY_S
    clock.advance(1)
    up.tick()
    assert load(storage, UPTIME).record["s"] == SAVE_EVERY_S
    clock.advance(100)
    up.tick()
    assert load(storage, UPTIME).record["s"] == SAVE_EVERY_S
    # A reboot (new ticks, from 0) continues from what was saved: never backwards.
    up2 = Uptime(storage, VirtualClock())
    assert up2.seconds() == SAVE_EVERY_S


def test_uptime_ignores_the_wall_clock():
    storage = RamStorage()
    clock = VirtualClock()
    up = Uptime(storage, clock)
    clock.advance(10)
    clock.set_time(clock.time() - 86400)  # the wall clock set back a day
    assert up.seconds() == 10
    clock.lose_rtc()
    assert up.seconds() == 10


def test_uptime_survives_ticks_wrapping():
    storage = RamStorage()
    clock = VirtualClock()
    up = Uptime(storage, clock)
    for _ in range(15):  # 15 days in steps of a day: ticks_ms wraps every 12.4 days
        clock.advance(86400)
        up.seconds()
    assert up.seconds() == 15 * 86400


def test_uptime_never_raises_for_a_failing_storage():
    storage = RamStorage()
    clock = VirtualClock()
    up = Uptime(storage, clock)
    storage.capacity = 0
    clock.advance(SAVE_EVERY_S)
    up.tick()
    assert up.save() is False and up.seconds() == SAVE_EVERY_S
