# The security module, PIN entry and key store on the simulated board, against `cryptography` and
# CPython's hmac: working keys delivered under the TMK, MACs and PIN blocks through the module on
# random input, the provisioning files, keys out of reach of the firmware's Storage, PINs typed by
# the scenario's key steps.
import hmac
import json
import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from firmware.ui.widgets import Screen
from hal.contracts import (
    KEYS_DOUBLE,
    KEYS_TRACK,
    MAC_ECB,
    MAC_X919,
    PIN_DIGITS,
    PIN_ENTER,
    HalError,
    KeyRefused,
)
from hal.soft.des import check_value
from hal.soft.keystore import StorageKeyStore
from hal.soft.security import SoftSecurityModule, hmac_sha256
from sim import cards, provision, scenario
from sim.board import make_board, make_key_store
from sim.storage import DirStorage
from tests.host.test_crypto_cross import ref_ecb, ref_pin_block, ref_pos_ecb_mac, ref_x919
from tests.host.test_scenario import booted, run_text
from tests.portable import conformance
from tests.portable.conformance import key_fragments
from virtual.storage import RamStorage

KEY = st.binary(min_size=16, max_size=16).filter(lambda k: any(k))
EXAMPLES = 100


def ref_f62(tmk, keys, spoil=None):
    """Field 62 built with cryptography only: each key encrypted under the TMK, then its check
    value (the key encrypting 8 zero bytes, first 4 bytes)."""
    out = b""
    for k, key in enumerate(keys):
        kcv = ref_ecb(key, bytes(8))[:4]
        if k == spoil:
            kcv = bytes([kcv[0] ^ 0x80]) + kcv[1:]
        out += ref_ecb(tmk, key) + kcv
    return out


def module_with(tmk, pik, mak, tdk=None):
    sec = SoftSecurityModule(StorageKeyStore(RamStorage()), urandom=os.urandom)
    sec.load_tmk_components([tmk])
    keys = [pik, mak] + ([tdk] if tdk else [])
    sec.load_working_keys(ref_f62(tmk, keys), KEYS_TRACK if tdk else KEYS_DOUBLE)
    return sec


@settings(max_examples=EXAMPLES, deadline=None)
@given(KEY, KEY, KEY, st.binary(max_size=300))
def test_macs_through_the_module_match_cryptography(tmk, pik, mak, message):
    sec = module_with(tmk, pik, mak)
    assert sec.mac(message, MAC_X919) == ref_x919(mak, message)
    assert sec.mac(message, MAC_ECB) == ref_pos_ecb_mac(mak, message)
    assert sec.verify_mac(message, ref_x919(mak, message))
    assert sec.key_set()["mac"] == ref_ecb(mak, bytes(8))[:4]


@settings(max_examples=EXAMPLES, deadline=None)
@given(
    KEY,
    KEY,
    KEY,
    KEY,
    st.text("0123456789", min_size=4, max_size=12),
    st.text("0123456789", min_size=13, max_size=19),
)
def test_pin_blocks_through_the_module_match_cryptography(tmk, pik, mak, tdk, pin, pan):
    sec = module_with(tmk, pik, mak, tdk)
    block = sec.encrypt_pin_block(pin, pan)
    assert ref_ecb(pik, block, decrypt=True) == ref_pin_block(pin, pan)
    assert sec.key_set()["track"] == ref_ecb(tdk, bytes(8))[:4]


@settings(max_examples=EXAMPLES, deadline=None)
@given(KEY, KEY, KEY, st.integers(0, 1))
def test_a_wrong_check_value_from_cryptography_is_refused(tmk, pik, mak, spoil):
    sec = module_with(tmk, pik, mak)
    before = sec.key_set()
    with pytest.raises(KeyRefused, match="wrong check value"):
        sec.load_working_keys(ref_f62(tmk, [mak, pik], spoil=spoil), KEYS_DOUBLE)
    assert sec.key_set() == before


@settings(max_examples=EXAMPLES, deadline=None)
@given(st.binary(max_size=200), st.binary(max_size=200))
def test_hmac_sha256_matches_cpython(key, data):
    assert hmac_sha256(key, data) == hmac.new(key, data, "sha256").digest()


