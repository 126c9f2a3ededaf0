# The registry of stored files: every record the firmware writes is declared here, with the module
# that validates it. A file in storage that this registry does not know is a bug (a test checks).
# The batch journal's files (segments, archives) are declared by firmware/batch.py (BATCH_FILES),
# the signature images beside them by firmware/sigfile.py (SIG_FILES), the signed receipts by
# firmware/receipt.py (RECEIPT_FILES).

from firmware.batch import BATCH_FILES
from firmware.counters import COUNTERS, PROVISIONED
from firmware.events import EVENTS
from firmware.journal import AUDIT, HOST_STATE, REVERSAL, SHOWN, TXN
from firmware.operators import ATTEMPTS, OPERATORS
from firmware.params import PARAMS
from firmware.receipt import RECEIPT_FILES
from firmware.settle import SETTLE
from firmware.sigfile import SIG_FILES
from firmware.store import EVIDENCE_PREFIX, evidence
from firmware.touchcal import TOUCH_CAL
from firmware.uptime import UPTIME
from firmware.wifi import WIFI

RECORDS = (
    COUNTERS,
    PROVISIONED,
    PARAMS,
    TOUCH_CAL,
    WIFI,
    TXN,
    REVERSAL,
    HOST_STATE,
    AUDIT,
    SHOWN,
    UPTIME,
    EVENTS,
    OPERATORS,
    ATTEMPTS,
    SETTLE,
)

# Nothing else lives in the firmware's storage: key material (the signer's key, the security
# module's keys) is in the board's key store, which this Storage cannot reach.


def owner(name):
    """The RecordFile a storage name belongs to (evidence belongs to the record it was), or None."""
    if name.startswith(EVIDENCE_PREFIX):
        parts = name.split(".", 2)
        if len(parts) != 3:
            return None
        name = parts[2]
    for spec in RECORDS:
        if name in spec.files():
            return spec
    if BATCH_FILES.owns(name):
        return BATCH_FILES
    if SIG_FILES.owns(name):
        return SIG_FILES
    if RECEIPT_FILES.owns(name):
        return RECEIPT_FILES
    return None


def unknown_files(storage):
    """Names in storage that no registered record accounts for."""
    return [n for n in storage.names() if owner(n) is None]


def faults(storage):
    """[(number, original name)] of the damaged files kept as evidence, oldest first."""
    return evidence(storage)
