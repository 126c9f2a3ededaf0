# The key store over a Storage of its own: named key blobs in a directory (or RAM, or a partition)
# that the firmware's Storage does not reach. Never hand this Storage to the firmware; never log a blob.
#
# Each key NAME is one file NAME.key in the record format of hal/record.py (QPR2: header with
# length and a CRC-32 over the header and the payload; payload {"blob": hex, "name": NAME, "v": 1};
# a QPR1 key file of the first format is still read, and written as QPR2 at its next save),
# replaced by writing NAME.new, sync, rename, sync. A file that fails any check is a fault
# (HalError), never read as empty and never replaced
# behind the caller's back: save() over it is the only way on, and that is the owner's decision.

import binascii

from hal.contracts import ENOENT, HalError, KeyStore, check_name
from hal.record import Damaged, pack, unpack, version

_SUFFIX = ".key"
_TEMP = ".new"
RECORD_LIMIT = 2200  # payload bytes: a 1024-byte blob is 2048 hex digits plus the fields around it
MAX_BLOB = 1024


def check_key_name(name):
    """ValueError unless name is a Storage name of at most 24 characters."""
    check_name(name)
    if len(name) > 24:  # + ".key" still a storage name
        raise ValueError("a key name has at most 24 characters")


def check_blob(blob):
    if type(blob) not in (bytes, bytearray) or not 0 < len(blob) <= MAX_BLOB:
        raise ValueError("a key blob is 1 to {} bytes".format(MAX_BLOB))


def encode_key(name, blob):
    """The bytes of a key record (hal/record.py format) holding blob under name."""
    return pack(1, {"v": 1, "name": name, "blob": binascii.hexlify(blob).decode()})


def decode_key(name, raw):
    """The blob of a key record for name, or None if raw is not exactly what encode_key() writes
    for that name (truncated, flipped, another key's record): damage, never "nearly right"."""
    try:
        seq, record = unpack(raw, RECORD_LIMIT)
        # Strict: only the exact bytes save() writes (a header digit in the other case, or a
        # payload that decodes alike, is damage too: a key file is never "nearly right").
        if seq != 1 or pack(seq, record, version(raw)) != bytes(raw):
            return None
    except (Damaged, TypeError, ValueError):
        return None
    blob = record.get("blob")
    if (
        type(record.get("v")) is not int
        or record["v"] != 1
        or record.get("name") != name
        or type(blob) is not str
    ):
        return None
    if not 0 < len(blob) <= 2 * MAX_BLOB:
        return None
    try:
        return binascii.unhexlify(blob)
    except ValueError:
        return None


def stored_key(name, raw):
    """The blob of a stored key record; HalError if it is damaged (never accepted or replaced)."""
    blob = decode_key(name, raw)
    if blob is None:
        raise HalError("key {} is damaged".format(name))
    return blob


def _is_missing(exc):
    return exc.args and exc.args[0] == ENOENT


class StorageKeyStore(KeyStore):
    """A KeyStore over `storage`, a Storage the firmware is never given (sim: DirStorage of
    STATE/keys or a RamStorage; a board: VfsStorage of its own directory, NVS later)."""

    def __init__(self, storage):
        self.storage = storage

    def _read(self, fname):
        try:
            return self.storage.read(fname)
        except OSError as exc:
            if _is_missing(exc):
                return None
            raise HalError("key store unreadable")

    def load(self, name):
        check_key_name(name)
        raw = self._read(name + _SUFFIX)
        if raw is None:
            # A file system whose rename is remove + rename (FAT) may leave only the finished
            # temp file after a power cut: it is the new key, synced before the rename.
            raw = self._read(name + _TEMP)
            if raw is None:
                return None
            blob = decode_key(name, raw)
            if blob is None:
                return None  # a torn temp file: the save never finished and no key was there
            self.storage.rename(name + _TEMP, name + _SUFFIX)
            self.storage.sync()
            return blob
        return stored_key(name, raw)

    def save(self, name, blob):
        check_key_name(name)
        check_blob(blob)
        data = encode_key(name, blob)
        try:
            self.storage.write(name + _TEMP, data)
            self.storage.sync()
            self.storage.rename(name + _TEMP, name + _SUFFIX)
            self.storage.sync()
        except OSError:
            raise HalError("key store cannot write")

    def delete(self, name):
        check_key_name(name)
        # The temp file first: a cut between the two removals then leaves the key (not deleted yet),
        # never a finished temp file that load() would take for the key.
        for fname in (name + _TEMP, name + _SUFFIX):
            try:
                self.storage.remove(fname)
            except OSError as exc:
                if not _is_missing(exc):
                    raise HalError("key store cannot delete")
        self.storage.sync()

    def names(self):
        found = []
        for fname in self.storage.list():
            if fname.endswith(_SUFFIX):
                found.append(fname[: -len(_SUFFIX)])
        found.sort()
        return found
