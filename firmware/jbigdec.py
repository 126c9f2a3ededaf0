# JBIG1 (ITU-T T.82) decoder of what firmware/jbig.py writes (and JBIG-KIT's pbmtojbg with the same
# subset), portable so that any reader of a signature image can use it on either runtime. Never
# loops past the header's sizes: every malformed BIE raises ValueError with the reason, never hangs.
#
# The subset: one plane, DL = D = 0, any L0 and order byte, either template, TPBON on or off, no
# adaptive-template move (ATMOVE), no NEWLEN, SDNORM or SDRST stripe ends, COMMENT segments skipped.
# Kept apart from the encoder so a terminal that only encodes never loads it.

from firmware.jbig import (
    ABORT,
    ATMOVE,
    BIH_SIZE,
    COMMENT,
    ESC,
    LSZ,
    NEWLEN,
    NLPS,
    NMPS,
    SDNORM,
    SDRST,
    STUFF,
    TPBON,
    template,
)

MAX_PIXELS = 1 << 22  # a bigger header is refused before anything is allocated


def _u32(data, at):
    return (data[at] << 24) | (data[at + 1] << 16) | (data[at + 2] << 8) | data[at + 3]


def header(data):
    """(width, height, l0, options) of a BIE's header; ValueError if we cannot decode it."""
    if len(data) < BIH_SIZE:
        raise ValueError("shorter than the 20-byte JBIG header")
    if data[0] != 0 or data[1] != 0:
        raise ValueError("resolution layers (DL, D) are not supported")
    if data[2] != 1:
        raise ValueError("only one bit plane is supported")
    if data[3] != 0:
        raise ValueError("header byte 3 must be 0")
    width = _u32(data, 4)
    height = _u32(data, 8)
    l0 = _u32(data, 12)
    if width < 1 or height < 1 or l0 < 1:
        raise ValueError("image size and L0 must be positive")
    if width * height > MAX_PIXELS:
        raise ValueError("image larger than {} pixels".format(MAX_PIXELS))
    if data[17] != 0:
        raise ValueError("MY must be 0")
    if data[18] & 0xF0:
        raise ValueError("unknown order bits")
    options = data[19]
    if options & 0x80:
        raise ValueError("unknown option bits")
    # DPON, TPDON and their tables concern differential layers only (D = 0 has none); VLENGTH
    # only allows a NEWLEN, which is refused where it appears.
    return width, height, l0, options


def _stripe_end(data, at):
    """Index of the ESC of the marker that ends the stripe data starting at `at`, and that marker."""
    n = len(data)
    while at < n:
        if data[at] == ESC:
            if at + 1 >= n:
                break
            if data[at + 1] != STUFF:
                return at, data[at + 1]
            at += 2
        else:
            at += 1
    raise ValueError("stripe data not terminated by a marker")


def _skip_segments(data, at):
    """Skip COMMENT segments between stripes; ValueError for any other marker segment."""
    n = len(data)
    while at + 1 < n and data[at] == ESC:
        marker = data[at + 1]
        if marker == COMMENT:
            if at + 6 > n:
                raise ValueError("truncated COMMENT segment")
            at += 6 + _u32(data, at + 2)
            if at > n:
                raise ValueError("truncated COMMENT segment")
        elif marker == ATMOVE:
            raise ValueError("ATMOVE (adaptive template move) is not supported")
        elif marker == NEWLEN:
            raise ValueError("NEWLEN is not supported")
        elif marker == ABORT:
            raise ValueError("the BIE was aborted (ABORT marker)")
        else:
            break
    return at


