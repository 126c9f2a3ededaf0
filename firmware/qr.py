# QR code (ISO/IEC 18004, model 2) encoder: text or bytes -> the symbol's modules, packed as the
# Display contract's blit() takes them. Never draws and never keeps a symbol between calls.
#
# One segment in the narrowest mode the data allows (numeric, alphanumeric, byte; a str is UTF-8,
# no ECI), error correction L, M, Q or H, versions 1..40 (the smallest that holds the data, unless
# one is asked for), the mask of least penalty (7.8.3: N1..N4, ties to the lower mask number). The
# masks are scored with the format and version areas and the dark module light, before they are
# drawn (7.8: the format information depends on the mask), as segno scores them: the tests compare
# whole matrices with segno's.
#
# MicroPython: the tables are bytes constants (flash when frozen). A symbol is built in two
# bytearrays of size x size (module, function) and its rows and columns scored as long ints (one C
# operation masks a row; bytes.find and bytes.count look for runs and finder-like patterns), so an
# encode allocates some kilobytes for a moment and keeps size * (size + 7) // 8 bytes.

from firmware.compat import const

# Error correction levels (the order of the tables below; the format bits are _LEVEL_BITS).
L = const(0)  # about 7 % of the codewords can be restored
M = const(1)  # 15 %
Q = const(2)  # 25 %
H = const(3)  # 30 %
LEVELS = "LMQH"
_LEVEL_BITS = b"\x01\x00\x03\x02"

MAX_VERSION = const(40)
QUIET = const(4)  # the light margin a reader needs around the symbol, in modules (ISO: 4)

# 7.5.1 Table 9, by level (L, M, Q, H) then version 1..40: error correction codewords per block,
# and the number of blocks (tests/host/test_qr_oracle.py checks them against segno's).
_ECC_PER_BLOCK = (
    b"\x07\x0a\x0f\x14\x1a\x12\x14\x18\x1e\x12\x14\x18\x1a\x1e\x16\x18\x1c\x1e\x1c\x1c"  # L, versions 1-20
    b"\x1c\x1c\x1e\x1e\x1a\x1c\x1e\x1e\x1e\x1e\x1e\x1e\x1e\x1e\x1e\x1e\x1e\x1e\x1e\x1e"  # L, 21-40
    b"\x0a\x10\x1a\x12\x18\x10\x12\x16\x16\x1a\x1e\x16\x16\x18\x18\x1c\x1c\x1a\x1a\x1a"  # M, versions 1-20
    b"\x1a\x1c\x1c\x1c\x1c\x1c\x1c\x1c\x1c\x1c\x1c\x1c\x1c\x1c\x1c\x1c\x1c\x1c\x1c\x1c"  # M, 21-40
    b"\x0d\x16\x12\x1a\x12\x18\x12\x16\x14\x18\x1c\x1a\x18\x14\x1e\x18\x1c\x1c\x1a\x1e"  # Q, versions 1-20
    b"\x1c\x1e\x1e\x1e\x1e\x1c\x1e\x1e\x1e\x1e\x1e\x1e\x1e\x1e\x1e\x1e\x1e\x1e\x1e\x1e"  # Q, 21-40
    b"\x11\x1c\x16\x10\x16\x1c\x1a\x1a\x18\x1c\x18\x1c\x16\x18\x18\x1e\x1c\x1c\x1a\x1c"  # H, versions 1-20
    b"\x1e\x18\x1e\x1e\x1e\x1e\x1e\x1e\x1e\x1e\x1e\x1e\x1e\x1e\x1e\x1e\x1e\x1e\x1e\x1e"  # H, 21-40
)
_BLOCKS = (
    b"\x01\x01\x01\x01\x01\x02\x02\x02\x02\x04\x04\x04\x04\x04\x06\x06\x06\x06\x07\x08"  # L, versions 1-20
    b"\x08\x09\x09\x0a\x0c\x0c\x0c\x0d\x0e\x0f\x10\x11\x12\x13\x13\x14\x15\x16\x18\x19"  # L, 21-40
    b"\x01\x01\x01\x02\x02\x04\x04\x04\x05\x05\x05\x08\x09\x09\x0a\x0a\x0b\x0d\x0e\x10"  # M, versions 1-20
    b"\x11\x11\x12\x14\x15\x17\x19\x1a\x1c\x1d\x1f\x21\x23\x25\x26\x28\x2b\x2d\x2f\x31"  # M, 21-40
    b"\x01\x01\x02\x02\x04\x04\x06\x06\x08\x08\x08\x0a\x0c\x10\x0c\x11\x10\x12\x15\x14"  # Q, versions 1-20
    b"\x17\x17\x19\x1b\x1d\x22\x22\x23\x26\x28\x2b\x2d\x30\x33\x35\x38\x3b\x3e\x41\x44"  # Q, 21-40
    b"\x01\x01\x02\x04\x04\x04\x05\x06\x08\x08\x0b\x0b\x10\x10\x12\x10\x13\x15\x19\x19"  # H, versions 1-20
    b"\x19\x22\x1e\x20\x23\x25\x28\x2a\x2d\x30\x33\x36\x39\x3c\x3f\x42\x46\x4a\x4d\x51"  # H, 21-40
)

