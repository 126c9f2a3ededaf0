# Reads the test terminals' provisioning files (sim/provisioning/<terminal_id>.json: terminal_id,
# merchant_id, tmk as 32 hex digits, mac_algorithm "x919" (default) or "ecb", and receipt_pubkey,
# optional: the PEM of the terminal's receipt key, as `python -m sim.receipt pubkey` prints it; with
# it the host verifies the terminal's receipts, docs/RECEIPT.md). Never logs a key:
# errors name the file and the key's name, never its value.
import json
import os
import re
from dataclasses import dataclass

DEFAULT_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "provisioning")
_TERMINAL_ID = re.compile(r"[0-9A-Za-z]{8}")
_MERCHANT_ID = re.compile(r"[0-9A-Za-z]{15}")
_TMK = re.compile(r"[0-9A-Fa-f]{32}")


class ProvisioningError(Exception):
    """A provisioning file that is missing, unreadable or malformed; says which and why."""


@dataclass(frozen=True, slots=True, repr=False)
class Terminal:
    """One provisioned terminal. repr never shows the TMK."""

    terminal_id: str
    merchant_id: str
    tmk: bytes
    mac_algorithm: str = "x919"
    receipt_pubkey: str = ""  # PEM, or "": the terminal's receipts are not verified

    def __repr__(self):
        return "Terminal({} {} {})".format(self.terminal_id, self.merchant_id, self.mac_algorithm)


def parse(data, source="provisioning"):
    """The Terminal of one file's decoded JSON object; ProvisioningError naming what is wrong."""
    if not isinstance(data, dict):
        raise ProvisioningError("{}: not a JSON object".format(source))
    tid = data.get("terminal_id")
    mid = data.get("merchant_id")
    tmk = data.get("tmk")
    alg = data.get("mac_algorithm", "x919")
    if type(tid) is not str or not _TERMINAL_ID.fullmatch(tid):
        raise ProvisioningError("{}: terminal_id must be 8 letters or digits".format(source))
    if type(mid) is not str or not _MERCHANT_ID.fullmatch(mid):
        raise ProvisioningError("{}: merchant_id must be 15 letters or digits".format(source))
    if type(tmk) is not str or not _TMK.fullmatch(tmk):
        raise ProvisioningError("{}: tmk must be 32 hex digits".format(source))
    if alg not in ("x919", "ecb"):
        raise ProvisioningError('{}: mac_algorithm must be "x919" or "ecb"'.format(source))
    pub = data.get("receipt_pubkey", "")
    if pub:
        from sim.host.receipts import ReceiptProblem, public_key  # noqa: PLC0415 - cryptography at need

        try:
            public_key(pub if type(pub) is str else b"")
        except ReceiptProblem:
            raise ProvisioningError(
                "{}: receipt_pubkey must be a P-256 public key's PEM".format(source)
            ) from None
    return Terminal(tid, mid, bytes.fromhex(tmk), alg, pub)


class Provisioning:
    """The terminals of one directory, each read when first asked for (a file added while the
    host runs is seen)."""

    def __init__(self, directory=DEFAULT_DIR):
        self.directory = directory
        self._known = {}

    def terminal(self, terminal_id):
        """The Terminal with this id, or None when there is no file for it. ProvisioningError
        when the file is there but unusable (or names another terminal)."""
        if type(terminal_id) is not str or not _TERMINAL_ID.fullmatch(terminal_id):
            return None  # never a path: F41 is only ever a file name when it is 8 letters or digits
        found = self._known.get(terminal_id)
        if found is not None:
            return found
        path = os.path.join(self.directory, terminal_id + ".json")
        try:
            with open(path, encoding="utf-8") as f:
                data = json.load(f)
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as e:
            raise ProvisioningError("{}: {}".format(path, type(e).__name__))
        found = parse(data, path)
        if found.terminal_id != terminal_id:
            raise ProvisioningError("{}: terminal_id differs from the file name".format(path))
        self._known[terminal_id] = found
        return found