class _Decoder:
    """The QM decoder (T.82 6.8.2) over one stripe's data, data[at:end]. C is kept as two 16-bit
    halves so that no register outgrows a small int: chigh is compared with A, clow takes the
    bytes in. Past `end` it reads zeros (the encoder drops trailing zeros)."""

    def __init__(self, data, st):
        self.data = data
        self.st = st

    def begin(self, at, end):
        self.p = at
        self.end = end
        self.a = 1
        self.chigh = 0
        self.clow = 0
        self.ct = 0
        self.startup = True

    def bit(self, cx):
        a = self.a
        chigh = self.chigh
        if a < 0x8000 or self.startup:
            clow = self.clow
            ct = self.ct
            data = self.data
            while a < 0x8000 or self.startup:  # at most 16 turns: A >= 1 doubles each
                while 0 <= ct <= 8:
                    p = self.p
                    if p >= self.end:
                        ct = -1
                    else:
                        b = data[p]
                        self.p = p + (2 if b == ESC else 1)
                        clow |= b << (8 - ct)
                        ct += 8
                chigh = (chigh << 1) | (clow >> 15)
                clow = (clow << 1) & 0xFFFF
                a <<= 1
                if ct >= 0:
                    ct -= 1
                if a == 0x10000:
                    self.startup = False
            self.clow = clow
            self.ct = ct
        st = self.st
        state = st[cx]
        ss = state & 0x7F
        lsz = LSZ[ss]
        a -= lsz
        mps = state >> 7
        if chigh < a:
            if a >= 0x8000:
                pix = mps
            elif a < lsz:
                pix = 1 - mps
                st[cx] = (state & 0x80) ^ NLPS[ss]
            else:
                pix = mps
                st[cx] = (state & 0x80) | NMPS[ss]
        else:
            chigh -= a
            if a < lsz:
                pix = mps
                st[cx] = (state & 0x80) | NMPS[ss]
            else:
                pix = 1 - mps
                st[cx] = (state & 0x80) ^ NLPS[ss]
            a = lsz
        self.a = a
        self.chigh = chigh
        return pix


def decode(data):
    """(width, height, bitmap) of a BIE: bitmap a bytearray of rows packed MSB first as
    firmware.jbig takes them. ValueError for anything malformed or outside the subset."""
    width, height, l0, options = header(data)
    m2, sh, m1, m0, tpcx = template(options)
    tpb = options & TPBON
    bpl = (width + 7) >> 3
    out = bytearray(bpl * height)
    st = bytearray(1024)
    dec = _Decoder(data, st)
    bit = dec.bit
    full = width >> 3
    rest = width & 7
    ltp = 0
    at = BIH_SIZE
    y = 0
    while y < height:
        at = _skip_segments(data, at)
        if at >= len(data):
            raise ValueError("stripe data missing (the image ends at line {})".format(y))
        end, marker = _stripe_end(data, at)
        if marker not in (SDNORM, SDRST):
            raise ValueError("stripe ended by marker 0x{:02x}".format(marker))
        dec.begin(at, end)
        stripe_end = y + l0
        if stripe_end > height:
            stripe_end = height
        while y < stripe_end:
            row = y * bpl
            up = row - bpl
            up2 = up - bpl
            if tpb:
                if not bit(tpcx):
                    ltp = 1 - ltp
                if ltp:  # typical: a copy of the line above (white at the top)
                    if y > 0:
                        i = 0
                        while i < bpl:  # no slice: nothing allocated per line
                            out[row + i] = out[up + i]
                            i += 1
                    y += 1
                    continue
            u1 = out[up] if y > 0 else 0
            u2 = out[up2] if y > 1 else 0
            u0 = 0
            j = 0
            while j < bpl:  # a while, not range(): no object per line
                nxt = j + 1 < bpl
                u1 = ((u1 & 0xFFFF) << 8) | (out[up + j + 1] if y > 0 and nxt else 0)
                u2 = ((u2 & 0xFFFF) << 8) | (out[up2 + j + 1] if y > 1 and nxt else 0)
                u0 = (u0 & 0xFF) << 8
                s = 7
                last = 0 if j < full else 8 - rest
                while s >= last:
                    if bit(((u2 >> s) & m2) | ((u1 >> (s + sh)) & m1) | ((u0 >> (s + 1)) & m0)):
                        u0 |= 1 << s
                    s -= 1
                out[row + j] = u0 & 0xFF
                j += 1
            y += 1
        at = end + 2
        if marker == SDRST:
            for i in range(1024):
                st[i] = 0
    at = _skip_segments(data, at)
    if at != len(data):
        raise ValueError("bytes after the last stripe")
    return width, height, out
