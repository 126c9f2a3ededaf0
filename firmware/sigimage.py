# The signature's 1-bit image: strokes drawn into the signing area's bitmap with the device's pen,
# and the rule that makes the JBIG image fit field 62 (thinner, then smaller; never cut).
# Never keeps the strokes itself and never touches the display: the capture screen owns both.

from firmware.compat import const
from firmware.jbig import MAX_IMAGE, ImageTooBig, encode_into

# The signing area (docs/ESIGN.md): the display's full width (240, portrait) by 8 text rows of
# 16 pixels; rows of 30 bytes, 3,840 bytes a bitmap.
AREA_WIDTH = const(240)
AREA_HEIGHT = const(128)
PEN = const(2)  # the pen's width in pixels as the screen draws it

# (pen, scale) tried in turn until the image fits: the drawn pen, a 1-pixel pen, then the strokes
# at half and quarter size (coordinates >> scale, drawn from the top-left corner). At a quarter
# (60 x 32 pixels of ink at most) any drawing fits: 1,920 pixels code to well under 999 bytes.
FITS = ((PEN, 0), (1, 0), (1, 1), (1, 2))


class Canvas:
    """A width x height 1-bit bitmap (rows packed MSB first, 1 = ink) that strokes are drawn into
    with a square pen of `pen` pixels. Points outside the area are clipped, never an error."""

    def __init__(self, width=AREA_WIDTH, height=AREA_HEIGHT, pen=PEN, bitmap=None):
        self.width = width
        self.height = height
        self.bpl = (width + 7) >> 3
        self.pen = pen
        size = self.bpl * height
        if bitmap is None:
            bitmap = bytearray(size)
        elif len(bitmap) != size:
            raise ValueError("bitmap of the wrong size")
        self.bitmap = bitmap

    def clear(self):
        b = self.bitmap
        for i in range(len(b)):
            b[i] = 0

    def dot(self, x, y):
        """Ink the pen's square whose top-left pixel is (x, y) (pen 2: x..x+1, y..y+1)."""
        pen = self.pen
        w = self.width
        h = self.height
        b = self.bitmap
        bpl = self.bpl
        y1 = y + pen
        if y1 > h:
            y1 = h
        x1 = x + pen
        if x1 > w:
            x1 = w
        if x < 0:
            x = 0
        if y < 0:
            y = 0
        while y < y1:
            row = y * bpl
            px = x
            while px < x1:
                b[row + (px >> 3)] |= 0x80 >> (px & 7)
                px += 1
            y += 1

    def line(self, x0, y0, x1, y1):
        """The pen dragged from (x0, y0) to (x1, y1), both ends inked (Bresenham)."""
        dx = x1 - x0 if x1 > x0 else x0 - x1
        dy = y1 - y0 if y1 > y0 else y0 - y1
        sx = 1 if x1 > x0 else -1
        sy = 1 if y1 > y0 else -1
        err = dx - dy
        steps = dx + dy + 1  # bounded: each turn moves one step nearer (a while: no range object)
        while steps:
            steps -= 1
            self.dot(x0, y0)  # not a bound method in a local: that is allocated per call
            if x0 == x1 and y0 == y1:
                return
            e2 = 2 * err
            if e2 > -dy:
                err -= dy
                x0 += sx
            if e2 < dx:
                err += dx
                y0 += sy

    def stroke(self, points, scale=0):
        """Draw one stroke, a sequence of (x, y), its coordinates shifted right by scale. Allocates
        nothing per point (the capture screen draws each point as it comes)."""
        first = True
        lx = ly = 0
        for p in points:
            x = p[0] >> scale
            y = p[1] >> scale
            if first:
                self.dot(x, y)
                first = False
            else:
                self.line(lx, ly, x, y)
            lx = x
            ly = y


def signature_image(strokes, out=None, width=AREA_WIDTH, height=AREA_HEIGHT, st=None, bitmap=None):
    """The JBIG image (bytes, at most MAX_IMAGE) of strokes (lists of (x, y) in the area) and the
    (pen, scale) that made it fit (FITS). out: a bytearray of MAX_IMAGE bytes to reuse; st: the
    encoder's context states to reuse (firmware.jbig.encode_into); bitmap: the area's bitmap to
    draw in (overwritten), else a new one."""
    if out is None:
        out = bytearray(MAX_IMAGE)
    canvas = Canvas(width, height, bitmap=bitmap)
    for pen, scale in FITS:
        canvas.clear()
        canvas.pen = pen
        for points in strokes:
            canvas.stroke(points, scale)
        try:
            n = encode_into(out, canvas.bitmap, width, height, st=st)
        except ImageTooBig:
            continue
        return bytes(memoryview(out)[:n]), (pen, scale)
    raise ImageTooBig("no drawing of these strokes fits")  # unreachable for the area's size
