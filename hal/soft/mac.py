# The MACs of host messages (field 64) and the ISO 9564 format-0 PIN block, over hal/soft/des.py.
# Only security module implementations call these: keys and PINs never leave the security module,
# and nothing here stores, logs or prints a key, a PIN or a PAN (error messages name no value).
#
# A MAC key is a double-length (16-byte) key given as a hal.soft.des.TripleDES, so its schedule is
# built once per key load, not once per message.

from hal.soft.des import TripleDES

_HEX = b"0123456789ABCDEF"


def _check_mak(mak):
    if type(mak) is not TripleDES or mak.key_size != 16:
        raise ValueError("a MAC key is a double-length (16-byte) TripleDES")


def pos_ecb_mac(mak, data):
    """The UnionPay POS "ECB" MAC of data (docs/PROTOCOL.md, The MAC): XOR all 8-byte blocks (the last
    zero-padded) into one, write it as 16 uppercase hex characters, 3DES-encrypt the first 8,
    XOR the result with the last 8, 3DES-encrypt again. Returns field 64: the first 8 uppercase hex
    characters of that result, as 8 ASCII bytes. Weak: swapping two blocks keeps the MAC."""
    _check_mak(mak)
    hexed = bytearray(16)
    for i in range(len(data)):
        hexed[i & 7] ^= data[i]  # zero padding changes nothing in an XOR
    for i in range(7, -1, -1):  # backwards, so byte i is read before hexed[i] is overwritten
        v = hexed[i]
        hexed[2 * i] = _HEX[v >> 4]
        hexed[2 * i + 1] = _HEX[v & 15]
    block = bytearray(8)
    mak.encrypt_into(hexed, block)  # the first 8 hex characters
    for i in range(8):
        block[i] ^= hexed[8 + i]
    mak.encrypt_into(block, block)
    out = bytearray(8)
    for i in range(4):
        out[2 * i] = _HEX[block[i] >> 4]
        out[2 * i + 1] = _HEX[block[i] & 15]
    return bytes(out)


def x919_mac(mak, data):
    """ANSI X9.19 retail MAC of data: CBC with single DES under the left key half over the
    zero-padded blocks (an empty message is one zero block), 3DES (left, right, left) on the
    last one. Returns the 8-byte binary MAC."""
    _check_mak(mak)
    left = mak.left
    chain = bytearray(8)
    n = len(data)
    last = (n - 1) // 8 * 8 if n else 0  # offset of the last block
    for pos in range(0, last, 8):
        for i in range(8):
            chain[i] ^= data[pos + i]
        left.encrypt_into(chain, chain)
    for i in range(n - last):
        chain[i] ^= data[last + i]
    mak.encrypt_into(chain, chain)
    return bytes(chain)


def mac_equal(a, b):
    """Compare two MACs in time that does not depend on where they differ."""
    if len(a) != len(b):
        return False
    diff = 0
    for i in range(len(a)):
        diff |= a[i] ^ b[i]
    return diff == 0


def _digit(s, i):
    """The value of the ASCII digit at s[i] (str, bytes or bytearray), or -1."""
    c = s[i]
    if type(c) is str:
        c = ord(c)
    c -= 48
    return c if 0 <= c <= 9 else -1


def _all_digits(s):
    for i in range(len(s)):
        if _digit(s, i) < 0:
            return False
    return True


def pin_block_format0(pin, pan, out=None):
    """The clear ISO 9564 format-0 PIN block: 0, the PIN length, the PIN digits, F padding, XORed
    with 0000 and the 12 rightmost PAN digits before the check digit. pin: 4 to 12 ASCII digits
    (str, bytes or bytearray), pan: 13 to 19 digits. Written into out (a bytearray of 8) if
    given, else into a new one; returned as a bytearray so the caller can wipe it once the block
    is encrypted under the PIN key."""
    n = len(pin)
    if n < 4 or n > 12 or not _all_digits(pin):
        raise ValueError("a PIN is 4 to 12 digits")
    m = len(pan)
    if m < 13 or m > 19 or not _all_digits(pan):
        raise ValueError("a PAN is 13 to 19 digits")
    if out is None:
        out = bytearray(8)
    # Nibble k of the PIN field: 0, n, the digits, then F; of the PAN field: 0 0 0 0, then the
    # PAN digits m-13 .. m-2 (0-based).
    for k in range(16):
        if k == 0:
            nib = 0
        elif k == 1:
            nib = n
        elif k - 2 < n:
            nib = _digit(pin, k - 2)
        else:
            nib = 15
        if k >= 4:
            nib ^= _digit(pan, m - 17 + k)
        if k & 1:
            out[k >> 1] |= nib
        else:
            out[k >> 1] = nib << 4
    return out
