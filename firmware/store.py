# The record layer: every record the firmware keeps (firmware/registry.py lists them) is
# stored in one format, two generations, with damaged copies kept as numbered evidence. Never reset a
# record that failed to read, never overwrite evidence, never trust a byte read back unchecked.
#
# A record file NAME lives as two generations NAME.a and NAME.b (the newer is the one with the
# higher sequence number) plus NAME.tmp while a write is in flight. Each file is a 28-byte header
# "QPR2 <seq:8 hex> <length:4 hex> <crc32:8 hex>\n" and the payload: the record in canonical JSON,
# the CRC over the header's first 19 bytes and the payload (hal/record.py; QPR1 files of the first
# format, the CRC over the payload only, are still read and become QPR2 at the next save).

from firmware.compat import const, is_full, is_missing
from firmware.errors import StoredDataCorrupt

# The codec (canonical JSON, header, CRC) lives in hal/record.py so that the key store (hal/) uses the
# same format; it is re-exported here for the firmware's modules and tests.
from hal.record import Damaged, decode, encode, header, pack, pack_payload, salvage, unpack, version  # noqa: F401

_SLOTS = (".a", ".b")
_TMP = ".tmp"

EVIDENCE_PREFIX = "bad."
EVIDENCE_MAX_FILES = const(8)  # the budget: the oldest evidence is dropped first beyond it
EVIDENCE_MAX_BYTES = const(1024)  # a larger damaged file is kept as its first bytes only


# ---- Registered records ----------------------------------------------------------------------


class RecordFile:
    """One kind of record: its storage name (at most 20 characters, so evidence names fit), the
    validator that turns a stored dict into a trusted one (or raises Damaged), and a size limit.
    Every RecordFile the firmware uses is listed in firmware/registry.py."""

    __slots__ = ("name", "validate", "limit", "legacy")

    def __init__(self, name, validate, limit=2048, legacy=None):
        self.name = name
        self.validate = validate
        self.limit = limit
        self.legacy = legacy  # the plain-JSON file of firmware 0.1, read once if no generation exists

    def files(self):
        """The storage names this record may occupy."""
        names = [self.name + _SLOTS[0], self.name + _SLOTS[1], self.name + _TMP]
        if self.legacy:
            names.append(self.legacy)
        return names


class Loaded:
    """What load() found: `record` (a validated dict, or None when there is no usable copy), `seq`
    and `slot` of that copy, `fell_back` (a newer copy was damaged, an older one is used), `lost`
    (copies existed and none was usable) and `damaged` (storage names of the copies set aside)."""

    __slots__ = ("record", "seq", "slot", "fell_back", "lost", "damaged")

    def __init__(self):
        self.record = None
        self.seq = 0
        self.slot = None
        self.fell_back = False
        self.lost = False
        self.damaged = []


def _read(storage, name):
    """The file's bytes, None if it does not exist; Damaged if it exists but cannot be read."""
    try:
        return storage.read(name)
    except OSError as exc:
        if is_missing(exc):
            return None
        raise Damaged("unreadable")


def load(storage, spec):
    """Read the newest trustworthy generation of a record (see Loaded). Damaged copies become
    evidence; a complete NAME.tmp newer than both generations is finished (renamed into place); a
    torn or stale NAME.tmp, the normal residue of a power cut, is removed."""
    result = Loaded()
    good = []  # (seq, slot, record)
    newest_claimed = 0  # the highest sequence number a damaged copy's header still shows
    for slot in _SLOTS:
        name = spec.name + slot
        raw = None
        try:
            raw = _read(storage, name)
            if raw is None:
                continue
            seq, record = unpack(raw, spec.limit)
            good.append((seq, slot, spec.validate(record), version(raw)))
        except Damaged:
            # A damaged copy's header is not trusted (its sequence number may be the flipped
            # bit): it may have been the newer one.
            newest_claimed = 0xFFFFFFFF
            result.damaged.append(name)
            keep_evidence(storage, name)
    best = max(good) if good else None
    tmp = spec.name + _TMP
    finished = False
    found = True  # a temp file that cannot even be read is tried for removal too
    try:
        raw = _read(storage, tmp)
        found = raw is not None
        if found:
            seq, record = unpack(raw, spec.limit)
            record = spec.validate(record)
            if best is None or seq > best[0]:
                slot = _SLOTS[1] if best is not None and best[1] == _SLOTS[0] else _SLOTS[0]
                storage.rename(tmp, spec.name + slot)
                storage.sync()
                best = (seq, slot, record, version(raw))
                finished = True
    except Damaged:
        pass
    if found and not finished:
        _remove_quietly(storage, tmp)
    if best is None and spec.legacy and not result.damaged:
        best = _load_legacy(storage, spec, result)
    if best is None:
        result.lost = bool(result.damaged)
        return result
    result.seq, result.slot, result.record = best[0], best[1], best[2]
    # The first save writes both generations and they alternate, so both slots always exist: a
    # missing one may have been the newer (deleted, or lost with its directory entry). A QPR1
    # record (its first save wrote one generation) has both from its second on; a record of
    # firmware 0.1 (sequence 0) has none yet.
    first = 1 if best[3] == 2 else 2
    vanished = best[0] >= first and len(good) + len(result.damaged) + (1 if finished else 0) < 2
    result.fell_back = newest_claimed > best[0] or vanished
    return result


