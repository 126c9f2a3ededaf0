# JBIG1 (ITU-T T.82) encoder of the signature image: a 1-bit bitmap -> a BIE (20-byte header +
# stripe data, QM arithmetic coder). Never truncates: an image that does not fit raises ImageTooBig.
#
# What we produce (docs/ESIGN.md says why): one plane, no resolution reduction (DL = D = 0), order
# byte 0, MX = MY = 0 (no adaptive-template moves), no VLENGTH; by default one stripe (L0 = height),
# the three-line template, no typical prediction (TPBON may be asked for). `pbmtojbg -q -o 0 -m 0
# -p 0 -s <height>` (JBIG-KIT) gives the same bytes for the same bitmap. The decoder is
# firmware/jbigdec.py.
#
# Bitmap: rows packed MSB first (bit 7 of byte 0 is the top-left pixel), (width + 7) // 8 bytes a
# row, 1 = black (ink); the bits past `width` in a row's last byte must be 0.
#
# MicroPython: every register stays a small int (31-bit signed on a 32-bit board): the coder's C
# stays under 2**28 (masked to 19 bits at each byte out, then at most 9 shifts plus A), A under
# 2**17, the context windows under 2**24. Nothing is allocated per pixel; the bytes go into the
# caller's bytearray.

from firmware.compat import const

BIH_SIZE = const(20)
MAX_IMAGE = const(999)  # field 62 of the 0820 upload carries at most this many bytes
CONTEXTS = const(1024)  # the template's 10 bits: a byte of state per context

# Option bits of the header's last byte (T.82 6.2.6.1) and the order byte's (6.2.5.2).
LRLTWO = const(0x40)  # two-line template in the lowest layer (else three lines)
VLENGTH = const(0x20)
TPDON = const(0x10)
TPBON = const(0x08)  # typical prediction: a line equal to the one above costs one decision
DPON = const(0x04)
OPTIONS = const(0x00)  # ours: three-line template, no TPBON (docs/ESIGN.md: the bench's sizes)

ESC = const(0xFF)
STUFF = const(0x00)
SDNORM = const(0x02)
SDRST = const(0x03)
ABORT = const(0x04)
NEWLEN = const(0x05)
ATMOVE = const(0x06)
COMMENT = const(0x07)

TPB2CX = const(0x195)  # the context of the typical-prediction decision, two-line template
TPB3CX = const(0x0E5)  # three-line template

