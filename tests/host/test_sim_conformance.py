# The HAL conformance checks against the simulator's devices, and the simulator's own promises:
# storage on disk across power cuts and restarts, the host clock, the P-256 signer, the card deck.
import datetime
import inspect
import itertools
import os
import unicodedata
from pathlib import Path

import pytest
from freezegun import freeze_time

from firmware.card import NO_PIN_LIMIT_FEN, PIN_NONE, PIN_OPTIONAL, PIN_REQUIRED, pin_rule
from hal import contracts
from hal.cards import CardSources
from hal.contracts import (
    CAP_KEY_ENTRY,
    CARD_INSERT,
    CARD_MODES,
    CARD_SCAN,
    CARD_SWIPE,
    CARD_TAP,
    LINK_WIFI,
    SYS_BOOT_COUNT,
    SYS_RESET,
    SYS_WATCHDOG,
    TICKS_PERIOD,
    Board,
    CardReader,
    Device,
    HalError,
    char_cells,
    declared,
    has,
)
from hal.soft.signer import N, SoftSigner, public_point, verify
from sim import cards
from sim.board import make_board
from sim.checked import (
    CheckedDevice,
    UndeclaredCapability,
    capability_methods,
    checked_board,
    guarded_contracts,
)
from sim.devices import LEGACY_FILE, SimClock
from sim.storage import DirStorage
from tests.portable import conformance
from virtual.devices import LoopbackLink, VirtualDisplay
from virtual.storage import TEAR_HALF, PowerCut, RamStorage

REPO = Path(__file__).parent.parent.parent


# ---- storage on disk -----------------------------------------------------------------------
@pytest.fixture
def make_dir_storage(tmp_path):
    count = itertools.count()
    return lambda: DirStorage(str(tmp_path / "state{}".format(next(count))), capacity=4096)


def test_dir_storage_conformance(make_dir_storage):
    # After every power cut of the checks, a DirStorage restarted from the directory must see
    # what the powered-on one sees: the tear landed on disk before PowerCut was raised.
    conformance.check_storage(
        make_dir_storage, reopen=lambda store: DirStorage(store.root, capacity=4096), virtual=True
    )


def test_dir_storage_keeps_only_synced_data_across_a_restart(tmp_path):
    root = str(tmp_path / "state")
    store = DirStorage(root)
    store.write("params.json", b'{"a":1}')
    store.write("gone", b"x")
    store.sync()
    store.write("params.json", b'{"a":2}')
    store.append("journal", b"rec1")
    store.remove("gone")
    assert sorted(os.listdir(root)) == ["params.json"]  # unsynced data never reaches the disk
    assert (tmp_path / "state" / "params.json").read_bytes() == b'{"a":1}'
    again = DirStorage(root)  # the process died without a power_cut(): the disk is what counts
    assert again.list() == ["params.json"] and again.read("params.json") == b'{"a":1}'


def test_dir_storage_power_cut_matches_the_disk(tmp_path):
    root = str(tmp_path / "state")
    store = DirStorage(root)
    store.write("journal", b"rec0|")
    store.write("tmp", b"new")
    store.sync()
    store.rename("tmp", "params")
    store.append("journal", b"rec1|")
    store.cut_at(1, TEAR_HALF)
    with pytest.raises(PowerCut):
        store.append("journal", b"rec2|")
    assert (tmp_path / "state" / "journal").read_bytes() == b"rec0|rec1|re"  # on disk at once
    with pytest.raises(PowerCut):
        store.list()
    again = DirStorage(root)  # the simulator restarted instead of powering on
    store.power_on()
    assert again.list() == store.list() == ["journal", "params"]
    assert again.read("journal") == store.read("journal") == b"rec0|rec1|re"
    assert again.read("params") == b"new"


def test_dir_storage_ignores_files_the_contract_cannot_name(tmp_path):
    root = tmp_path / "state"
    root.mkdir()
    (root / "README.TXT").write_bytes(b"not ours")
    (root / "~journal").write_bytes(b"a sync that never finished")
    (root / "sub").mkdir()
    (root / "ok.bin").write_bytes(b"ours")
    store = DirStorage(str(root))
    assert store.list() == ["ok.bin"] and store.free() == store.capacity - 4


# ---- clock ---------------------------------------------------------------------------------
def test_sim_clock_conformance():
    conformance.check_clock(SimClock, virtual=True)
    conformance.check_clock(lambda: SimClock(realtime=True), virtual=True)


def test_sim_clock_follows_frozen_host_time():
    with freeze_time("2026-03-01 12:00:00") as frozen:
        clock = SimClock()
        start = int(datetime.datetime(2026, 3, 1, 12, tzinfo=datetime.timezone.utc).timestamp())
        assert clock.time() == start
        frozen.tick(90)
        assert clock.time() == start + 90 and clock.ticks_ms() == 0  # virtual ticks stay
        clock.set_time(1800000000)
        assert clock.time() == 1800000000
        frozen.tick(10)
        assert clock.time() == 1800000010
        clock.sleep_ms(2500)
        assert clock.time() == 1800000012 and clock.ticks_ms() == 2500


