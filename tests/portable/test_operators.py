# Operators and passwords (firmware/operators.py, firmware/ui/password.py, firmware/ui/operators.py):
# the forced change of the factory passwords, the refusals, the lockout on forward-only time (a
# reboot and a clock set back never shorten it), the attempt written before the check, the records.
from firmware import operators
from firmware.events import entries
from firmware.operators import ADMIN, ATTEMPTS, LOCKED, OK, SUPERVISOR, WRONG, refusal, table
from firmware.params import Params
from firmware.store import load
from firmware.terminal import Terminal
from hal.soft.keystore import StorageKeyStore
from hal.soft.security import SoftSecurityModule
from tests.portable.drive import press, random_bytes, screen
from tests.portable.fakes import make_board
from virtual.devices import VirtualClock
from virtual.storage import PowerCut, RamStorage


class Kit:
    """A terminal with a soft security module; reboot() keeps storage, key store and clock."""

    def __init__(self):
        self.storage = RamStorage()
        self.key_store = StorageKeyStore(RamStorage())
        self.clock = VirtualClock()
        self.random = random_bytes
        params = Params.load(self.storage)
        params.language = "en"
        params.save(self.storage)
        self.boot()

    def boot(self):
        self.storage.power_on()
        security = SoftSecurityModule(self.key_store, urandom=self.random)
        self.board = make_board(storage=self.storage, clock=self.clock, security=security)
        self.term = Terminal(self.board)
        self.term.settle()
        return self

    def press(self, *keys):
        press(self.board, self.term, *keys)

    def type(self, digits):
        self.press(*digits)
        self.press("ENTER")

    def screen(self):
        return screen(self.board)


def test_refused_new_passwords():
    assert refusal(SUPERVISOR, "123456") == "pwd_is_factory"
    assert refusal(ADMIN, "12345678") == "pwd_is_factory"
    for weak in ("111111", "654321", "234567", "890123"):
        assert refusal(SUPERVISOR, weak) == "pwd_too_simple", weak
    assert refusal("05", "1234") == "pwd_too_simple" and refusal("05", "4321") == "pwd_too_simple"
    assert refusal(ADMIN, "87654321") == "pwd_too_simple"
    assert refusal("05", "12345") == "pwd_length" and refusal(SUPERVISOR, "12a456") == "pwd_length"
    assert refusal(SUPERVISOR, "202612") is None and refusal("05", "2580") is None


def test_a_fresh_terminal_forces_the_admin_password_change_before_the_service_menu():
    kit = Kit()
    kit.press("ENTER", "8")
    assert "Admin password" in kit.screen() and kit.term.screen.masked_input
    kit.press(*"1234")
    assert "****" in kit.screen() and "1234" not in kit.screen()
    kit.press("CLEAR", "CLEAR", "CLEAR", "CLEAR")
    kit.type("12345678")  # the factory password: accepted, its change forced
    assert "New 8-digit password" in kit.screen() and "Change the password" in kit.screen()
    kit.type("12345678")
    assert "Same as factory" in kit.screen()
    kit.type("11111111")
    assert "Password too simple" in kit.screen()
    kit.type("20261207")
    assert "New password again" in kit.screen()
    kit.type("20261208")
    assert "The two do not match" in kit.screen()
    kit.type("20261207")
    kit.type("20261207")
    assert "Password changed" in kit.screen()
    kit.press("ENTER")
    assert "1 Set date and time" in kit.screen()
    kit.press("CANCEL", "CANCEL")  # back at idle: the password is asked again
    kit.press("ENTER", "8")
    kit.type("12345678")  # the factory one no longer opens it
    assert "Wrong password" in kit.screen() and "2 tries left" in kit.screen()
    kit.type("20261207")
    assert "1 Set date and time" in kit.screen()
    codes = [e[2:] for e in entries(kit.storage)]
    assert ["pwd_change", "99"] in codes


def test_three_wrong_supervisor_passwords_lock_for_five_minutes_across_a_reboot_and_a_clock_set_back():
    kit = Kit()
    kit.press("ENTER", "7", "4")
    assert "Supervisor password" in kit.screen()
    kit.type("111111")
    assert "2 tries left" in kit.screen()
    kit.type("222222")
    assert "1 tries left" in kit.screen()
    kit.type("333333")
    assert "Locked" in kit.screen() and "Try again in 5 min" in kit.screen()
    assert ["lockout", "00"] in [e[2:] for e in entries(kit.storage)]
    kit.clock.advance(60)
    kit.boot()  # a reboot: the lock goes on
    kit.term.set_clock(kit.clock.time() - 86400)  # and the wall clock set back a day
    kit.press("ENTER", "7", "4")
    kit.type("123456")  # even the right password
    # Not 4: the uptime stored at the lock is where this boot goes on from (a reboot makes a lock
    # longer by the time since the last save of the uptime, never shorter).
    assert "Locked" in kit.screen() and "Try again in 5 min" in kit.screen()
    kit.press("ENTER")
    kit.clock.advance(5 * 60)
    kit.term.settle()  # back at idle (the inactivity timeout)
    kit.press("ENTER", "7", "4")
    kit.type("123456")
    assert "New 6-digit password" in kit.screen()


