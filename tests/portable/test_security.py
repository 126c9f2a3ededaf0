# The key store, the soft security module and the keypad PIN entry: conformance, the record codec
# they share with the firmware, HMAC-SHA256 known answers, and keys never reachable through Storage.
# Runs on CPython and MicroPython.
import hashlib

from hal.contracts import HalError, NoKey
from hal.soft.des import check_value
from hal.soft.keystore import StorageKeyStore
from hal.soft.pin import KeypadPinEntry, LentKeypad
from hal.soft.security import SoftSecurityModule, hmac_sha256
from tests.portable import conformance
from tests.portable.conformance import MAK, PIK, TMK_PARTS, field62, key_fragments, raises, xor_parts
from tests.portable.fakes import make_board
from virtual.devices import VirtualClock, VirtualKeypad
from virtual.storage import RamStorage


class CountingRandom:
    """A deterministic stand-in for os.urandom (MicroPython's WebAssembly port has none): each
    instance gives a different stream. Tests only: not random."""

    _instances = [0]

    def __init__(self):
        CountingRandom._instances[0] += 1
        self._seed = b"seed" + str(CountingRandom._instances[0]).encode()
        self._n = 0

    def __call__(self, n):
        out = b""
        while len(out) < n:
            self._n += 1
            out += hashlib.sha256(self._seed + str(self._n).encode()).digest()
        return out[:n]


def new_store():
    return StorageKeyStore(RamStorage())


def new_module(store):
    return SoftSecurityModule(store, urandom=CountingRandom())


def loaded_module(store=None):
    sec = new_module(store or new_store())
    sec.load_tmk_components(list(TMK_PARTS))
    sec.load_working_keys(field62(xor_parts(TMK_PARTS), [PIK, MAK]), "003")
    return sec


def test_key_store():
    conformance.check_key_store(new_store)


def test_soft_security_module():
    conformance.check_security_module(new_store, new_module)


def _pin_entry():
    keypad = VirtualKeypad()
    clock = VirtualClock()
    sec = loaded_module()
    pin = KeypadPinEntry(keypad, sec, clock)
    return pin, pin.keypad, keypad.press, clock, sec


def test_keypad_pin_entry():
    conformance.check_pin_entry(_pin_entry)


def test_lent_keypad_passes_keys_and_beeps_through_when_not_lent():
    keypad = VirtualKeypad()
    lent = LentKeypad(keypad)
    conformance.check_keypad(lambda: LentKeypad(VirtualKeypad()), beeps=lambda k: k.device.beeps)
    keypad.press("1", "ENTER")
    assert lent.poll() == "1"
    lent.lent = True
    assert lent.poll() is None
    lent.beep()
    assert keypad.beeps == 1
    lent.lent = False
    assert lent.poll() == "ENTER" and lent.poll() is None


# ---- HMAC-SHA256: RFC 4231 test cases 1, 2, 6 (a key longer than a block) --------------------
RFC4231 = (
    (
        b"\x0b" * 20,
        b"Hi There",
        "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
    ),
    (
        b"Jefe",
        b"what do ya want for nothing?",
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
    ),
    (
        b"\xaa" * 131,
        b"Test Using Larger Than Block-Size Key - Hash Key First",
        "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
    ),
)


def test_hmac_sha256_known_answers():
    for key, data, expected in RFC4231:
        assert hmac_sha256(key, data) == bytes.fromhex(expected)


# ---- keys behind the contracts ---------------------------------------------------------------
def test_keys_are_unreadable_through_the_firmwares_storage():
    # A board whose key store and firmware storage are separate: load every kind of key, then read
    # every file the firmware's Storage can reach: none holds a key, in any form.
    from firmware.params import Params
    from firmware.terminal import Terminal

    key_store = new_store()
    sec = loaded_module(key_store)
    sec.password_hash(b"1234")
    board = make_board(key_store=key_store, security=sec)
    term = Terminal(board)
    term.settle()
    Params.load(board.storage).save(board.storage)
    keys = [xor_parts(TMK_PARTS), PIK, MAK, key_store.load("device")]
    fragments = key_fragments(*keys)
    names = board.storage.list()
    assert names  # the firmware did write its records
    for name in names:
        raw = board.storage.read(name)
        for frag in fragments:
            assert frag not in raw, name
    for name in key_store.names():  # none of the key store's names is a file of the Storage
        for suffix in ("", ".key", ".new"):
            raises(OSError, board.storage.read, name + suffix)


def test_a_damaged_tmk_is_a_fault_never_replaced():
    store = new_store()
    loaded_module(store)
    raw = store.storage.read("tmk.key")
    store.storage.write("tmk.key", raw[:-3])
    sec = new_module(store)  # boots: the fault shows when the key is needed
    for fn, args in ((sec.tmk_check_value, ()), (sec.key_set, ()), (sec.mac, (b"x",))):
        raises(HalError, fn, *args)
    raises(HalError, sec.load_working_keys, field62(xor_parts(TMK_PARTS), [PIK, MAK]), "003")
    assert store.storage.read("tmk.key") == raw[:-3]
    # Loading a TMK (key entry) is the way on.
    assert sec.load_tmk_components(list(TMK_PARTS)) == check_value(xor_parts(TMK_PARTS))
    assert sec.key_set() is None


