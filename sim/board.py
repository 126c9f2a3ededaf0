# The simulated board: the set of devices main.py hands to the firmware when running on a PC.
# CPython only; nothing in firmware/ or hal/ imports it.
from hal.cards import CardSources
from hal.contracts import CARD_INSERT, CARD_SCAN, CARD_SWIPE, CARD_TAP, Board
from sim.devices import SimClock, SoftSigner
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


def make_board(state_dir=None, realtime=False, storage=None):
    """A Board of virtual devices. state_dir: keep synced files (and the signing key) in that
    directory across runs; None keeps them in RAM. realtime: ticks follow the host's monotonic
    clock and sleep_ms() sleeps. storage: reuse this storage (a reboot: what was synced survives,
    every other device is new). The card reader is four parts, one per card mode, behind
    hal.cards.CardSources (card_reader.source(mode) is the VirtualCardReader of that mode)."""
    if storage is None:
        storage = RamStorage() if state_dir is None else DirStorage(state_dir)
    return Board(
        keypad=VirtualKeypad(),
        display=VirtualDisplay(),
        card_reader=CardSources(
            VirtualCardReader((CARD_SWIPE,)),
            VirtualCardReader((CARD_INSERT,)),
            VirtualCardReader((CARD_TAP,)),
            VirtualCardReader((CARD_SCAN,)),
        ),
        signature_pad=VirtualSignaturePad(),
        storage=storage,
        clock=SimClock(realtime=realtime),
        link=LoopbackLink(None, online=False),  # no acquirer host yet: the idle screen says "Link down"
        signer=SoftSigner.load_or_create(storage),
        system=VirtualSystem(),
    )
