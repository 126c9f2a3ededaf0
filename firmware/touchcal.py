# The touch screen's calibration (触摸屏校准): the signature pad's own numbers, stored as one record
# and handed back to the pad at every boot. Never interprets them (the pad made them); a stored
# calibration the pad refuses leaves the pad's default in place, never a crash.

from firmware.store import Damaged, RecordFile, load, save
from hal.contracts import CAP_CALIBRATE, has


def _validate(record):
    cal = record.get("cal")
    if (
        type(record.get("v")) is not int
        or record["v"] != 1
        or type(cal) is not list
        or not 0 < len(cal) <= 16
    ):
        raise Damaged("bad touch calibration")
    for value in cal:
        if type(value) is not int:
            raise Damaged("bad touch calibration")
    return record


TOUCH_CAL = RecordFile("touchcal", _validate, 512)


def store(storage, cal):
    """Save a calibration (what the pad's calibration() returned) as the next generation."""
    save(storage, TOUCH_CAL, {"v": 1, "cal": list(cal)}, load(storage, TOUCH_CAL))


def apply_stored(term):
    """At boot: hand the stored calibration to a pad that can take one. True if one was applied.
    A storage that fails or a damaged record (kept as evidence by load()) leaves the default."""
    pad = term.signature_pad
    if not has(pad, CAP_CALIBRATE):
        return False
    try:
        record = load(term.storage, TOUCH_CAL).record
    except OSError:
        return False
    if record is None:
        return False
    try:
        term.use("dev_signature_pad", pad.set_calibration, record["cal"])
    except ValueError:  # numbers this pad does not take (another model's): its default stays
        return False
    return "dev_signature_pad" not in term.device_faults