def test_damaged_working_keys_are_a_fault_until_the_next_sign_in():
    store = new_store()
    loaded_module(store)
    raw = store.storage.read("work.key")
    store.storage.write("work.key", raw[:40])
    sec = new_module(store)
    assert sec.tmk_check_value() == check_value(xor_parts(TMK_PARTS))
    raises(HalError, sec.mac, b"x")
    raises(HalError, sec.key_set)
    sec.load_working_keys(field62(xor_parts(TMK_PARTS), [PIK, MAK]), "003")
    assert sec.key_set()["pin"] == check_value(PIK)


def test_working_keys_under_another_tmk_are_damage_not_keys():
    # The stored answer is checked again at power-on: a TMK changed behind the module's back (the
    # key store edited) gives wrong check values, so the keys are refused as damaged.
    store = new_store()
    loaded_module(store)
    store.save("tmk", b"\x42" * 16)
    sec = new_module(store)
    raises(HalError, sec.mac, b"x")


def test_password_hash_needs_a_random_source_and_a_sound_device_key():
    store = new_store()
    sec = SoftSecurityModule(store, urandom=None)
    if sec._urandom is None:  # a port without os.urandom (MicroPython's WebAssembly port)
        raises(HalError, sec.password_hash, b"1234")
    store.save("device", b"\x01" * 31)
    raises(HalError, SoftSecurityModule(store, urandom=CountingRandom()).password_hash, b"1234")


def test_the_module_says_it_is_not_tamper_resistant():
    sec = new_module(new_store())
    assert sec.capabilities == () and "side-channel" in sec.lacks["tamper_resistant"]


def test_a_pin_entry_without_keys_fails_at_enter_and_leaves_nothing():
    keypad = VirtualKeypad()
    sec = new_module(new_store())
    pin = KeypadPinEntry(keypad, sec, VirtualClock())
    pin.begin("6217002430012345675")
    keypad.press("1", "2", "3", "4")
    for _ in range(4):
        pin.poll()
    keypad.press("ENTER")
    raises(NoKey, pin.poll)
    assert not pin.active() and not pin.keypad.lent and bytes(pin._typed) == bytes(32)


# ---- known answers through the module ------------------------------------------------------
# Sign-in answers under the TMK of TMK_PARTS (1032547698BADCFE54761032DCFE98BA), frozen from
# `cryptography` (tests/host/test_security_sim.py recomputes them): 003 delivers vectors.PIN_KEY and
# the ECB MAC example's MAC key; 004 delivers vectors.PIN_KEY, vectors.MAC_KEY and, as the track key,
# the example's MAC key.
SIGN_IN_003 = "D2B1CC0A0BEAEA43A1AD1DEE682A6AAE76CDB553604FC0AA47DE4168749DB83A3BE16E2CD1345931"
SIGN_IN_004 = (
    "D2B1CC0A0BEAEA43A1AD1DEE682A6AAE76CDB553"
    "C8597AA8CC5DF309215856397915460108D7B4FB"
    "604FC0AA47DE4168749DB83A3BE16E2CD1345931"
)


def _signed_in(f62, mode):
    sec = new_module(new_store())
    sec.load_tmk_components(list(TMK_PARTS))
    sec.load_working_keys(bytes.fromhex(f62), mode)
    return sec


def test_the_worked_examples_through_the_module():
    from tests.portable import vectors

    sec = _signed_in(SIGN_IN_003, "003")
    assert sec.key_set()["mac"] == bytes.fromhex("D1345931")  # the example key's published check value
    mab = bytes.fromhex(vectors.ECB_MAC_EXAMPLE_MAB)
    assert sec.mac(mab, "ecb") == b"5FE058DB"
    assert sec.verify_mac(mab, b"5FE058DB", "ecb") and not sec.verify_mac(mab, b"5FE058DC", "ecb")
    assert sec.mac(mab) == bytes.fromhex(vectors.X919_OF_EXAMPLE)
    for pin, pan, _, encrypted in vectors.PIN_BLOCKS:
        assert sec.encrypt_pin_block(pin, pan) == bytes.fromhex(encrypted)
    sec = _signed_in(SIGN_IN_004, "004")
    assert sec.key_set()["track"] == bytes.fromhex("D1345931")
    for message, x919, f64 in vectors.MACS:
        assert sec.mac(bytes.fromhex(message)) == bytes.fromhex(x919)
        assert sec.mac(bytes.fromhex(message), "ecb") == f64.encode()


def test_pins_typed_on_the_keypad_give_the_known_blocks():
    from tests.portable import vectors

    keypad = VirtualKeypad()
    pin = KeypadPinEntry(keypad, _signed_in(SIGN_IN_003, "003"), VirtualClock())
    for digits, pan, _, encrypted in vectors.PIN_BLOCKS:
        if len(pan) < 13:
            continue
        pin.begin(pan)
        keypad.press(*(list(digits) + ["ENTER"]))
        last = None
        while pin.active():
            last = pin.poll()
        assert last == ("enter", bytes.fromhex(encrypted))