# Modes: (indicator, character count bits for versions 1-9, 10-26, 27-40).
_NUMERIC = b"\x01\x0a\x0c\x0e"
_ALPHANUMERIC = b"\x02\x09\x0b\x0d"
_BYTE = b"\x04\x08\x10\x10"
_ALNUM_CHARS = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"

_FINDER_LIKE = b"\x01\x00\x01\x01\x01\x00\x01"  # 1:1:3:1:1, dark first (N3)
_RUN_DARK = b"\x01\x01\x01\x01\x01"  # five in a row (N1)
_RUN_LIGHT = b"\x00\x00\x00\x00\x00"


class TooLong(ValueError):
    """The data does not fit a symbol of the versions allowed at this error correction level."""


class Symbol:
    """An encoded QR symbol: `size` x `size` modules (size = 17 + 4 * version), `bits` its rows
    packed MSB first, `stride` = (size + 7) // 8 bytes a row, 1 = dark (what blit() takes; no
    quiet zone: leave QUIET light modules around it). `version`, `level` (L, M, Q, H) and `mask`
    say how it was made."""

    __slots__ = ("version", "level", "mask", "size", "stride", "bits")

    def __init__(self, version, level, mask, size, bits):
        self.version = version
        self.level = level
        self.mask = mask
        self.size = size
        self.stride = (size + 7) // 8
        self.bits = bits

    def module(self, x, y):
        """1 if the module in column x, row y is dark, else 0."""
        return (self.bits[y * self.stride + (x >> 3)] >> (7 - (x & 7))) & 1


def encode(data, level=M, version=None, mask=None):
    """The Symbol of data (bytes, or a str taken as UTF-8) at error correction level (L, M, Q, H):
    in the smallest version that holds it, or in `version` (1..40); with the mask of least penalty,
    or `mask` (0..7). TooLong if it does not fit; ValueError for a level, version or mask out of
    range."""
    if isinstance(data, str):
        data = data.encode()
    if level not in (L, M, Q, H):
        raise ValueError("error correction level must be L, M, Q or H")
    if mask is not None and not 0 <= mask <= 7:
        raise ValueError("mask must be 0..7")
    mode = _mode(data)
    first, last = (1, MAX_VERSION) if version is None else (version, version)
    if not 1 <= first <= MAX_VERSION:
        raise ValueError("version must be 1..40")
    for v in range(first, last + 1):
        if _bits_needed(mode, len(data), v) <= _data_codewords(v, level) * 8:
            break
    else:
        raise TooLong("{} bytes do not fit a QR code at level {}".format(len(data), LEVELS[level]))
    codewords = _codewords(_data_bits(data, mode, v, level), v, level)
    return _place(codewords, v, level, mask)


# ---- the data ------------------------------------------------------------------------------


def _mode(data):
    numeric = alphanumeric = True
    for b in data:
        if not 48 <= b <= 57:
            numeric = False
            if b not in _ALNUM_CHARS:
                alphanumeric = False
                break
    if numeric:
        return _NUMERIC
    return _ALPHANUMERIC if alphanumeric else _BYTE


def _count_bits(mode, version):
    return mode[1] if version < 10 else mode[2] if version < 27 else mode[3]