def test_single_length_sign_in_is_refused_with_a_clear_message():
    sec = make_board().security
    with pytest.raises(KeyRefused, match=r"single-length keys \(60.3 = 001\)"):
        sec.load_working_keys(bytes(24), "001")


# ---- provisioning ----------------------------------------------------------------------------
def test_every_provisioning_file_loads_and_hides_its_key():
    assert provision.terminals() == ["10000001", "10000002"]
    algorithms = set()
    for tid in provision.terminals():
        prov = provision.load(tid)
        assert prov.terminal_id == tid and len(prov.tmk) == 16
        assert prov.tmk.hex() not in repr(prov) and prov.tmk.hex().upper() not in repr(prov)
        algorithms.add(prov.mac_algorithm)
    assert algorithms == {"x919", "ecb"}
    from firmware.params import Params

    demo = provision.load(provision.DEFAULT_TERMINAL)
    defaults = Params()
    for field in ("terminal_id", "merchant_id", "mac_algorithm"):
        assert getattr(demo, field) == getattr(defaults, field), field


def test_a_bad_provisioning_file_is_named_without_its_key(tmp_path, monkeypatch):
    monkeypatch.setattr(provision, "DIR", str(tmp_path))
    good = {"terminal_id": "12345678", "merchant_id": "1" * 15, "tmk": "AB" * 16, "mac_algorithm": "x919"}
    for change in ({"tmk": "AB" * 15 + "XY"}, {"mac_algorithm": "md5"}, {"terminal_id": "1"}, {"extra": 1}):
        (tmp_path / "12345678.json").write_text(json.dumps({**good, **change}))
        with pytest.raises(ValueError) as e:
            provision.load("12345678")
        assert "12345678.json" in str(e.value) and "AB" * 8 not in str(e.value)
    with pytest.raises(ValueError):
        provision.load("../../etc")


def test_the_sim_board_is_provisioned_once_and_keeps_its_tmk(tmp_path):
    prov = provision.load(provision.DEFAULT_TERMINAL)
    board = make_board(state_dir=str(tmp_path))
    assert board.security.tmk_check_value() == check_value(prov.tmk)
    other = make_board(terminal_id="10000002").security
    assert other.tmk_check_value() == check_value(provision.load("10000002").tmk)
    # A TMK loaded later (key entry) is kept over the provisioning file's.
    board.security.load_tmk_components([bytes(range(16))])
    again = make_board(state_dir=str(tmp_path))
    assert again.security.tmk_check_value() == check_value(bytes(range(16)))


# ---- keys out of the firmware's reach --------------------------------------------------------
def test_keys_on_disk_are_unreadable_through_the_firmwares_storage(tmp_path):
    board = make_board(state_dir=str(tmp_path))
    sc, _ = booted(board)
    prov = provision.load(provision.DEFAULT_TERMINAL)
    pik, mak = bytes(range(16)), bytes(range(16, 32))
    board.security.load_working_keys(ref_f62(prov.tmk, [pik, mak]), KEYS_DOUBLE)
    board.security.password_hash(b"123456")
    board.signer.public_key()  # the signing key is made at its first use
    assert run_text("key ENTER 8\nreboot\n", sc) == (0, "")
    keys = [prov.tmk, pik, mak, board.key_store.load("device"), board.key_store.load("signer")]
    storage = sc.board.storage
    names = storage.list()
    assert names and all(not n.endswith(".key") for n in names)
    for name in names:
        data = storage.read(name)
        for frag in key_fragments(*keys):
            assert frag not in data, name
    assert sorted(os.listdir(tmp_path / "keys")) == ["device.key", "signer.key", "tmk.key", "work.key"]
    for name in ("keys", "keys/tmk.key", "tmk.key"):
        with pytest.raises((OSError, ValueError)):
            storage.read(name)
    # The working keys survived the reboot, still under the module.
    assert sc.board.security.key_set()["mac"] == check_value(mak)