# Probability estimation (T.82 Table 24): LSZ[state]; NMPS[state]; NLPS[state] with the SWTCH bit as
# 0x80 (the LPS becomes the MPS). A context's byte of state is MPS << 7 | state.
LSZ = (
    0x5A1D, 0x2586, 0x1114, 0x080B, 0x03D8, 0x01DA, 0x00E5, 0x006F,
    0x0036, 0x001A, 0x000D, 0x0006, 0x0003, 0x0001, 0x5A7F, 0x3F25,
    0x2CF2, 0x207C, 0x17B9, 0x1182, 0x0CEF, 0x09A1, 0x072F, 0x055C,
    0x0406, 0x0303, 0x0240, 0x01B1, 0x0144, 0x00F5, 0x00B7, 0x008A,
    0x0068, 0x004E, 0x003B, 0x002C, 0x5AE1, 0x484C, 0x3A0D, 0x2EF1,
    0x261F, 0x1F33, 0x19A8, 0x1518, 0x1177, 0x0E74, 0x0BFB, 0x09F8,
    0x0861, 0x0706, 0x05CD, 0x04DE, 0x040F, 0x0363, 0x02D4, 0x025C,
    0x01F8, 0x01A4, 0x0160, 0x0125, 0x00F6, 0x00CB, 0x00AB, 0x008F,
    0x5B12, 0x4D04, 0x412C, 0x37D8, 0x2FE8, 0x293C, 0x2379, 0x1EDF,
    0x1AA9, 0x174E, 0x1424, 0x119C, 0x0F6B, 0x0D51, 0x0BB6, 0x0A40,
    0x5832, 0x4D1C, 0x438E, 0x3BDD, 0x34EE, 0x2EAE, 0x299A, 0x2516,
    0x5570, 0x4CA9, 0x44D9, 0x3E22, 0x3824, 0x32B4, 0x2E17, 0x56A8,
    0x4F46, 0x47E5, 0x41CF, 0x3C3D, 0x375E, 0x5231, 0x4C0F, 0x4639,
    0x415E, 0x5627, 0x50E7, 0x4B85, 0x5597, 0x504F, 0x5A10, 0x5522,
    0x59EB,
)  # fmt: skip
NMPS = bytes((
    1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 13, 15, 16,
    17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32,
    33, 34, 35, 9, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47, 48,
    49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62, 63, 32,
    65, 66, 67, 68, 69, 70, 71, 72, 73, 74, 75, 76, 77, 78, 79, 48,
    81, 82, 83, 84, 85, 86, 87, 71, 89, 90, 91, 92, 93, 94, 86, 96,
    97, 98, 99, 100, 93, 102, 103, 104, 99, 106, 107, 103, 109, 107, 111, 109,
    111,
))  # fmt: skip
NLPS = bytes((
    129, 14, 16, 18, 20, 23, 25, 28, 30, 33, 35, 9, 10, 12, 143, 36,
    38, 39, 40, 42, 43, 45, 46, 48, 49, 51, 52, 54, 56, 57, 59, 60,
    62, 63, 32, 33, 165, 64, 65, 67, 68, 69, 70, 72, 73, 74, 75, 77,
    78, 79, 48, 50, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 61, 61,
    193, 80, 81, 82, 83, 84, 86, 87, 87, 72, 72, 74, 74, 75, 77, 77,
    208, 88, 89, 90, 91, 92, 93, 86, 216, 95, 96, 97, 99, 99, 93, 223,
    101, 102, 103, 104, 99, 105, 106, 107, 103, 233, 108, 109, 110, 111, 238, 112,
    240,
))  # fmt: skip


class ImageTooBig(ValueError):
    """The BIE does not fit in the bytes given (MAX_IMAGE for field 62). Nothing is cut: the caller
    draws the strokes thinner or smaller and encodes again (firmware.sigimage.signature_image)."""


def template(options):
    """(mask of row y-2, shift of row y-1, its mask, mask of row y, TP context) of the lowest
    layer's template: with the pixel's bit index s in the byte windows (firmware/jbigdec.py uses
    the same), cx = (u2 >> s) & m2 | (u1 >> (s + sh)) & m1 | (u0 >> (s + 1)) & m0.
    Three lines (T.82 Figure 8): y-2: x-1 x x+1 -> bits 9..7; y-1: x-2..x+2 -> 6..2; y: x-2 x-1 ->
    1..0 (x-2 is the adaptive pixel at its default place). Two lines: y-1: x-3..x+2 -> 9..4;
    y: x-4..x-1 -> 3..0."""
    if options & LRLTWO:
        return 0, 2, 0x3F0, 0x00F, TPB2CX
    return 0x380, 4, 0x07C, 0x003, TPB3CX


def put_header(out, width, height, l0, options):
    """The 20-byte BIH: DL 0, D 0, P 1, XD, YD, L0, MX 0, MY 0, order 0, options."""
    out[0] = 0
    out[1] = 0
    out[2] = 1
    out[3] = 0
    for at, value in ((4, width), (8, height), (12, l0)):
        out[at] = (value >> 24) & 0xFF
        out[at + 1] = (value >> 16) & 0xFF
        out[at + 2] = (value >> 8) & 0xFF
        out[at + 3] = value & 0xFF
    out[16] = 0
    out[17] = 0
    out[18] = 0
    out[19] = options


def check_bitmap(bitmap, width, height):
    """ValueError unless bitmap holds height rows of width pixels, padding bits 0. Returns the
    bytes per row."""
    if type(width) is not int or type(height) is not int or width < 1 or height < 1:
        raise ValueError("image size must be positive ints")
    if width > 0xFFFF or height > 0xFFFF:
        raise ValueError("image larger than 65535 pixels a side")
    bpl = (width + 7) >> 3
    if len(bitmap) != bpl * height:
        raise ValueError("bitmap is not {} rows of {} bytes".format(height, bpl))
    pad = (1 << (bpl * 8 - width)) - 1
    if pad:
        for at in range(bpl - 1, bpl * height, bpl):
            if bitmap[at] & pad:
                raise ValueError("bits past the width must be 0")
    return bpl