def _bits_needed(mode, n, version):
    if mode is _NUMERIC:
        body = 10 * (n // 3) + (0, 4, 7)[n % 3]
    elif mode is _ALPHANUMERIC:
        body = 11 * (n // 2) + 6 * (n % 2)
    else:
        body = 8 * n
    return 4 + _count_bits(mode, version) + body


def _raw_modules(version):
    """The modules of a version's encoding region (data and error correction, remainder bits)."""
    n = (16 * version + 128) * version + 64
    if version >= 2:
        align = version // 7 + 2
        n -= (25 * align - 10) * align - 55
        if version >= 7:
            n -= 36
    return n


def _data_codewords(version, level):
    i = level * MAX_VERSION + version - 1
    return _raw_modules(version) // 8 - _ECC_PER_BLOCK[i] * _BLOCKS[i]


def _put(buf, pos, value, nbits):
    for i in range(nbits - 1, -1, -1):
        if (value >> i) & 1:
            buf[pos >> 3] |= 0x80 >> (pos & 7)
        pos += 1
    return pos


def _data_bits(data, mode, version, level):
    """The data codewords: mode, count, the data, terminator, pad bytes (7.4)."""
    size = _data_codewords(version, level)
    buf = bytearray(size)
    n = len(data)
    pos = _put(buf, 0, mode[0], 4)
    pos = _put(buf, pos, n, _count_bits(mode, version))
    if mode is _NUMERIC:
        for i in range(0, n, 3):
            value = 0
            for c in data[i : i + 3]:
                value = value * 10 + c - 48
            pos = _put(buf, pos, value, (0, 4, 7, 10)[len(data[i : i + 3])])
    elif mode is _ALPHANUMERIC:
        for i in range(0, n - 1, 2):
            pair = _ALNUM_CHARS.find(data[i : i + 1]) * 45 + _ALNUM_CHARS.find(data[i + 1 : i + 2])
            pos = _put(buf, pos, pair, 11)
        if n % 2:
            pos = _put(buf, pos, _ALNUM_CHARS.find(data[n - 1 : n]), 6)
    else:
        for b in data:
            pos = _put(buf, pos, b, 8)
    # the terminator (up to four 0 bits) and the bits to a byte boundary are the zeros already there
    first = (min(pos + 4, size * 8) + 7) >> 3
    for i in range(first, size):
        buf[i] = 0xEC if (i - first) % 2 == 0 else 0x11
    return buf


def _codewords(data, version, level):
    """The final sequence (7.6): the data split into blocks, each block's Reed-Solomon error
    correction codewords (GF(256), polynomial 0x11D), data and then error correction interleaved."""
    i = level * MAX_VERSION + version - 1
    nblocks = _BLOCKS[i]
    ecc = _ECC_PER_BLOCK[i]
    raw = _raw_modules(version) // 8
    short = nblocks - raw % nblocks  # blocks one data codeword shorter than the others
    short_data = raw // nblocks - ecc
    exp = bytearray(512)
    log = bytearray(256)
    x = 1
    for k in range(255):
        exp[k] = x
        log[x] = k
        x <<= 1
        if x & 0x100:
            x ^= 0x11D
    for k in range(255, 512):
        exp[k] = exp[k - 255]
    # the generator polynomial of degree ecc, its coefficients below the leading 1 as logarithms
    gen = bytearray(ecc)
    gen[ecc - 1] = 1
    root = 0  # log of alpha ** k
    for _ in range(ecc):
        for j in range(ecc):
            c = gen[j]
            c = exp[log[c] + root] if c else 0
            if j + 1 < ecc:
                c ^= gen[j + 1]
            gen[j] = c
        root += 1
    for j in range(ecc):
        gen[j] = log[gen[j]]  # never 0 for these generators: every coefficient is a power of alpha
    out = bytearray(raw)
    work = bytearray(short_data + 1 + ecc)
    start = 0
    for b in range(nblocks):
        n = short_data + (b >= short)
        for k in range(n):
            work[k] = data[start + k]
        for k in range(n, n + ecc):
            work[k] = 0
        for k in range(n):
            factor = work[k]
            if factor:
                lf = log[factor]
                for j in range(ecc):
                    work[k + 1 + j] ^= exp[gen[j] + lf]
        # interleave: data codeword k of block b, then error correction codeword k of block b
        for k in range(n):
            col = k * nblocks + b if k < short_data else short_data * nblocks + b - short
            out[col] = data[start + k]
        base = short_data * nblocks + nblocks - short
        for k in range(ecc):
            out[base + k * nblocks + b] = work[n + k]
        start += n
    return out


# ---- the matrix ----------------------------------------------------------------------------


def _alignment(version):
    """The alignment patterns' centre coordinates along one axis (Annex E)."""
    if version == 1:
        return b""
    count = version // 7 + 2
    step = (version * 8 + count * 3 + 5) // (count * 4 - 4) * 2
    out = bytearray(count)
    out[0] = 6
    pos = 17 + 4 * version - 7
    for i in range(count - 1, 0, -1):
        out[i] = pos
        pos -= step
    return out


def _format_bits(level, mask):
    data = (_LEVEL_BITS[level] << 3) | mask
    rem = data
    for _ in range(10):
        rem = (rem << 1) ^ ((rem >> 9) * 0x537)
    return ((data << 10) | rem) ^ 0x5412


def _version_bits(version):
    rem = version
    for _ in range(12):
        rem = (rem << 1) ^ ((rem >> 11) * 0x1F25)
    return (version << 12) | rem


def _draw_format(mods, fn, n, bits, dark):
    """The format information's two copies and the dark module; bits 0 and dark 0 reserve them
    (marked in fn; fn None: drawn only)."""
    for i in range(15):
        bit = (bits >> i) & 1
        # the first copy: up column 8 from row 0 (skipping the timing row), then left along row 8
        if i < 6:
            k = i * n + 8
        elif i < 8:
            k = (i + 1) * n + 8
        elif i == 8:
            k = 8 * n + 7
        else:
            k = 8 * n + 14 - i
        mods[k] = bit
        if fn is not None:
            fn[k] = 1
        # the second copy: along row 8 from the right edge, then down column 8 to the bottom
        k = 8 * n + n - 1 - i if i < 8 else (n - 15 + i) * n + 8
        mods[k] = bit
        if fn is not None:
            fn[k] = 1
    k = (n - 8) * n + 8
    mods[k] = dark
    if fn is not None:
        fn[k] = 1


def _draw_version(mods, fn, n, bits):
    for i in range(18):
        bit = (bits >> i) & 1
        a = n - 11 + i % 3
        b = i // 3
        mods[b * n + a] = bit
        mods[a * n + b] = bit
        if fn is not None:
            fn[b * n + a] = 1
            fn[a * n + b] = 1


def _function_patterns(n, version):
    mods = bytearray(n * n)
    fn = bytearray(n * n)
    for i in range(n):  # timing
        mods[6 * n + i] = mods[i * n + 6] = (i + 1) & 1
        fn[6 * n + i] = fn[i * n + 6] = 1
    for cx, cy in ((3, 3), (n - 4, 3), (3, n - 4)):  # finders and their separators
        for dy in range(-4, 5):
            y = cy + dy
            if not 0 <= y < n:
                continue
            for dx in range(-4, 5):
                x = cx + dx
                if 0 <= x < n:
                    d = max(abs(dx), abs(dy))
                    mods[y * n + x] = 1 if d != 2 and d != 4 else 0
                    fn[y * n + x] = 1
    centres = _alignment(version)
    last = len(centres) - 1
    for i in range(len(centres)):
        for j in range(len(centres)):
            if (i == 0 and j == 0) or (i == 0 and j == last) or (i == last and j == 0):
                continue  # a finder's corner
            for dy in range(-2, 3):
                for dx in range(-2, 3):
                    k = (centres[i] + dy) * n + centres[j] + dx
                    mods[k] = 1 if max(abs(dx), abs(dy)) != 1 else 0
                    fn[k] = 1
    _draw_format(mods, fn, n, 0, 0)
    if version >= 7:
        _draw_version(mods, fn, n, 0)
    return mods, fn


def _mask_bit(mask, i, j):
    """1 where mask pattern `mask` inverts the module of row i, column j (7.8.2 Table 10)."""
    if mask == 0:
        r = (i + j) % 2
    elif mask == 1:
        r = i % 2
    elif mask == 2:
        r = j % 3
    elif mask == 3:
        r = (i + j) % 3
    elif mask == 4:
        r = (i // 2 + j // 3) % 2
    elif mask == 5:
        r = (i * j) % 2 + (i * j) % 3
    elif mask == 6:
        r = ((i * j) % 2 + (i * j) % 3) % 2
    else:
        r = ((i + j) % 2 + (i * j) % 3) % 2
    return 1 if r == 0 else 0


def _place(codewords, version, level, mask):
    n = 17 + 4 * version
    mods, fn = _function_patterns(n, version)
    # 7.7.3: two-module columns from the right, up then down, skipping the vertical timing column;
    # the remainder bits are the light modules left over
    total = len(codewords) * 8
    bit = 0
    right = n - 1
    while right >= 1:
        if right == 6:
            right = 5
        upward = ((right + 1) & 2) == 0
        for vert in range(n):
            y = n - 1 - vert if upward else vert
            for x in range(right, right - 2, -1):  # a counted loop: nothing allocated
                k = y * n + x
                if not fn[k] and bit < total:
                    mods[k] = (codewords[bit >> 3] >> (7 - (bit & 7))) & 1
                    bit += 1
        right -= 2
    # rows and columns as long ints, one byte a module (value 0 or 1), and where the data is
    ones = int.from_bytes(b"\x01" * n, "big")
    rows = []
    data_rows = []
    cols = []
    data_cols = []
    line = bytearray(n)
    free = bytearray(n)
    for y in range(n):
        rows.append(int.from_bytes(mods[y * n : y * n + n], "big"))
        data_rows.append(ones ^ int.from_bytes(fn[y * n : y * n + n], "big"))
    for x in range(n):
        for y in range(n):
            line[y] = mods[y * n + x]
            free[y] = 1 - fn[y * n + x]
        cols.append(int.from_bytes(line, "big"))
        data_cols.append(int.from_bytes(free, "big"))
    del fn, line, free
    if mask is None:
        best = None
        for m in range(8):
            score = _penalty(m, n, rows, data_rows, cols, data_cols)
            if best is None or score < best:
                best = score
                mask = m
    # the chosen mask, then the format and version information over it
    across = _mask_lines(mask, n, False)
    for y in range(n):
        mods[y * n : y * n + n] = (rows[y] ^ (across[y % 12] & data_rows[y])).to_bytes(n, "big")
    del rows, cols, data_rows, data_cols, across
    _draw_format(mods, None, n, _format_bits(level, mask), 1)
    if version >= 7:
        _draw_version(mods, None, n, _version_bits(version))
    stride = (n + 7) // 8
    bits = bytearray(stride * n)
    for y in range(n):
        row = y * stride
        k = y * n
        for x in range(n):
            if mods[k + x]:
                bits[row + (x >> 3)] |= 0x80 >> (x & 7)
    return Symbol(version, level, mask, n, bits)


def _mask_lines(mask, n, down):
    """The mask's pattern for a row (down False: along row i) or a column (down True: along
    column i) of each phase i % 12, as long ints of one byte a module: every mask repeats every 12
    rows and 12 columns."""
    out = []
    base = bytearray(12)
    for i in range(12):
        for j in range(12):
            base[j] = _mask_bit(mask, j, i) if down else _mask_bit(mask, i, j)
        out.append(int.from_bytes((bytes(base) * (n // 12 + 1))[:n], "big"))
    return out


def _penalty(mask, n, rows, data_rows, cols, data_cols):
    """The penalty of the symbol under `mask` (7.8.3.1 Table 11): N1 runs of five or more, N2 2x2
    blocks, N3 finder-like patterns with four light modules on a side, N4 the dark proportion."""
    score = 0
    dark = 0
    above = None
    across = _mask_lines(mask, n, False)
    for y in range(n):
        row = rows[y] ^ (across[y % 12] & data_rows[y])
        line = row.to_bytes(n, "big")
        score += _runs(line, n) + _finder_like(line, n)
        dark += line.count(b"\x01")
        if above is not None:
            diff = above ^ row
            same = (diff | (diff >> 8) | (row ^ (row >> 8))).to_bytes(n, "big")
            score += 3 * same[1:].count(b"\x00")
        above = row
    down = _mask_lines(mask, n, True)
    for x in range(n):
        line = (cols[x] ^ (down[x % 12] & data_cols[x])).to_bytes(n, "big")
        score += _runs(line, n) + _finder_like(line, n)
    total = n * n
    return score + 10 * (abs(20 * dark - 10 * total) // total)


def _runs(line, n):
    """N1: 3 + (length - 5) for each run of five or more modules of one colour."""
    score = 0
    for run, other in ((_RUN_DARK, b"\x00"), (_RUN_LIGHT, b"\x01")):
        i = line.find(run)
        while i >= 0:
            end = line.find(other, i + 5)
            if end < 0:
                end = n
            score += end - i - 2
            i = line.find(run, end)
    return score


def _finder_like(line, n):
    """N3: 40 for each dark-light-dark x3-light-dark with four light modules (or the edge) before or
    after it; the search goes on after a counted pattern, or from its middle dark module."""
    score = 0
    i = line.find(_FINDER_LIKE)
    while i >= 0:
        after = i + 7
        if not any(line[max(i - 4, 0) : i]) or not any(line[after : after + 4]):
            score += 40
        else:
            after = i + 4
        i = line.find(_FINDER_LIKE, after)
    return score
