# Small records (parameters, counters) on Storage: written whole and atomically, read back
# with validation. Never overwrite a file that failed to parse: it is set aside as NAME.bad.

import json

from firmware.compat import is_missing
from firmware.errors import StoredDataCorrupt


def encode(record):
    """A flat dict to JSON bytes with sorted keys (MicroPython's json has no sort_keys; dict order
    differs between runtimes and an encoding must not depend on it)."""
    parts = []
    for key in sorted(record):
        parts.append("{}:{}".format(json.dumps(key), json.dumps(record[key])))
    return ("{" + ",".join(parts) + "}").encode()


def write_record(storage, name, record):
    """Replace file `name` with the record atomically: after a power cut it holds the old or the new."""
    tmp = name + ".tmp"
    storage.write(tmp, encode(record))
    storage.sync()
    storage.rename(tmp, name)
    storage.sync()


def read_record(storage, name):
    """The dict stored in `name`, or None if the file does not exist.
    A file that is not a JSON object is renamed NAME.bad and StoredDataCorrupt is raised."""
    try:
        raw = storage.read(name)
    except OSError as exc:
        if is_missing(exc):
            return None
        raise
    try:
        record = json.loads(raw.decode())
    except (ValueError, UnicodeError):
        record = None
    if not isinstance(record, dict):
        storage.rename(name, name + ".bad")
        storage.sync()
        raise StoredDataCorrupt(name)
    return record