class _Coder:
    """The QM encoder's registers between pixels (T.82 6.8, ENCODE/RENORME/BYTEOUT/FLUSH): A is
    the caller's local on the fast path and passed in and out of code()."""

    def __init__(self, out, start, st):
        self.out = out
        self.n = start
        self.limit = len(out)
        self.st = st

    def begin(self):
        self.c = 0
        self.ct = 11
        self.buffer = -1  # the last byte not yet written (a carry can still add one to it)
        self.sc = 0  # 0xFF bytes held back behind it
        self.stripe_start = self.n

    def put(self, byte):
        n = self.n
        if n >= self.limit:
            raise ImageTooBig("image over {} bytes".format(self.limit))
        self.out[n] = byte
        self.n = n + 1

    def code(self, cx, pix, a):
        """Encode pix in context cx with A = a; returns the new A."""
        st = self.st
        s = st[cx]
        ss = s & 0x7F
        lsz = LSZ[ss]
        a -= lsz
        if pix != (s >> 7):  # the less probable symbol
            if a >= lsz:
                self.c += a
                a = lsz
            st[cx] = (s & 0x80) ^ NLPS[ss]
        else:
            if a >= 0x8000:
                return a
            if a < lsz:  # conditional exchange: the MPS takes the larger interval
                self.c += a
                a = lsz
            st[cx] = (s & 0x80) | NMPS[ss]
        c = self.c
        ct = self.ct
        while a < 0x8000:
            a <<= 1
            c <<= 1
            ct -= 1
            if ct == 0:
                self._byte_out(c >> 19)
                c &= 0x7FFFF
                ct = 8
        self.c = c
        self.ct = ct
        return a

    def _byte_out(self, temp):
        # self.put(...) each time: a bound method kept in a local would be allocated per call.
        if temp > 0xFF:  # carry into the held byte; the held 0xFF bytes become 0x00
            if self.buffer >= 0:
                b = self.buffer + 1
                self.put(b)
                if b == ESC:
                    self.put(STUFF)
            while self.sc:
                self.put(0)
                self.sc -= 1
            self.buffer = temp & 0xFF
        elif temp == 0xFF:
            self.sc += 1
        else:
            if self.buffer >= 0:
                self.put(self.buffer)
            while self.sc:
                self.put(ESC)
                self.put(STUFF)
                self.sc -= 1
            self.buffer = temp

    def flush(self, a):
        """End the stripe's code: the shortest tail that still decodes, then ESC SDNORM; trailing
        0x00 bytes of the stripe's data are dropped (a decoder pads with zeros)."""
        c = self.c
        temp = (a - 1 + c) & 0xFFFF0000
        c = temp + 0x8000 if temp < c else temp
        c <<= self.ct
        if c & 0xF8000000:  # a last carry
            if self.buffer >= 0:
                self.put(self.buffer + 1)
                if self.buffer + 1 == ESC:
                    self.put(STUFF)
            if c & 0x7FFF800:
                while self.sc:
                    self.put(0)
                    self.sc -= 1
        else:
            if self.buffer >= 0:
                self.put(self.buffer)
            while self.sc:
                self.put(ESC)
                self.put(STUFF)
                self.sc -= 1
        if c & 0x7FFF800:
            b = (c >> 19) & 0xFF
            self.put(b)
            if b == ESC:
                self.put(STUFF)
            if c & 0x7F800:
                b = (c >> 11) & 0xFF
                self.put(b)
                if b == ESC:
                    self.put(STUFF)
        out = self.out
        n = self.n
        while n > self.stripe_start and out[n - 1] == 0:
            n -= 1
        if n > self.stripe_start and out[n - 1] == ESC:
            n += 1  # that 0x00 was the stuffing of a 0xFF: keep it
        self.n = n
        self.put(ESC)
        self.put(SDNORM)