def test_a_lost_uptime_restarts_a_lock_never_shortens_it():
    kit = Kit()
    for _ in range(3):
        assert table(kit.term).check(SUPERVISOR, "999999")[0] in (WRONG, LOCKED)
    kit.clock.advance(200)
    for name in ("uptime.a", "uptime.b"):
        if name in kit.storage.list():
            kit.storage.remove(name)
    kit.boot()
    result, minutes = table(kit.term).check(SUPERVISOR, "123456")
    assert result == LOCKED and minutes == 5


def test_five_wrong_operator_passwords_lock_it_until_the_supervisor_resets_it():
    kit = Kit()
    t = table(kit.term)
    t.set_password(SUPERVISOR, "202612")
    t.set_password("05", "2580")
    for i in range(4):
        assert t.check("05", "0000") == (WRONG, 4 - i)
    assert t.check("05", "0000") == (LOCKED, -1)
    kit.clock.advance(86400)
    kit.boot()
    assert table(kit.term).check("05", "2580") == (LOCKED, -1)
    kit.press("ENTER", "7", "1", "0", "5", "ENTER")
    kit.type("2580")
    assert "Locked" in kit.screen() and "Ask the supervisor" in kit.screen()
    kit.press("ENTER")
    # The supervisor resets it (menu 7, 4, then 4 Reset a password): a first password, forced change.
    kit.press("4")
    kit.type("202612")
    kit.press("3")
    assert "05 (locked)" in kit.screen()
    kit.press("ENTER", "4", "0", "5", "ENTER")
    kit.type("3690")
    kit.type("3690")
    assert "Operator 05 reset" in kit.screen()
    assert table(kit.term).check("05", "3690") == (operators.FORCED, 0)


def test_the_attempt_is_stored_before_the_password_is_compared():
    kit = Kit()
    calls = []
    security = kit.board.security
    real = security.password_hash

    def spy(data):
        calls.append(table_tries(kit))
        return real(data)

    def table_tries(kit):
        record = load(kit.storage, ATTEMPTS).record
        return record["t"].get("05", [0, 0])[0]

    table(kit.term).set_password("05", "2580")
    security.password_hash = spy
    table(kit.term).check("05", "0000")
    assert calls[-1] == 1  # the try was on storage when the hash was computed


def test_a_power_cut_after_each_try_never_gives_more_tries():
    kit = Kit()
    table(kit.term).set_password("05", "2580")
    for cut in range(1, 12):
        kit.storage.cut_at(cut)
        try:
            table(kit.term).check("05", "0000")
        except PowerCut:
            pass
        kit.storage.cut_at(None)
        kit.storage.power_cut()
        kit.boot()
    assert table(kit.term).check("05", "2580") == (LOCKED, -1)


def test_operator_sign_in_sets_the_operator_of_the_idle_screen_and_the_sale():
    kit = Kit()
    assert "Operator 01" in kit.screen()  # nobody signed in: operator 01 sells
    t = table(kit.term)
    t.set_password("07", "2580", 0)
    kit.press("ENTER", "7", "1", "0", "7", "ENTER")
    assert "Operator 07 password" in kit.screen()
    kit.type("2580")
    if "Host unreachable" in kit.screen():  # the 0800 was tried: no host behind this link
        kit.press("ENTER")
    assert "Signed in: 07" in kit.screen()
    assert kit.term.operator_id() == "07"
    kit.term.go_idle()
    kit.term.settle()
    assert "Operator 07" in kit.screen() and "Operator 01" not in kit.screen()  # the idle screen
    kit.press("ENTER", "7", "2")  # menu 7, Sign out
    assert kit.term.operator is None and kit.term.operator_id() == "01"
    assert [e[2:] for e in entries(kit.storage)][:2] == [["sign_out", "07"], ["sign_in", "07"]]


def test_operator_required_leads_a_sale_to_the_sign_in():
    kit = Kit()
    kit.term.params.operator_required = True
    kit.press("ENTER", "1")
    assert "Operator number" in kit.screen()


