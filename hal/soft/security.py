# The portable soft security module: TMK, working keys and the device's password key in a KeyStore,
# DES/3DES and the MACs in pure Python (hal/soft/des.py, hal/soft/mac.py). Never returns, logs or stores a key
# anywhere but its key store. Not tamper-resistant (docs/SECURITY.md says what a production board does).
#
# Key store entries: "tmk" (16 bytes, clear), "work" (60.3 as 3 ASCII digits + field 62 as delivered:
# the working keys stay encrypted under the TMK at rest and are checked again at every power-on),
# "device" (32 random bytes: the HMAC key of password_hash, made on first use).

import os

from hal.contracts import (
    KEYS_DOUBLE,
    KEYS_SINGLE,
    KEYS_TRACK,
    MAC_ALGORITHMS,
    MAC_ECB,
    MAC_X919,
    HalError,
    KeyRefused,
    NoKey,
    SecurityModule,
)
from hal.soft.des import SCHEDULE_WORDS, TripleDES, check_value
from hal.soft.hmac256 import hmac_sha256
from hal.soft.mac import mac_equal, pin_block_format0, pos_ecb_mac, x919_mac

TMK = "tmk"
WORK = "work"
DEVICE = "device"
_F62_SIZE = {KEYS_DOUBLE: 40, KEYS_TRACK: 60}
_KEY_NAMES = ("PIN key", "MAC key", "track key")


def _wipe(buf):
    for i in range(len(buf)):
        buf[i] = 0


def _unwrap(tmk, f62, count, scratch, slots):
    """[(TripleDES, check value)] of the count keys in field 62 (each 16 bytes encrypted under the
    TMK, then its 4-byte check value); KeyRefused naming the first key whose check value is wrong.
    Each check value is computed on a schedule built in `scratch`; only when every key is right are
    the keys' schedules built in `slots` (the lists of the keys in force, which a refused field 62
    leaves untouched). The clear keys are built in a bytearray wiped once their schedules exist."""
    view = memoryview(f62)
    clear = bytearray(16 * count)
    cv = memoryview(clear)
    kcvs = []
    try:
        for k in range(count):
            at = 20 * k
            tmk.decrypt_into(view[at : at + 8], cv[16 * k : 16 * k + 8])
            tmk.decrypt_into(view[at + 8 : at + 16], cv[16 * k + 8 : 16 * k + 16])
            kcv = TripleDES(cv[16 * k : 16 * k + 16], scratch).check_value()
            if not mac_equal(kcv, view[at + 16 : at + 20]):
                raise KeyRefused("{}: wrong check value".format(_KEY_NAMES[k]))
            kcvs.append(kcv)
        keys = []
        for k in range(count):
            keys.append((TripleDES(cv[16 * k : 16 * k + 16], slots[k]), kcvs[k]))
    finally:
        _wipe(clear)
        _wipe(scratch)
    return keys