def test_working_keys_survive_a_scenario_reboot_in_ram():
    sc, _ = booted()
    prov = provision.load(provision.DEFAULT_TERMINAL)
    sc.board.security.load_working_keys(ref_f62(prov.tmk, [bytes(range(16)), bytes(range(1, 17))]), "003")
    kept = sc.board.security.key_set()
    signer = sc.board.signer.public_key()
    assert run_text("reboot\nreboot rtc-lost\n", sc) == (0, "")
    assert sc.board.security.key_set() == kept and sc.board.signer.public_key() == signer


# ---- a damaged master key -----------------------------------------------
# Damaged keys: the service menu opens without the administrator's password, with the recovery
# items only: 1 Load master key, 2 About.
LOAD_TMK = "key ENTER 8 1 2\nkey {} ENTER\nkey {} ENTER\nexpect Master key loaded\n".format(
    "1" * 32, "2" * 32
)


def signed_in_state(tmp_path):
    """A --state directory whose terminal has its TMK and working keys, English screens; its keys/."""
    state = str(tmp_path / "state")
    board = make_board(state_dir=state)
    prov = provision.load(provision.DEFAULT_TERMINAL)
    board.security.load_working_keys(ref_f62(prov.tmk, [bytes(range(16)), bytes(range(1, 17))]), "003")
    booted(board)  # stores the language
    return state, tmp_path / "state" / "keys"


def test_a_truncated_master_key_is_a_fault_at_idle_until_a_new_one_is_loaded(tmp_path):
    # Once, the idle screen said nothing and only the next sale said "Working keys refused".
    state, keys = signed_in_state(tmp_path)
    damaged = (keys / "tmk.key").read_bytes()[:-5]
    (keys / "tmk.key").write_bytes(damaged)
    work = (keys / "work.key").read_bytes()
    sc, _ = booted(make_board(state_dir=state))
    script = (
        "expect Keys damaged\n"  # on the idle screen at once
        "key ENTER 1\nexpect Keys damaged\nkey CANCEL CANCEL\n"  # a sale is refused, saying why
        "key ENTER 8\nexpect 1 Load master key\nexpect 2 About\nkey CANCEL CANCEL\n"  # no password
        "expect Keys damaged\n"
    )
    assert run_text(script, sc) == (0, "")
    # Reported, never replaced behind anyone's back, nothing deleted.
    assert (keys / "tmk.key").read_bytes() == damaged and (keys / "work.key").read_bytes() == work
    # The recovery: Load master key. Back at idle the fault is gone; the new TMK dropped the
    # working keys delivered under the old one (the next transaction signs in).
    assert run_text(LOAD_TMK + "key ENTER CANCEL CANCEL\n", sc) == (0, "")
    assert "Keys damaged" not in scenario.screen_text(sc.board.display)
    assert "ENTER for menu" in scenario.screen_text(sc.board.display)
    assert sc.board.security.tmk_check_value() == check_value(bytes([0x33] * 16))
    assert sorted(os.listdir(keys)) == ["device.key", "tmk.key"]  # nothing signed: no signing key yet


def test_a_directory_in_place_of_the_master_key_deletes_nothing(tmp_path):
    # Once, the simulator took the TMK for missing, provisioned a new one over it (deleting the
    # working keys first), then failed on the directory and exited 2: work.key was gone.
    state, keys = signed_in_state(tmp_path)
    work = (keys / "work.key").read_bytes()
    (keys / "tmk.key").unlink()
    (keys / "tmk.key").mkdir()
    board = make_board(state_dir=state)
    with pytest.raises(HalError, match="key tmk is missing"):
        board.security.tmk_check_value()
    assert (keys / "work.key").read_bytes() == work and (keys / "tmk.key").is_dir()
    assert sorted(os.listdir(keys)) == ["device.key", "tmk.key", "work.key"]
    sc, _ = booted(board)
    assert run_text("expect Keys damaged\n", sc) == (0, "")
    assert (keys / "work.key").read_bytes() == work


