# Glyphs read on demand from a font file on flash (fonts/qianpos16.qpf, built by `make font`): the
# catalog's Chinese text and the common hanzi, 32 bytes each, never all in RAM.
#
# Format: b"QPF1", count (2 bytes, big-endian), count index entries sorted by code (code: 2 bytes,
# cells: 1 byte), then count glyphs of 32 bytes (16 rows of 2 bytes; a narrow glyph: 16 of 1 byte).

from hal.contracts import HalError

_MAGIC = b"QPF1"


class FontFile:
    """glyph(code, cells, buf) as hal.drivers.font8x16.Font8x16's, asking `fallback` first (the built-in
    ASCII font), then binary-searching the file's index. stream: an open binary file (seek, readinto)."""

    def __init__(self, stream, fallback=None):
        self._f = stream
        self._fallback = fallback
        head = bytearray(6)
        stream.seek(0)
        if stream.readinto(head) != 6 or bytes(head[:4]) != _MAGIC:
            raise HalError("not a QPF1 font file")
        self._count = (head[4] << 8) | head[5]
        self._entry = bytearray(3)
        self._glyph = bytearray(32)

    def __len__(self):
        return self._count

    def _find(self, code):
        """(index, cells) of code in the file, or (-1, 0)."""
        f, entry = self._f, self._entry
        lo, hi = 0, self._count - 1
        while lo <= hi:
            mid = (lo + hi) >> 1
            f.seek(6 + mid * 3)
            f.readinto(entry)
            found = (entry[0] << 8) | entry[1]
            if found == code:
                return mid, entry[2]
            if found < code:
                lo = mid + 1
            else:
                hi = mid - 1
        return -1, 0

    def glyph(self, code, cells, buf):
        if self._fallback is not None and self._fallback.glyph(code, cells, buf):
            return True
        index, stored = self._find(code)
        if index < 0 or stored != cells:
            return False
        self._f.seek(6 + self._count * 3 + index * 32)
        self._f.readinto(self._glyph)
        for i in range(cells * 16):
            buf[i] = self._glyph[i]
        return True
