# The key store in the ESP32's NVS (esp32.NVS, one namespace): named key blobs outside every file
# system, so no Storage and no mpremote file copy reaches them. Never logs a blob; never imports esp32.
#
# NVS keys are at most 15 characters and a namespace cannot be listed, so:
# - each key NAME lives under the NVS key "k" + 14 hex digits of SHA-256(NAME), as the record of
#   hal/soft/keystore.py (encode_key: header with length and CRC-32, payload with the name and the
#   blob), so a record found under another name's slot is damage, like a truncated or flipped one;
# - the NVS key "names" holds the list of names (a record of the same format, no key material),
#   written before a key is added and after it is erased: a cut between leaves a name whose key is
#   absent, which names() leaves out (it lists the names whose slot holds something).
# Each set_blob replaces its entry atomically (ESP-IDF NVS writes the new entry, then erases the
# old one); commit() after every change makes it durable. A damaged key or a damaged index is a
# HalError, never read as empty and never rewritten behind the caller's back: save() of that key is
# the only way on for a key; for the index, erasing the namespace (docs/BOARD.md).

import hashlib

from hal.contracts import HalError, KeyStore
from hal.record import HEADER_SIZE, Damaged, pack, unpack, version
from hal.soft.keystore import RECORD_LIMIT, check_blob, check_key_name, encode_key, stored_key

_INDEX = "names"
_INDEX_LIMIT = 4000  # payload bytes of the index: 150 names of 24 characters and their quotes
_BUFFER = HEADER_SIZE + RECORD_LIMIT  # the largest record load() accepts
# ESP-IDF's esp_err_t codes, which MicroPython's esp32 module raises as OSError(-code, name).
ESP_ERR_NVS_NOT_FOUND = 0x1102
ESP_ERR_NVS_INVALID_LENGTH = 0x110C


def slot(name):
    """The NVS key (15 characters) where the key NAME is kept."""
    digest = hashlib.sha256(name.encode()).digest()
    digits = "0123456789abcdef"
    return "k" + "".join(digits[b >> 4] + digits[b & 15] for b in digest[:7])


def _errno(exc):
    return exc.args[0] if exc.args else None


class NvsKeyStore(KeyStore):
    """The KeyStore contract over nvs, an esp32.NVS namespace (get_blob, set_blob, erase_key,
    commit); the board passes esp32.NVS("qpkeys")."""

    def __init__(self, nvs):
        self.nvs = nvs

    def _get(self, key, limit):
        """The bytes stored under key, None if there is none; HalError if NVS fails or holds more
        than limit bytes there (a key store never wrote that: damage)."""
        buf = bytearray(limit)
        try:
            n = self.nvs.get_blob(key, buf)
        except OSError as exc:
            code = _errno(exc)
            if code == -ESP_ERR_NVS_NOT_FOUND:
                return None
            if code == -ESP_ERR_NVS_INVALID_LENGTH:
                raise HalError("key store entry {} is damaged (too long)".format(key))
            raise HalError("key store unreadable")
        return bytes(buf[:n])

    def _index(self):
        raw = self._get(_INDEX, HEADER_SIZE + _INDEX_LIMIT)
        if raw is None:
            return []
        try:
            seq, record = unpack(raw, _INDEX_LIMIT)
            names = record.get("names")
            if (
                seq != 1
                or pack(seq, record, version(raw)) != raw
                or type(record.get("v")) is not int
                or record["v"] != 1
                or type(names) is not list
            ):
                raise ValueError("not an index")
            for name in names:
                check_key_name(name)
        except (Damaged, TypeError, ValueError):
            raise HalError("key store index is damaged")
        return names

    def _set_index(self, names):
        names.sort()
        data = pack(1, {"v": 1, "names": names})
        if len(data) > HEADER_SIZE + _INDEX_LIMIT:  # refused before writing: never an unreadable index
            raise HalError("key store full (too many names)")
        self._put(_INDEX, data)

    def _put(self, key, data):
        try:
            self.nvs.set_blob(key, data)
            self.nvs.commit()
        except OSError:
            raise HalError("key store cannot write")

    def _erase(self, key):
        try:
            self.nvs.erase_key(key)
        except OSError as exc:
            if _errno(exc) != -ESP_ERR_NVS_NOT_FOUND:
                raise HalError("key store cannot delete")
        try:
            self.nvs.commit()
        except OSError:
            raise HalError("key store cannot delete")

    def load(self, name):
        check_key_name(name)
        raw = self._get(slot(name), _BUFFER)
        if raw is None:
            return None
        return stored_key(name, raw)

    def save(self, name, blob):
        check_key_name(name)
        check_blob(blob)
        names = self._index()  # a damaged index refuses the save: it is never rewritten blind
        if name not in names:
            names.append(name)
            self._set_index(names)
        self._put(slot(name), encode_key(name, bytes(blob)))

    def delete(self, name):
        check_key_name(name)
        self._erase(slot(name))
        names = self._index()
        if name in names:
            names.remove(name)
            self._set_index(names)

    def names(self):
        found = []
        for name in self._index():
            try:
                present = self._get(slot(name), _BUFFER) is not None
            except HalError:
                present = True  # damaged ones are listed: they are there
            if present:
                found.append(name)
        found.sort()
        return found