def test_sim_clock_ticks_wrap_exactly():
    clock = SimClock()
    clock.advance(TICKS_PERIOD // 1000)
    assert clock.ticks_ms() == TICKS_PERIOD - 824
    clock.sleep_ms(1000)
    assert clock.ticks_ms() == 176


# ---- signer --------------------------------------------------------------------------------
# The simulator's signer is the boards' (hal/soft/signer.py: tests/portable/test_signer.py and,
# against cryptography, tests/host/test_signer_oracle.py); here only what the simulator adds.
def test_the_sim_board_signs_with_the_portable_signer_and_keeps_its_key(tmp_path):
    board = make_board(state_dir=str(tmp_path))
    assert isinstance(board.signer, SoftSigner)
    assert not (tmp_path / "keys" / "signer.key").exists()  # made at the first use, not at boot
    public = board.signer.public_key()
    assert (tmp_path / "keys" / "signer.key").exists() and LEGACY_FILE not in board.storage.list()
    assert make_board(state_dir=str(tmp_path)).signer.public_key() == public  # the next start


def test_an_older_state_dirs_signer_key_moves_to_the_key_store(tmp_path):
    value = 0x1234567890ABCDEF
    storage = DirStorage(str(tmp_path))
    storage.write(LEGACY_FILE, "{:064x}".format(value).encode())
    storage.sync()
    board = make_board(state_dir=str(tmp_path))
    x, y = public_point(value)
    assert board.signer.public_key() == b"\x04" + x.to_bytes(32, "big") + y.to_bytes(32, "big")
    assert LEGACY_FILE not in board.storage.list() and not (tmp_path / LEGACY_FILE).exists()
    assert (tmp_path / "keys" / "signer.key").exists()
    # A second legacy key beside the one in the key store: neither is thrown away.
    storage = DirStorage(str(tmp_path))
    storage.write(LEGACY_FILE, "{:064x}".format(value + 1).encode())
    storage.sync()
    with pytest.raises(HalError, match="both exist"):
        make_board(state_dir=str(tmp_path))
    assert LEGACY_FILE in DirStorage(str(tmp_path)).list()


def test_a_damaged_legacy_signer_key_stays_where_it_is(tmp_path):
    for bad in ("{:064x}".format(N).encode(), b"0" * 64, b"not hex", "{:064x}".format(N + 5).encode()):
        storage = DirStorage(str(tmp_path))
        storage.write(LEGACY_FILE, bad)
        storage.sync()
        with pytest.raises(HalError, match="signer.key is damaged"):
            make_board(state_dir=str(tmp_path))
        assert DirStorage(str(tmp_path)).read(LEGACY_FILE) == bad
        assert not (tmp_path / "keys" / "signer.key").exists()


# ---- board ---------------------------------------------------------------------------------
def test_sim_board_devices_conformance():
    # The firmware's keypad is the virtual keypad lent to the PIN entry (hal.soft.pin.LentKeypad).
    conformance.check_keypad(lambda: make_board().keypad, beeps=lambda k: k.device.beeps)
    conformance.check_keypad(lambda: make_board().keypad.device, virtual=True, beeps=lambda k: k.beeps)
    conformance.check_display(lambda: make_board().display, True, lambda d, x, y: d.pixel(x, y))
    conformance.check_card_reader(lambda: make_board().card_reader, lambda r, e: r.source(e.mode).present(e))
    conformance.check_signature_pad(lambda: make_board().signature_pad, virtual=True)
    conformance.check_clock(lambda: make_board().clock, virtual=True)


def test_make_board_in_ram():
    board = make_board()
    assert isinstance(board, Board)
    for slot in Board.__slots__:  # every device of the simulated board declares soundly
        assert declared(getattr(board, slot)) == [], slot
    assert isinstance(board.card_reader, CardSources) and board.card_reader.capabilities == CARD_MODES
    assert [part.capabilities for part in board.card_reader.sources] == [(mode,) for mode in CARD_MODES]
    assert type(board.storage) is RamStorage and isinstance(board.clock, SimClock)
    assert isinstance(board.display, VirtualDisplay) and isinstance(board.link, LoopbackLink)
    assert board.clock.realtime is False
    conformance.check_signer(lambda: board.signer, verify=verify)
    assert make_board().signer.public_key() != board.signer.public_key()


def test_make_board_with_a_state_dir_keeps_the_terminal_key(tmp_path):
    board = make_board(state_dir=str(tmp_path), realtime=True)
    assert isinstance(board.storage, DirStorage) and board.clock.realtime is True
    public = board.signer.public_key()  # made at the first use
    assert (tmp_path / "keys" / "signer.key").exists() and board.storage.list() == []
    again = make_board(state_dir=str(tmp_path))
    assert again.signer.public_key() == public
    assert again.security.tmk_check_value() == board.security.tmk_check_value() is not None


# ---- the scenario runner's capability proxy (sim/checked.py) ---------------------------------
def _device_of(contract, declared_all):
    """A bare device of contract declaring all its capabilities or none (its methods are the
    contract's own, which raise NotImplementedError when reached)."""
    caps = tuple(contract.CAPABILITIES)
    attrs = (
        {"capabilities": caps, "lacks": {}}
        if declared_all
        else {"capabilities": (), "lacks": dict.fromkeys(caps, "test")}
    )
    return type(("Full" if declared_all else "Bare") + contract.__name__, (contract,), attrs)()


def _call(proxy, contract, method):
    """Call method through the proxy with as many placeholder arguments as the contract takes."""
    params = inspect.signature(getattr(contract, method)).parameters
    required = [p for p in params.values() if p.default is inspect.Parameter.empty][1:]  # not self
    return getattr(proxy, method)(*[None] * len(required))


def test_the_capability_proxy_guards_every_contract_that_declares_capabilities():
    # The list is derived from hal.contracts: today's contracts with CAPABILITIES are all in it.
    names = {contract.__name__ for contract in guarded_contracts()}
    assert names == {
        "CardReader",
        "Clock",
        "Display",
        "Keypad",
        "Link",
        "PinEntry",
        "SecurityModule",
        "SignaturePad",
        "System",
    }
    seen = set()
    for contract in guarded_contracts():
        for method, capability in capability_methods(contract).items():
            seen.add((contract.__name__, capability))
            violations = []
            proxy = CheckedDevice(_device_of(contract, False), violations)
            with pytest.raises(UndeclaredCapability, match=repr(capability)):
                _call(proxy, contract, method)
            assert len(violations) == 1 and "Bare" + contract.__name__ in violations[0], method
            full = CheckedDevice(_device_of(contract, True), [])
            with pytest.raises(NotImplementedError):  # declared: the call reaches the device
                _call(full, contract, method)
            assert full.used == {capability: 1}
    for mode in CARD_MODES:  # a card reader's capabilities are the modes arm() is given
        violations = []
        with pytest.raises(UndeclaredCapability):
            CheckedDevice(_device_of(CardReader, False), violations).arm([mode])
        assert violations
    # Every capability with a method to call is guarded, the newest among them.
    for pair in (
        ("System", SYS_WATCHDOG),
        ("System", SYS_RESET),
        ("System", SYS_BOOT_COUNT),
        ("Link", LINK_WIFI),
        ("PinEntry", CAP_KEY_ENTRY),
    ):
        assert pair in seen


def test_a_contract_added_later_is_refused_by_the_proxy_until_it_is_mapped(monkeypatch):
    class Printer(Device):
        CAPABILITIES = ("cutter",)

        def cut(self):
            raise NotImplementedError

    class SlipPrinter(Printer):
        lacks = {"cutter": "no blade"}

    monkeypatch.setattr(contracts, "Printer", Printer, raising=False)
    assert Printer in guarded_contracts()
    with pytest.raises(LookupError, match="Printer declares CAPABILITIES"):
        CheckedDevice(SlipPrinter(), [])


def test_the_simulated_board_passes_its_own_proxy():
    # Every device of make_board() behind the proxy: nothing refused, the PIN entry and the system
    # among them (their capabilities are checked now).
    violations = []
    board = checked_board(make_board(), violations)
    assert board.system.watchdog_ms is None
    board.system.start_watchdog(8000)
    board.system.feed()
    assert has(board.pin_entry, CAP_KEY_ENTRY) and board.pin_entry.used == {}
    assert board.system.used == {SYS_WATCHDOG: 2} and violations == []


# ---- card deck -----------------------------------------------------------------------------
def _luhn_ok(pan):
    """Written here, independent of firmware/card.py."""
    total = 0
    for i, ch in enumerate(reversed(pan)):
        d = int(ch) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


REQUIRED = "debit credit visa mastercard expired badluhn garbled short tapsmall magonly".split()


def test_deck_has_the_documented_cards():
    assert set(REQUIRED) <= set(cards.DECK)
    doc = (REPO / "docs" / "CARDS.md").read_text()
    for name, card in cards.DECK.items():
        assert name == card.name
        assert "`{}`".format(name) in doc and card.track2 in doc, name
        assert card.kind in ("debit", "credit") and set(card.modes) <= {CARD_SWIPE, CARD_INSERT, CARD_TAP}
        assert card.note
        assert card.pin.isdigit() and 4 <= len(card.pin) <= 12, name
        assert "| `{}` | `{}` | `{}` |".format(name, card.track2, card.pin) in doc, name


def test_the_deck_asks_for_pins_as_cards_md_says():
    def rule(name, mode=CARD_SWIPE, amount=50000):
        return pin_rule(cards.DECK[name].track2.split("=")[1][4:7], mode, amount, NO_PIN_LIMIT_FEN)

    for name in ("debit", "expired", "badluhn", "magonly"):
        assert rule(name) == PIN_REQUIRED, name
    for name in ("credit", "visa", "mastercard"):
        assert rule(name) == PIN_OPTIONAL, name
    assert rule("tapsmall", CARD_TAP) == PIN_NONE
    assert rule("tapsmall", CARD_TAP, NO_PIN_LIMIT_FEN + 1) == rule("tapsmall") == PIN_REQUIRED


def test_deck_track2_parses_as_documented():
    for name, card in cards.DECK.items():
        if name == "garbled":
            pan, _, rest = card.track2.partition("=")
            assert not (pan.isdigit() and rest[:4].isdigit())
            continue
        pan, sep, rest = card.track2.partition("=")
        assert sep and pan.isdigit() and rest.isdigit() and len(card.track2) <= 37, name
        assert _luhn_ok(pan) == (name != "badluhn"), name
        assert (13 <= len(pan) <= 19) == (name != "short"), name
        assert rest[:4] == ("2312" if name == "expired" else "3112"), name
        assert (rest[4] in "26") == (CARD_INSERT in card.modes), name  # service code: chip or not
    assert len(cards.DECK["debit"].track2.split("=")[0]) == 19 and cards.DECK["debit"].track2.startswith("62")
    assert len(cards.DECK["credit"].track2.split("=")[0]) == 16
    assert cards.DECK["badluhn"].track2[:18] == cards.DECK["debit"].track2[:18]
    assert [n for n, c in cards.DECK.items() if not c.domestic] == ["visa", "mastercard"]
    assert cards.DECK["magonly"].modes == (CARD_SWIPE,) and CARD_TAP in cards.DECK["tapsmall"].modes


def test_card_events():
    swipe = cards.event("debit", CARD_SWIPE)
    assert (swipe.mode, swipe.data, swipe.org) == (CARD_SWIPE, "6217002430012345675=311222012345", "CUP")
    chip = cards.event("debit", CARD_INSERT)
    assert (chip.mode, chip.data) == (CARD_INSERT, "6217002430012345675D311222012345")
    tap = cards.event("credit", CARD_TAP)
    assert tap.data == "6259650012345671D311220198765F" and len(tap.data) % 2 == 0
    assert cards.event("visa", CARD_TAP).org == "VISA" and cards.event("mastercard", CARD_SWIPE).org == "MC"
    scan = cards.scan("https://pay.example/r/1")
    assert (scan.mode, scan.data, scan.org) == (CARD_SCAN, "https://pay.example/r/1", "")


def test_card_event_refuses_unknown_cards_and_modes():
    with pytest.raises(ValueError, match="no card 'amex'.*badluhn, credit, debit"):
        cards.event("amex", CARD_SWIPE)
    with pytest.raises(ValueError, match="'magonly' cannot be read by 'tap'"):
        cards.event("magonly", CARD_TAP)
    for mode in CARD_MODES:
        for name, card in cards.DECK.items():
            if mode not in card.modes:
                with pytest.raises(ValueError):
                    cards.event(name, mode)


# ---- display cell widths (hal.contracts.char_cells) against Unicode's East Asian Width ----------
# The blocks a Chinese terminal shows: ASCII, Latin-1 and Latin Extended-A, general punctuation,
# CJK symbols and kana, CJK ideographs and extension A, Hangul, the small and fullwidth forms,
# CJK extension B (rare characters of personal and shop names).
BLOCKS = (
    (0x20, 0x7E),
    (0xA0, 0x17F),
    (0x2000, 0x206F),
    (0x3000, 0x30FF),
    (0x3400, 0x4DBF),
    (0x4E00, 0x9FFF),
    (0xAC00, 0xD7A3),
    (0xFE10, 0xFE6F),
    (0xFF01, 0xFFEE),
    (0x20000, 0x2A6DF),
)


def test_char_cells_agree_with_east_asian_width():
    wrong = []
    for low, high in BLOCKS:
        for code in range(low, high + 1):
            ch = chr(code)
            if unicodedata.category(ch) in ("Cn", "Mn", "Me", "Cf", "Zl", "Zp"):
                continue
            wide = unicodedata.east_asian_width(ch) in ("W", "F")
            if char_cells(ch) != (2 if wide else 1):
                wrong.append(hex(code))
    assert wrong == []