class SoftSecurityModule(SecurityModule):
    """The SecurityModule in software over a KeyStore. urandom(n): the random source for the device
    key (default os.urandom; a port without one gets HalError from password_hash)."""

    capabilities = ()
    lacks = {"tamper_resistant": "keys in a key store file, pure-Python DES: no side-channel resistance"}

    def __init__(self, key_store, urandom=None):
        self._store = key_store
        self._urandom = urandom if urandom is not None else getattr(os, "urandom", None)
        self._pin_buf = bytearray(8)
        # The working keys' schedules (PIN, MAC, track key) and a scratch one for the check values,
        # allocated here, at boot, while the heap is whole: installed at a sign-in, in the middle of
        # a sale, a new 512-byte list may find no run that long (bench/README.md).
        self._slots = [[0] * SCHEDULE_WORDS for _ in range(4)]
        self._tmk = None
        self._tmk_kcv = None
        self._tmk_fault = None  # why the stored TMK cannot be used (damaged), or None
        self._work_fault = None
        self._hmac_key = None
        self._forget_working_keys()
        self._power_on()

    # ---- state -------------------------------------------------------------------------------
    def _power_on(self):
        try:
            tmk = self._store.load(TMK)
        except HalError as e:
            self._tmk_fault = str(e)
            return
        if tmk is None:
            # Working keys exist only under a TMK (a new TMK deletes them first): their file
            # without the TMK's means the TMK was lost (deleted, or not a file the store can
            # read), which is damage to report, never a fresh module to provision over.
            if WORK in self._store.names():
                self._tmk_fault = "key tmk is missing"
            return
        if len(tmk) != 16:
            self._tmk_fault = "key tmk is damaged"
            return
        self._set_tmk(tmk)
        try:
            work = self._store.load(WORK)
        except HalError as e:
            self._work_fault = str(e)
            return
        if work is None:
            return
        mode = bytes(work[:3]).decode() if len(work) > 3 else ""
        try:
            self._install(mode, work[3:])
        except (KeyRefused, UnicodeError):
            self._work_fault = "key work is damaged"

    def _set_tmk(self, tmk):
        self._tmk = TripleDES(tmk)
        self._tmk_kcv = check_value(tmk)

    def _forget_working_keys(self):
        for i in range(3):
            _wipe(self._slots[i])  # key material: zeroed, never left for the collector
        self._pik = None
        self._mak = None
        self._tdk = None
        self._key_set = None

    def _install(self, mode, f62):
        """Check and take the working keys of field 62 (KeyRefused, the keys in force untouched)."""
        size = _F62_SIZE.get(mode)
        if size is None or len(f62) != size:
            raise KeyRefused("field 62 of a {} sign-in answer must be {} bytes".format(mode, size))
        keys = _unwrap(self._tmk, f62, size // 20, self._slots[3], self._slots)
        self._pik, self._mak = keys[0][0], keys[1][0]
        self._tdk = keys[2][0] if len(keys) > 2 else None
        self._key_set = {
            "mode": mode,
            "pin": keys[0][1],
            "mac": keys[1][1],
            "track": keys[2][1] if len(keys) > 2 else None,
            "tmk": self._tmk_kcv,
        }

    def _need_tmk(self):
        if self._tmk_fault:
            raise HalError(self._tmk_fault)
        if self._tmk is None:
            raise NoKey("no terminal master key loaded")
        return self._tmk

    def _need_keys(self):
        self._need_tmk()
        if self._work_fault:
            raise HalError(self._work_fault)
        if self._key_set is None:
            raise NoKey("no working keys: sign in first")

    # ---- the contract ------------------------------------------------------------------------
    def tmk_check_value(self):
        if self._tmk_fault:
            raise HalError(self._tmk_fault)
        return self._tmk_kcv

    def load_tmk_components(self, components):
        if type(components) not in (list, tuple) or not 1 <= len(components) <= 3:
            raise ValueError("a TMK is 1 to 3 components")
        tmk = bytearray(16)
        try:
            for part in components:
                if type(part) not in (bytes, bytearray) or len(part) != 16:
                    raise ValueError("a TMK component is 16 bytes")
                for i in range(16):
                    tmk[i] ^= part[i]
            if not any(tmk):
                raise KeyRefused("the components cancel out: the TMK would be zero")
            # The working keys were delivered under the old TMK: they go first, so that a power
            # cut between the two writes never leaves old working keys under a new TMK.
            self._store.delete(WORK)
            self._forget_working_keys()
            self._work_fault = None
            self._store.save(TMK, tmk)
            self._set_tmk(tmk)
            self._tmk_fault = None
            self._replace_damaged_device_key()
        finally:
            _wipe(tmk)
        return self._tmk_kcv

    def _replace_damaged_device_key(self):
        """A new TMK is the recovery of a damaged device key too: the damaged one goes (a new one is
        made at the next password_hash); the passwords under it were reset by the firmware."""
        try:
            key = self._store.load(DEVICE)
        except HalError:
            key = b""
        if key is not None and len(key) != 32:
            self._store.delete(DEVICE)
            self._hmac_key = None

    def load_working_keys(self, f62, mode):
        if type(mode) is not str:
            raise ValueError("mode is 60.3 as three digits")
        if type(f62) not in (bytes, bytearray):
            raise ValueError("field 62 is bytes")
        if mode == KEYS_SINGLE:
            raise KeyRefused("single-length keys (60.3 = 001) are refused: the host must send 003 or 004")
        if mode not in _F62_SIZE:
            raise KeyRefused("unknown key mode (60.3 = {})".format(mode))
        self._need_tmk()
        # Check everything before anything changes: a refused key leaves the old ones in force.
        pik, mak, tdk, key_set = self._pik, self._mak, self._tdk, self._key_set
        try:
            self._install(mode, f62)
        except KeyRefused:
            self._pik, self._mak, self._tdk, self._key_set = pik, mak, tdk, key_set
            raise
        try:
            self._store.save(WORK, mode.encode() + bytes(f62))
        except HalError:
            self._forget_working_keys()  # not kept: they would be gone after a reboot
            raise
        self._work_fault = None

    def key_set(self):
        if self._tmk_fault:
            raise HalError(self._tmk_fault)
        if self._work_fault:
            raise HalError(self._work_fault)
        if self._key_set is None:
            return None
        return dict(self._key_set)

    def drop_working_keys(self):
        self._forget_working_keys()
        self._store.delete(WORK)
        self._work_fault = None

    def mac(self, data, algorithm=MAC_X919):
        if algorithm not in MAC_ALGORITHMS:
            raise ValueError("unknown MAC algorithm")
        self._need_keys()
        if algorithm == MAC_ECB:
            return pos_ecb_mac(self._mak, data)
        return x919_mac(self._mak, data)

    def verify_mac(self, data, mac, algorithm=MAC_X919):
        return mac_equal(self.mac(data, algorithm), mac)

    def encrypt_pin_block(self, pin, pan):
        self._need_keys()
        block = self._pin_buf
        try:
            pin_block_format0(pin, pan, block)
            self._pik.encrypt_into(block, block)  # the clear block never leaves this buffer
            return bytes(block)
        finally:
            _wipe(block)

    def password_hash(self, data):
        if self._hmac_key is None:
            key = self._store.load(DEVICE)
            if key is None:
                if self._urandom is None:
                    raise HalError("no random source for the device key")
                key = self._urandom(32)
                if len(key) != 32:
                    raise HalError("random source failed")
                self._store.save(DEVICE, key)
            elif len(key) != 32:
                raise HalError("key device is damaged")
            self._hmac_key = key
        return hmac_sha256(self._hmac_key, data)