def encode_into(out, bitmap, width, height, options=OPTIONS, l0=0, st=None):
    """Write the BIE of bitmap (see the module's header) into the bytearray out; return its
    length. l0: lines a stripe (0: one stripe). st: a bytearray of CONTEXTS bytes for the
    contexts' states, cleared here (the terminal allocates it at boot: a run of 1 KB that a sale's
    garbage may no longer leave); None: a new one. ImageTooBig if it needs more than len(out)
    bytes, ValueError for a bad bitmap or option."""
    bpl = check_bitmap(bitmap, width, height)
    if options & ~(LRLTWO | TPBON):
        raise ValueError("options other than LRLTWO and TPBON are not supported")
    if l0 <= 0 or l0 > height:
        l0 = height
    if len(out) < BIH_SIZE:
        raise ImageTooBig("image over {} bytes".format(len(out)))
    put_header(out, width, height, l0, options)
    m2, sh, m1, m0, tpcx = template(options)
    tpb = options & TPBON
    if st is None:
        st = bytearray(CONTEXTS)
    elif len(st) != CONTEXTS:
        raise ValueError("context table of the wrong size")
    else:
        i = 0
        while i < CONTEXTS:  # a while, not st[:] = bytes(...): nothing allocated
            st[i] = 0
            i += 1
    coder = _Coder(out, BIH_SIZE, st)
    code = coder.code
    lsz_of = LSZ
    full = width >> 3  # whole bytes a row
    rest = width & 7  # pixels of the last, partial byte
    ltp_old = 0
    y = 0
    while y < height:
        stripe_end = y + l0
        if stripe_end > height:
            stripe_end = height
        coder.begin()
        a = 0x10000
        while y < stripe_end:
            row = y * bpl
            up = row - bpl  # the row above (y-1), up2 the one above it
            up2 = up - bpl
            if tpb:
                ltp = 1
                i = 0
                while i < bpl:  # a while, not a for over range(): no range object per line
                    if bitmap[row + i] != (bitmap[up + i] if y > 0 else 0):
                        ltp = 0
                        break
                    i += 1
                a = code(tpcx, 1 if ltp == ltp_old else 0, a)
                ltp_old = ltp
                if ltp:
                    y += 1
                    continue
            # Windows of three bytes (j-1, j, j+1) of the rows above, two (j-1, j) of this row.
            u1 = bitmap[up] if y > 0 else 0
            u2 = bitmap[up2] if y > 1 else 0
            u0 = 0
            j = 0
            while j < bpl:
                nxt = j + 1 < bpl
                u1 = ((u1 & 0xFFFF) << 8) | (bitmap[up + j + 1] if y > 0 and nxt else 0)
                u2 = ((u2 & 0xFFFF) << 8) | (bitmap[up2 + j + 1] if y > 1 and nxt else 0)
                u0 = ((u0 & 0xFF) << 8) | bitmap[row + j]
                last = 0 if j < full else 8 - rest
                if not (u0 | u1 | u2):
                    # White here and all around: every pixel of this byte is a 0 in context 0. While
                    # 0 is that context's MPS and A stays >= 0x8000, each is A -= LSZ and nothing
                    # else (no renormalisation, no state change): the byte in one subtraction, the
                    # same bytes out as pixel by pixel.
                    state = st[0]
                    if not state & 0x80:
                        lsz = lsz_of[state] * (8 - last)
                        if a - lsz >= 0x8000:
                            a -= lsz
                            j += 1
                            continue
                s = 7
                while s >= last:
                    cx = ((u2 >> s) & m2) | ((u1 >> (s + sh)) & m1) | ((u0 >> (s + 1)) & m0)
                    pix = (u0 >> s) & 1
                    state = st[cx]
                    if pix == (state >> 7):
                        lsz = lsz_of[state & 0x7F]
                        if a - lsz >= 0x8000:  # the common case: no renormalisation
                            a -= lsz
                            s -= 1
                            continue
                    a = code(cx, pix, a)
                    s -= 1
                j += 1
            y += 1
        coder.flush(a)
    return coder.n


def encode(bitmap, width, height, limit=MAX_IMAGE, options=OPTIONS, l0=0):
    """The BIE of bitmap as bytes, at most `limit` long (ImageTooBig beyond: never cut)."""
    out = bytearray(limit)
    n = encode_into(out, bitmap, width, height, options, l0)
    return bytes(memoryview(out)[:n])