def test_working_keys_without_their_master_key_are_damage_not_a_fresh_module():
    store = StorageKeyStore(RamStorage())
    sec = SoftSecurityModule(store)
    sec.load_tmk_components([bytes(range(1, 17))])
    sec.load_working_keys(ref_f62(bytes(range(1, 17)), [bytes(range(16)), bytes(range(2, 18))]), "003")
    store.storage.remove("tmk.key")  # lost behind the module's back
    again = SoftSecurityModule(store)
    with pytest.raises(HalError, match="key tmk is missing"):
        again.tmk_check_value()
    assert provision.provision(again) and store.load("work") is not None  # not provisioned over
    with pytest.raises(HalError):
        again.tmk_check_value()
    assert again.load_tmk_components([bytes(range(3, 19))]) and again.tmk_check_value() is not None
    assert store.load("work") is None  # an explicit new TMK is the way on


# ---- PINs typed by the scenario's key steps --------------------------------------------------
class PinScreen(Screen):
    """Stands in for the sale's PIN screen (firmware/ui/sale.py): records what the PIN entry reports to it."""

    def __init__(self, term):
        super().__init__(term)
        self.keys = []
        self.pins = []

    def on_key(self, key):
        self.keys.append(key)
        return True

    def on_pin(self, event):
        self.pins.append(event)

    def render(self, d, rows, cols):
        d.text(0, "PIN")


def test_key_steps_type_the_pin_into_the_pin_entry_not_the_firmware():
    sc, _ = booted()
    prov = provision.load(provision.DEFAULT_TERMINAL)
    pik = bytes(range(16))
    sc.board.security.load_working_keys(ref_f62(prov.tmk, [pik, bytes(range(1, 17))]), "003")
    card = cards.DECK["debit"]
    pan = card.track2.split("=")[0]
    screen = PinScreen(sc.terminal)
    sc.terminal.go(screen)
    sc.board.pin_entry.begin(pan)
    assert run_text("key {} ENTER\n".format(card.pin), sc) == (0, "")
    assert screen.keys == []  # the firmware saw no key, only what the PIN entry reported
    events = screen.pins
    assert events[:-1] == [(PIN_DIGITS, n) for n in range(1, len(card.pin) + 1)]
    assert events[-1][0] == PIN_ENTER
    assert ref_ecb(pik, events[-1][1], decrypt=True) == ref_pin_block(card.pin, pan)
    assert not sc.board.pin_entry.active()
    assert run_text("key ENTER\n", sc) == (0, "")
    assert screen.keys == ["ENTER"]  # the keypad is the firmware's again


def test_a_scenario_reboot_gives_a_board_with_the_same_key_store():
    sc, _ = booted()
    store = sc.board.key_store
    sc.do(scenario.parse("reboot\n")[0])
    assert sc.board.key_store is store


def test_the_frozen_sign_in_answers_are_cryptographys():
    from tests.portable import vectors
    from tests.portable.conformance import TMK_PARTS, xor_parts
    from tests.portable.test_security import SIGN_IN_003, SIGN_IN_004

    tmk = xor_parts(TMK_PARTS)
    hexes = (vectors.PIN_KEY, vectors.MAC_KEY, vectors.ECB_MAC_EXAMPLE_MAK)
    pik, mak, example = (bytes.fromhex(k) for k in hexes)
    assert ref_f62(tmk, [pik, example]) == bytes.fromhex(SIGN_IN_003)
    assert ref_f62(tmk, [pik, mak, example]) == bytes.fromhex(SIGN_IN_004)


# ---- conformance of the simulator's devices --------------------------------------------------
def test_sim_key_store_on_disk_conformance(tmp_path):
    dirs = iter(range(10**6))
    conformance.check_key_store(lambda: StorageKeyStore(DirStorage(str(tmp_path / str(next(dirs))))))


def test_sim_security_module_conformance(tmp_path):
    dirs = iter(range(10**6))
    conformance.check_security_module(
        lambda: make_key_store(str(tmp_path / str(next(dirs)))),
        lambda store: SoftSecurityModule(store, urandom=os.urandom),
    )


def test_sim_pin_entry_conformance():
    def make():
        board = make_board()
        board.security.load_tmk_components(list(conformance.TMK_PARTS))
        tmk = conformance.xor_parts(conformance.TMK_PARTS)
        f62 = conformance.field62(tmk, [conformance.PIK, conformance.MAK])
        board.security.load_working_keys(f62, KEYS_DOUBLE)
        return board.pin_entry, board.keypad, board.keypad.device.press, board.clock, board.security

    conformance.check_pin_entry(make)