def test_a_damaged_password_table_is_a_fault_and_a_new_master_key_brings_the_forced_factory_passwords():
    kit = Kit()
    table(kit.term).set_password(ADMIN, "20261207")
    for name in ("operators.a", "operators.b"):
        kit.storage.write(name, b"QPR1 damaged")
    kit.storage.sync()
    kit.boot()
    assert kit.term.passwords_damaged and kit.term.fault == "pwd_damaged"
    kit.press("ENTER", "8")  # no password: the recovery items only
    assert "1 Load master key" in kit.screen() and "2 About" in kit.screen()
    assert "Set date and time" not in kit.screen()
    assert table(kit.term).check(ADMIN, "12345678")[0] == operators.FAULT  # never the factory one
    operators.reset(kit.term)  # what Load master key does once the new key is in
    kit.boot()
    assert not kit.term.passwords_damaged
    assert table(kit.term).check(ADMIN, "12345678") == (operators.FORCED, 0)


def test_a_changed_device_key_is_a_fault_never_a_wrong_password():
    kit = Kit()
    table(kit.term).set_password(ADMIN, "20261207")
    kit.random = lambda n: b"\x33" * n
    kit.key_store.delete("device")  # a new one is made at the next use: the hashes no longer check
    kit.boot()
    assert kit.term.passwords_damaged


def test_no_password_or_its_unkeyed_hash_is_stored():
    import hashlib

    kit = Kit()
    kit.press("ENTER", "8")
    kit.type("12345678")
    kit.type("20261207")
    kit.type("20261207")
    blobs = [kit.storage.read(n) for n in kit.storage.list()]
    blobs += [kit.key_store.storage.read(n) for n in kit.key_store.storage.list()]
    for pw in ("20261207", "9920261207"):
        needles = [pw.encode()]
        for name in ("sha256", "sha1", "md5"):
            if hasattr(hashlib, name):
                digest = getattr(hashlib, name)(pw.encode()).digest()
                needles.append(digest)
                needles.append("".join("{:02x}".format(b) for b in digest).encode())
        for blob in blobs:
            for needle in needles:
                assert needle not in blob
    assert table(kit.term).check(ADMIN, "20261207") == (OK, 0)


def test_the_supervisor_signs_in_and_the_0800_carries_00_where_a_sale_alone_carries_01():
    from tests.portable.drive import SUPERVISOR_PASSWORD
    from tests.portable.online_kit import Rig

    rig = Rig()
    rig.press("ENTER", "7", "1", "0", "0", "ENTER", *SUPERVISOR_PASSWORD)
    rig.press("ENTER")
    rig.wait(2)
    assert "Signed in: 00" in rig.screen(), rig.screen()
    sign_ins = [m for m in rig.host.received if m.mti == "0800"]
    assert len(sign_ins) == 1 and sign_ins[0][63] == b"00 "
    assert rig.term.operator_id() == "00"


def _tries(kit, op):
    return load(kit.storage, ATTEMPTS).record["t"].get(op, [0, 0])[0]


def test_a_locked_role_says_locked_with_the_minutes_at_once_never_the_password_prompt_first():
    kit = Kit()
    t = table(kit.term)
    for _ in range(3):
        t.check(SUPERVISOR, "999999")
        t.check(ADMIN, "99999999")
    kit.clock.advance(61)
    for keys in (("ENTER", "8"), ("ENTER", "7", "4"), ("ENTER", "7", "5")):
        kit.term.go_idle()
        kit.term.settle()
        kit.press(*keys)
        shown = kit.screen()
        assert "Locked" in shown and "Try again in 4 min" in shown, (keys, shown)
        assert not kit.term.screen.masked_input and "password" not in shown, keys
    assert _tries(kit, SUPERVISOR) == 3 and _tries(kit, ADMIN) == 3  # no try was spent on them
    kit.press("ENTER")  # back where it came from
    assert "Sign off from host" in kit.screen()
    kit.clock.advance(4 * 60)
    kit.term.go_idle()
    kit.term.settle()
    kit.press("ENTER", "7", "4")
    assert "Supervisor password" in kit.screen() and kit.term.screen.masked_input


def test_a_locked_operator_is_not_a_gate_the_sign_in_says_locked_after_the_try():
    kit = Kit()
    t = table(kit.term)
    t.set_password("05", "2580")
    for _ in range(5):
        t.check("05", "0000")
    kit.press("ENTER", "7", "1", "0", "5", "ENTER")
    kit.type("2580")
    assert "Locked" in kit.screen() and "Ask the supervisor" in kit.screen()
