# Provisioning of the simulated test terminals: one JSON file per terminal in sim/provisioning/
# (terminal id, merchant id, TMK, MAC algorithm), read by the simulator and the host simulator.
# CPython only. Test keys only: never print, log or put a TMK in an error message.
import json
import os
import re
from dataclasses import dataclass

from hal.contracts import HalError

DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "provisioning")
DEFAULT_TERMINAL = "10000001"  # the terminal id the parameters start with (firmware/params.py)
_FIELDS = {"terminal_id", "merchant_id", "tmk", "mac_algorithm"}
_OPTIONAL = {"receipt_pubkey"}  # the host's (sim/host/provisioning.py): the terminal makes its own key


@dataclass(frozen=True)
class Provisioning:
    terminal_id: str
    merchant_id: str
    tmk: bytes = b""
    mac_algorithm: str = "x919"

    def __repr__(self):  # the dataclass one would print the TMK
        return f"Provisioning({self.terminal_id}, {self.merchant_id}, tmk=<16 bytes>, {self.mac_algorithm})"


def path(terminal_id):
    if not re.fullmatch(r"[0-9]{8}", terminal_id or ""):
        raise ValueError("a terminal id is 8 digits")
    return os.path.join(DIR, terminal_id + ".json")


def terminals():
    """The terminal ids that have a provisioning file, sorted."""
    return sorted(name[:-5] for name in os.listdir(DIR) if name.endswith(".json"))


def load(terminal_id):
    """The provisioning of a test terminal; ValueError (naming the file and the field, never a
    key's value) if the file is missing or malformed."""
    where = path(terminal_id)
    try:
        with open(where, encoding="utf-8") as f:
            record = json.load(f)
    except (OSError, ValueError) as e:
        raise ValueError(f"{where}: cannot read it ({type(e).__name__})") from None
    if not isinstance(record, dict) or not _FIELDS <= set(record) <= _FIELDS | _OPTIONAL:
        raise ValueError(
            f"{where}: needs exactly the fields {', '.join(sorted(_FIELDS))} (and receipt_pubkey, optional)"
        )
    if record["terminal_id"] != terminal_id:
        raise ValueError(f"{where}: terminal_id does not match the file name")
    if not re.fullmatch(r"[0-9]{15}", str(record["merchant_id"])):
        raise ValueError(f"{where}: merchant_id is 15 digits")
    if record["mac_algorithm"] not in ("x919", "ecb"):
        raise ValueError(f"{where}: mac_algorithm is x919 or ecb")
    tmk = record["tmk"]
    if not isinstance(tmk, str) or not re.fullmatch(r"[0-9A-Fa-f]{32}", tmk):
        raise ValueError(f"{where}: tmk is 32 hex digits")
    return Provisioning(terminal_id, record["merchant_id"], bytes.fromhex(tmk), record["mac_algorithm"])


def provision(security, terminal_id=DEFAULT_TERMINAL):
    """Load the terminal's TMK into the security module if it has none (a factory's key
    injection); a module that has one, or a damaged or lost one (HalError: working keys without
    their TMK are damage, not a fresh module), keeps it: provisioning never deletes a working key
    on its way to a failed write. Returns the Provisioning."""
    prov = load(terminal_id)
    try:
        loaded = security.tmk_check_value()
    except HalError:
        return prov  # a damaged TMK is the module's fault to report, never silently replaced
    if loaded is None:
        security.load_tmk_components([prov.tmk])
    return prov
