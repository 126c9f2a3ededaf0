# The simulated board: the set of devices main.py hands to the firmware when running on a PC.
# CPython only; nothing in firmware/ or hal/ imports it.
from hal.contracts import Board
from hal.virtual import (
    LoopbackLink,
    RamStorage,
    VirtualCardReader,
    VirtualDisplay,
    VirtualKeypad,
    VirtualSignaturePad,
)
from sim.devices import SimClock, SoftSigner
from sim.storage import DirStorage


def make_board(state_dir=None, realtime=False, seed=0):
    """A Board of virtual devices. state_dir: keep synced files (and the signing key) in that
    directory across runs; None keeps them in RAM. realtime: ticks follow the host's monotonic
    clock and sleep_ms() sleeps. seed: the storage's power-cut tear generator."""
    if state_dir is None:
        storage = RamStorage(seed=seed)
    else:
        storage = DirStorage(state_dir, seed=seed)
    return Board(
        keypad=VirtualKeypad(),
        display=VirtualDisplay(),
        card_reader=VirtualCardReader(),
        signature_pad=VirtualSignaturePad(),
        storage=storage,
        clock=SimClock(realtime=realtime),
        link=LoopbackLink(None),
        signer=SoftSigner.load_or_create(storage),
    )
