# The simulated board: the set of devices main.py hands to the firmware when running on a PC.
# CPython only; nothing in firmware/ or hal/ imports it.
import os

from hal.cards import CardSources
from hal.contracts import CARD_INSERT, CARD_SCAN, CARD_SWIPE, CARD_TAP, Board
from hal.soft.keystore import StorageKeyStore
from hal.soft.pin import KeypadPinEntry
from hal.soft.security import SoftSecurityModule
from hal.soft.signer import SoftSigner
from sim import provision
from sim.devices import SimClock, migrate_signer_key
from sim.link import RoutedTcpLink
from sim.storage import DirStorage
from virtual.devices import (
    LoopbackLink,
    VirtualCardReader,
    VirtualDisplay,
    VirtualKeypad,
    VirtualSignaturePad,
    VirtualSystem,
)
from virtual.storage import RamStorage

KEYS_DIR = "keys"  # STATE/keys: the key store, a directory the firmware's Storage (STATE) cannot reach


def make_key_store(state_dir=None):
    """The key store: STATE/keys on disk, or RAM. The firmware's DirStorage of STATE lists regular
    files only and takes flat names, so nothing in STATE/keys is reachable through it."""
    if state_dir is None:
        return StorageKeyStore(RamStorage())
    return StorageKeyStore(DirStorage(os.path.join(state_dir, KEYS_DIR)))


def make_board(
    state_dir=None,
    realtime=False,
    storage=None,
    key_store=None,
    terminal_id=provision.DEFAULT_TERMINAL,
    route=None,
):
    """A Board of virtual devices. state_dir: keep synced files in that directory and the keys in
    its keys/ directory across runs; None keeps them in RAM. realtime: ticks follow the host's
    monotonic clock and sleep_ms() sleeps. storage, key_store: reuse these (a reboot: what was
    synced survives, every other device is new). terminal_id: whose provisioning file gives the TMK
    when the security module has none (sim/provisioning/). The card reader is four parts, one per card
    mode, behind hal.cards.CardSources (card_reader.source(mode) is the VirtualCardReader of that mode).
    route: a sim.link.Route, the run's host: the link is a real TCP socket to it (RoutedTcpLink);
    None: no host (offline, the idle screen says "Link down")."""
    if storage is None:
        storage = RamStorage() if state_dir is None else DirStorage(state_dir)
    if key_store is None:
        key_store = make_key_store(state_dir)
    migrate_signer_key(storage, key_store)
    clock = SimClock(realtime=realtime)
    security = SoftSecurityModule(key_store)
    provision.provision(security, terminal_id)
    pin_entry = KeypadPinEntry(VirtualKeypad(), security, clock)
    return Board(
        keypad=pin_entry.keypad,  # the virtual keypad (.device), silent while a PIN entry reads it
        display=VirtualDisplay(),
        card_reader=CardSources(
            VirtualCardReader((CARD_SWIPE,)),
            VirtualCardReader((CARD_INSERT,)),
            VirtualCardReader((CARD_TAP,)),
            VirtualCardReader((CARD_SCAN,)),
        ),
        signature_pad=VirtualSignaturePad(),
        storage=storage,
        clock=clock,
        link=LoopbackLink(None, online=False) if route is None else RoutedTcpLink(route),
        signer=SoftSigner(key_store),  # the boards' pure-Python signer: its key made at first use
        system=VirtualSystem(),
        key_store=key_store,
        security=security,
        pin_entry=pin_entry,
    )