def older(storage, spec, loaded):
    """The generation written just before the one `loaded` holds (validated), or None when there is
    none, it is damaged, or it is not the directly older one. Reads only: for a rule that needs to
    know what a record said before its last save (firmware/journal.py: was this trace's reversal
    written ahead?)."""
    if loaded.slot not in _SLOTS or loaded.seq < 2:
        return None
    name = spec.name + (_SLOTS[1] if loaded.slot == _SLOTS[0] else _SLOTS[0])
    try:
        raw = _read(storage, name)
        if raw is None:
            return None
        seq, record = unpack(raw, spec.limit)
        if seq != loaded.seq - 1:
            return None
        return spec.validate(record)
    except Damaged:
        return None


def _load_legacy(storage, spec, result):
    try:
        raw = _read(storage, spec.legacy)
        if raw is None:
            return None
        if len(raw) > spec.limit:
            raise Damaged("too long")
        return (0, None, spec.validate(decode(raw)), 0)
    except Damaged:
        result.damaged.append(spec.legacy)
        keep_evidence(storage, spec.legacy)
        return None


def save(storage, spec, record, loaded):
    """Write record as the next generation (over the older one): NAME.tmp, sync, rename, sync. After
    a power cut anywhere in here, load() gives the old or the new record. `loaded` (from load() or a
    previous save()) is updated. Raises ValueError (nothing written) if the validator refuses it.
    The first save (no generation yet) writes the record twice, as generation 1 in NAME.a and 2 in
    NAME.b: a lone copy is then always a missing one (load() says fell_back), never a first save."""
    payload = encode(record)  # once: the validator checks what is written, not a second encoding
    spec.validate(decode(payload))
    from_legacy = loaded.slot is None and loaded.record is not None
    if loaded.slot is None:
        _write(storage, spec, loaded, record, pack_payload(loaded.seq + 1, payload))
    _write(storage, spec, loaded, record, pack_payload(loaded.seq + 1, payload))
    if from_legacy:
        _remove_quietly(storage, spec.legacy)
        storage.sync()


def _write(storage, spec, loaded, record, data):
    """One generation (data, packed at loaded.seq + 1) over the older slot; loaded updated."""
    seq = loaded.seq + 1
    target = _SLOTS[1] if loaded.slot == _SLOTS[0] else _SLOTS[0]
    tmp = spec.name + _TMP
    try:
        storage.write(tmp, data)
    except OSError as exc:
        if is_full(exc):
            raise
        # Something that is not a file stands at NAME.tmp: write the older generation in place.
        # A cut then tears only that copy; the newer one is still there to fall back to.
        storage.write(spec.name + target, data)
        tmp = None
    storage.sync()
    if tmp is not None:
        try:
            storage.rename(tmp, spec.name + target)
        except OSError:
            # The older slot cannot be replaced (something that is not a file stands there): use
            # the other one; the record lives on in one generation until the obstacle goes.
            target = _SLOTS[1] if target == _SLOTS[0] else _SLOTS[0]
            storage.rename(tmp, spec.name + target)
        storage.sync()
    loaded.seq = seq
    loaded.slot = target
    loaded.record = record


def _remove_quietly(storage, name):
    try:
        storage.remove(name)
    except OSError:
        pass  # already gone, or cannot go (a directory): it is read as damaged or ignored again


# ---- Evidence --------------------------------------------------------------------------------
# A damaged file is renamed bad.NNNNNN.<name>: numbered, never overwritten, at most
# EVIDENCE_MAX_FILES of them (the oldest dropped first), each at most EVIDENCE_MAX_BYTES (a larger one
# keeps its first bytes). So evidence never fills storage and never blocks a counter write.


def evidence(storage):
    """[(number, original name)] of the evidence kept, oldest first."""
    found = []
    for name in storage.names(EVIDENCE_PREFIX):
        if name.startswith(EVIDENCE_PREFIX):
            parts = name.split(".", 2)
            if len(parts) == 3 and len(parts[1]) == 6 and parts[1].isdigit():
                found.append((int(parts[1]), parts[2]))
    found.sort()
    return found


def exists(storage, name):
    """True if the file `name` is in storage (one size() asked, never a listing of the folder);
    OSError if storage fails otherwise."""
    try:
        storage.size(name)
    except OSError as e:
        if is_missing(e):
            return False
        raise
    return True


def ever_stored(storage, names):
    """True if any of the files `names` is in storage, or was and is kept as evidence (damaged)."""
    for name in names:
        if exists(storage, name):
            return True
    for _, original in evidence(storage):
        if original in names:
            return True
    return False


def evidence_name(number, original):
    s = str(number)
    return EVIDENCE_PREFIX + "0" * (6 - len(s)) + s + "." + original


def keep_evidence(storage, name):
    """Set the damaged file `name` aside as the next numbered evidence. Never raises for a file that
    cannot be moved or copied (it stays, and is reported again at the next read)."""
    kept = evidence(storage)
    number = (kept[-1][0] + 1) if kept else 1
    if number > 999999:
        number = 1  # after a million faults: restart, dropping the old ones below first
    while len(kept) >= EVIDENCE_MAX_FILES or (kept and kept[0][0] >= number):
        _remove_quietly(storage, evidence_name(kept[0][0], kept[0][1]))
        kept.pop(0)
    target = evidence_name(number, name)
    try:
        if storage.size(name) <= EVIDENCE_MAX_BYTES:
            storage.rename(name, target)
        else:
            head = storage.read(name)[:EVIDENCE_MAX_BYTES]
            storage.remove(name)
            storage.write(target, head)
        storage.sync()
    except OSError:
        _remove_quietly(storage, name)


def raise_if_lost(loaded, name):
    """StoredDataCorrupt if a record had copies and none was usable."""
    if loaded.lost:
        raise StoredDataCorrupt(name)
