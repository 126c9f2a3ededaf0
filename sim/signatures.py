# Handwriting-like signatures for the simulator's `sign` step and the JBIG bench: stroke lists as a
# touch pad reports them (points sampled in time, pen up between strokes), deterministic from a
# seed. Latin names are written cursive (loops, ascenders, descenders, i-dots, t-bars, a flourish);
# Chinese names as 2-3 characters of brush-like strokes (横竖撇捺点, turns and hooks), half joined
# as a fast signer joins them. CPython only; the drawing itself is firmware.sigimage's.
#
# A signature: a list of strokes; a stroke: a list of (x, y, t) with x, y pixels inside the signing
# area and t milliseconds since the first point. Sampled every SAMPLE_MS along each stroke with a
# speed that rises and falls (slow at the ends and in tight curves); a light pen loses contact for
# a few samples (a pressure gap): the stroke then breaks in two, as the pad reports it.
import math
import random

from firmware.sigimage import AREA_HEIGHT, AREA_WIDTH, Canvas, signature_image

SAMPLE_MS = 10  # the pad's report rate: 100 points a second while the pen is down
BENCH_SEED = 20261207
BENCH_COUNT = 240

LATIN_FIRST = (
    "Anna", "Bruno", "Claire", "David", "Elena", "Felix", "Grace", "Hugo", "Ines", "James",
    "Karl", "Laura", "Marco", "Nina", "Oscar", "Paula", "Quentin", "Rosa", "Samuel", "Tessa",
)  # fmt: skip
LATIN_LAST = (
    "Albright", "Bellamy", "Castillo", "Dubois", "Eriksen", "Fontaine", "Gallagher", "Hoffmann",
    "Ivanova", "Jablonski", "Kowalski", "Lindqvist", "Moreau", "Nakamura", "Okafor", "Petersen",
    "Quigley", "Rossi", "Schneider", "Thompson", "Underwood", "Villanueva", "Whitfield", "Young",
)  # fmt: skip
CHINESE_SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾萧田董潘袁蔡蒋余于杜叶程魏苏吕丁任沈姚卢"
)
CHINESE_GIVEN = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红建文辉力鹏飞雪梅琳晨宇浩然子轩思雨欣怡佳"
)

# Letter shapes for the cursive writer: each a list of (dx, dy) control points in x-height units
# (x to the right, y up from the baseline), joined into one smooth path. h = ascender, d = descender.
_LETTERS = {
    "a": [(0.9, 0.8), (0.3, 1.0), (0.0, 0.4), (0.4, 0.0), (0.9, 0.6), (0.9, 1.0), (0.95, 0.1), (1.2, 0.1)],
    "b": [(0.2, 0.5), (0.5, 2.2), (0.2, 2.4), (0.1, 1.2), (0.2, 0.0), (0.7, 0.4), (0.6, 0.9), (0.3, 0.6)],
    "c": [(0.9, 0.9), (0.5, 1.0), (0.1, 0.5), (0.4, 0.0), (1.0, 0.2)],
    "d": [(0.9, 0.8), (0.3, 1.0), (0.0, 0.4), (0.4, 0.0), (0.9, 0.7), (1.0, 2.3), (0.95, 0.0), (1.2, 0.1)],
    "e": [(0.2, 0.4), (0.8, 0.7), (0.5, 1.0), (0.1, 0.6), (0.3, 0.0), (0.9, 0.2)],
    "f": [(0.3, 0.6), (0.7, 2.2), (0.4, 2.4), (0.3, 1.0), (0.3, -1.2), (0.1, -1.0), (0.4, 0.1), (0.8, 0.3)],
    "g": [(0.9, 0.8), (0.3, 1.0), (0.0, 0.4), (0.5, 0.1), (0.9, 0.9), (0.8, -1.0), (0.2, -1.1), (0.9, 0.2)],
    "h": [(0.2, 0.6), (0.6, 2.2), (0.3, 2.4), (0.1, 1.0), (0.0, 0.0), (0.4, 0.9), (0.8, 0.6), (0.9, 0.0),
          (1.1, 0.1)],
    "i": [(0.3, 0.8), (0.4, 1.0), (0.4, 0.1), (0.7, 0.2)],
    "j": [(0.3, 0.8), (0.5, 1.0), (0.5, -1.0), (0.1, -1.1), (0.6, 0.1)],
    "k": [(0.2, 0.6), (0.6, 2.2), (0.3, 2.4), (0.1, 0.0), (0.3, 0.6), (0.7, 0.9), (0.4, 0.4), (0.9, 0.0)],
    "l": [(0.3, 0.7), (0.7, 2.2), (0.4, 2.4), (0.2, 1.0), (0.4, 0.0), (0.8, 0.2)],
    "m": [(0.1, 0.9), (0.1, 0.0), (0.4, 0.9), (0.6, 0.0), (0.9, 0.9), (1.1, 0.0), (1.3, 0.2)],
    "n": [(0.1, 0.9), (0.1, 0.0), (0.5, 0.9), (0.8, 0.0), (1.0, 0.2)],
    "o": [(0.6, 1.0), (0.1, 0.6), (0.3, 0.0), (0.8, 0.4), (0.6, 1.0), (1.0, 0.8)],
    "p": [(0.2, 0.9), (0.1, -1.2), (0.2, 0.6), (0.7, 0.9), (0.8, 0.3), (0.3, 0.1), (1.0, 0.2)],
    "q": [(0.9, 0.8), (0.3, 1.0), (0.0, 0.4), (0.5, 0.1), (0.9, 0.9), (0.9, -1.2), (1.2, 0.1)],
    "r": [(0.1, 0.8), (0.2, 0.0), (0.3, 0.7), (0.7, 0.9), (0.9, 0.7)],
    "s": [(0.6, 1.0), (0.2, 0.8), (0.6, 0.4), (0.7, 0.1), (0.1, 0.0), (0.9, 0.2)],
    "t": [(0.3, 0.7), (0.5, 1.8), (0.3, 0.0), (0.8, 0.2)],
    "u": [(0.1, 0.9), (0.2, 0.1), (0.6, 0.1), (0.8, 0.9), (0.8, 0.0), (1.0, 0.2)],
    "v": [(0.1, 0.9), (0.4, 0.0), (0.8, 0.9), (1.0, 0.8)],
    "w": [(0.1, 0.9), (0.3, 0.0), (0.6, 0.8), (0.8, 0.0), (1.1, 0.9)],
    "x": [(0.1, 0.9), (0.9, 0.0), (0.5, 0.5), (0.9, 0.9), (0.1, 0.0), (1.0, 0.2)],
    "y": [(0.1, 0.9), (0.3, 0.2), (0.8, 0.9), (0.6, -1.0), (0.1, -1.0), (0.9, 0.2)],
    "z": [(0.1, 0.9), (0.8, 0.9), (0.1, 0.0), (0.8, 0.0), (0.5, -0.8), (1.0, 0.1)],
}  # fmt: skip


class Signature:
    """One generated signature: `name` (what was signed), `kind` ("latin" or "chinese"), `seed`
    and `strokes` (lists of (x, y, t))."""

    def __init__(self, name, kind, seed, strokes):
        self.name = name
        self.kind = kind
        self.seed = seed
        self.strokes = strokes

    def points(self):
        """The strokes as lists of (x, y), as the device draws them."""
        return [[(p[0], p[1]) for p in s] for s in self.strokes]

    def duration_ms(self):
        return self.strokes[-1][-1][2] if self.strokes else 0


def _smooth(controls, steps=10):
    """A Catmull-Rom curve through controls: a dense polyline of floats."""
    if len(controls) < 2:
        return list(controls)
    pts = [controls[0]] + list(controls) + [controls[-1]]
    out = []
    for i in range(1, len(pts) - 2):
        p0, p1, p2, p3 = pts[i - 1], pts[i], pts[i + 1], pts[i + 2]
        for k in range(steps):
            t = k / steps
            t2, t3 = t * t, t * t * t
            out.append(
                tuple(
                    0.5
                    * (
                        2 * p1[d]
                        + (-p0[d] + p2[d]) * t
                        + (2 * p0[d] - 5 * p1[d] + 4 * p2[d] - p3[d]) * t2
                        + (-p0[d] + 3 * p1[d] - 3 * p2[d] + p3[d]) * t3
                    )
                    for d in (0, 1)
                )
            )
    out.append(controls[-1])
    return out


def _sample(path, rng, speed):
    """Time samples along a dense path: (x, y, dt) every SAMPLE_MS, the speed (pixels per sample)
    a bell over the stroke, lower where the path turns sharply."""
    if len(path) < 2:
        return [(path[0][0], path[0][1])]
    seg = [math.dist(path[i], path[i + 1]) for i in range(len(path) - 1)]
    total = sum(seg) or 1.0
    out = [path[0]]
    i, along, done = 0, 0.0, 0.0
    while i < len(seg):
        frac = done / total
        bell = 0.25 + math.sin(math.pi * min(1.0, max(0.0, frac))) * 0.75
        turn = 1.0
        if 0 < i < len(seg) - 1:
            a = math.atan2(path[i][1] - path[i - 1][1], path[i][0] - path[i - 1][0])
            b = math.atan2(path[i + 1][1] - path[i][1], path[i + 1][0] - path[i][0])
            d = abs((b - a + math.pi) % (2 * math.pi) - math.pi)
            turn = 1.0 / (1.0 + 2.0 * d)
        step = max(0.6, speed * bell * turn * rng.uniform(0.85, 1.15))
        along += step
        while i < len(seg) and along > seg[i]:
            along -= seg[i]
            done += seg[i]
            i += 1
        if i >= len(seg):
            break
        t = along / seg[i] if seg[i] else 0.0
        p, q = path[i], path[i + 1]
        out.append((p[0] + (q[0] - p[0]) * t, p[1] + (q[1] - p[1]) * t))
    if out[-1] != path[-1]:
        out.append(path[-1])
    return out


class _Writer:
    """Collects strokes in area pixels with their times, pressure gaps and pauses between them."""

    def __init__(self, rng, speed):
        self.rng = rng
        self.speed = speed
        self.strokes = []
        self.t = 0

    def stroke(self, controls, steps=8):
        rng = self.rng
        pts = _sample(_smooth(controls, steps), rng, self.speed)
        jitter = [(x + rng.gauss(0, 0.35), y + rng.gauss(0, 0.35)) for x, y in pts]
        current = []
        gap = 0
        for x, y in jitter:
            if gap:
                gap -= 1
                self.t += SAMPLE_MS
                continue
            if len(current) > 4 and rng.random() < 0.012:  # the pen goes light: no contact
                self.strokes.append(current)
                current = []
                gap = rng.randint(1, 4)
                self.t += SAMPLE_MS
                continue
            current.append([x, y, self.t])
            self.t += SAMPLE_MS
        if current:
            self.strokes.append(current)
        self.t += rng.randint(60, 260)  # the pen lifts and moves to the next stroke


def _latin(rng, w):
    first = rng.choice(LATIN_FIRST)
    last = rng.choice(LATIN_LAST)
    style = rng.random()
    name = first + " " + last
    if style < 0.35:  # initial and surname: "A. Bellamy"
        words = [first[0], last]
    elif style < 0.55:  # surname only
        words = [last]
    else:
        words = [first, last]
    xh = rng.uniform(9, 15)  # x-height, area pixels before the final fit
    slant = rng.uniform(0.1, 0.45)
    x = 0.0
    for wi, word in enumerate(words):
        capital = word[0]
        # A capital: a tall loop, its own stroke.
        cx0 = x
        top = xh * rng.uniform(2.3, 3.0)
        cap = [(cx0 + xh * 0.2, top * 0.2), (cx0 + xh * 0.6, top), (cx0 + xh * 0.1, top * 0.95)]
        cap += [(cx0 - xh * 0.2, top * 0.4), (cx0 + xh * 0.4, 0.0), (cx0 + xh * 1.1, top * 0.5)]
        if capital in "BDPR":
            cap += [(cx0 + xh * 1.4, top * 0.8), (cx0 + xh * 0.5, top * 0.55), (cx0 + xh * 1.3, 0.1)]
        w.stroke([(px + py * slant, py) for px, py in cap])
        x += xh * rng.uniform(1.1, 1.6)
        rest = word[1:].lower()
        if not rest:
            w.stroke([(x + rng.uniform(-1, 1), 0.0), (x + 1.5, 0.5)])  # the initial's full stop
            x += xh * 1.2
            continue
        body = [(x, xh * 0.2)]
        dots = []
        bars = []
        scrawl = rng.uniform(0.0, 0.6)  # how much the letters degrade into waves toward the end
        for li, ch in enumerate(rest):
            shape = _LETTERS.get(ch, _LETTERS["n"])
            width = max(px for px, _ in shape) * rng.uniform(0.85, 1.15)
            fade = scrawl * li / max(1, len(rest) - 1)
            for px, py in shape:
                yy = py * (1.0 - fade) + (0.5 if 0 <= py <= 1 else py * 0.6) * fade
                body.append((x + px * xh, yy * xh * rng.uniform(0.9, 1.1)))
            if ch in "ij":
                dots.append((x + 0.4 * xh, xh * rng.uniform(1.5, 1.9)))
            if ch == "t":
                bars.append((x - 0.1 * xh, x + 0.9 * xh, xh * 1.3))
            x += width * xh
        if wi == len(words) - 1 and rng.random() < 0.6:  # a flourish back under the name
            body += [(x + xh * 0.8, -xh * 0.2), (x + xh * 0.2, -xh * 0.9), (cx0 + xh * 2, -xh * 0.6)]
        w.stroke([(px + py * slant, py) for px, py in body], steps=6)
        for dx, dy in dots:
            w.stroke([(dx + dy * slant, dy), (dx + dy * slant + 1.2, dy + 0.6)])
        for x0, x1, yb in bars:
            w.stroke([(x0 + yb * slant, yb), (x1 + yb * slant, yb + rng.uniform(-1, 1.5))])
        x += xh * rng.uniform(1.0, 1.8)
    return name


def _chinese(rng, w):
    name = rng.choice(CHINESE_SURNAMES) + "".join(
        rng.choice(CHINESE_GIVEN) for _ in range(rng.choice((1, 2, 2)))
    )
    size = rng.uniform(30, 44)  # a character's box before the final fit
    join = rng.uniform(0.2, 0.8)  # how often a stroke runs on into the next (cursive)
    x = 0.0
    for _ in name:
        n = rng.randint(4, 11)
        pending = []
        for _k in range(n):
            kind = rng.choice("hhhsspnddzg")
            bx = x + rng.uniform(0.05, 0.75) * size
            by = rng.uniform(0.1, 0.85) * size
            length = rng.uniform(0.25, 0.75) * size
            tilt = rng.uniform(-0.12, 0.12)
            if kind == "h":  # 横: left to right, a little up
                seg = [
                    (bx, by),
                    (bx + length * 0.5, by + length * (0.06 + tilt)),
                    (bx + length, by + length * 0.1),
                ]
            elif kind == "s":  # 竖: top to bottom
                seg = [
                    (bx, by + length * 0.5),
                    (bx + length * tilt, by),
                    (bx + length * tilt, by - length * 0.5),
                ]
            elif kind == "p":  # 撇: down to the left, curving
                seg = [
                    (bx, by + length * 0.4),
                    (bx - length * 0.2, by),
                    (bx - length * 0.55, by - length * 0.4),
                ]
            elif kind == "n":  # 捺: down to the right, widening
                seg = [
                    (bx, by + length * 0.4),
                    (bx + length * 0.3, by - length * 0.05),
                    (bx + length * 0.7, by - length * 0.35),
                ]
            elif kind == "d":  # 点: a short dab
                seg = [(bx, by), (bx + size * 0.06, by - size * 0.08)]
            elif kind == "z":  # 折: across then down
                seg = [
                    (bx, by),
                    (bx + length * 0.7, by + length * 0.05),
                    (bx + length * 0.65, by - length * 0.6),
                ]
            else:  # 钩: down, then a hook up-left
                seg = [
                    (bx, by + length * 0.4),
                    (bx, by - length * 0.4),
                    (bx - length * 0.2, by - length * 0.25),
                ]
            if pending and rng.random() < join:
                pending += seg  # written without lifting the pen
            else:
                if pending:
                    w.stroke(pending, steps=6)
                pending = list(seg)
        if pending:
            w.stroke(pending, steps=6)
        x += size * rng.uniform(0.85, 1.1)
    if rng.random() < 0.3:  # a closing swash
        w.stroke(
            [(x - size * 0.2, size * 0.2), (x + size * 0.2, -size * 0.05), (x - size * 1.2, -size * 0.2)]
        )
    return name


def generate(seed):
    """The signature of this seed: Latin-like for even seeds' draws, Chinese-like otherwise, fitted
    into the signing area (a margin of 6 pixels, aspect kept, sized as signers do: 45-95% of the
    area's width)."""
    rng = random.Random(seed)
    kind = "latin" if rng.random() < 0.5 else "chinese"
    w = _Writer(rng, speed=rng.uniform(1.4, 3.2))
    name = _latin(rng, w) if kind == "latin" else _chinese(rng, w)
    xs = [p[0] for s in w.strokes for p in s]
    ys = [p[1] for s in w.strokes for p in s]
    x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
    margin = 6
    room_w = (AREA_WIDTH - 2 * margin) * rng.uniform(0.45, 0.95)
    room_h = AREA_HEIGHT - 2 * margin
    scale = min(room_w / max(1.0, x1 - x0), room_h / max(1.0, y1 - y0))
    used_w = (x1 - x0) * scale
    used_h = (y1 - y0) * scale
    ox = margin + rng.uniform(0, AREA_WIDTH - 2 * margin - used_w)
    oy = margin + rng.uniform(0, AREA_HEIGHT - 2 * margin - used_h)
    strokes = []
    for s in w.strokes:
        out = []
        for x, y, t in s:
            px = int(round(ox + (x - x0) * scale))
            py = int(round(oy + (y1 - y) * scale))  # y up in the writer, down on the screen
            px = min(AREA_WIDTH - 1, max(0, px))
            py = min(AREA_HEIGHT - 1, max(0, py))
            if out and out[-1][0] == px and out[-1][1] == py:
                continue  # the pad reports a point when the pen moved
            out.append((px, py, t))
        if out:
            strokes.append(out)
    t0 = strokes[0][0][2]
    strokes = [[(x, y, t - t0) for x, y, t in s] for s in strokes]
    return Signature(name, kind, seed, strokes)


def bench_set(count=BENCH_COUNT, seed=BENCH_SEED):
    """`count` signatures, the same for the same seed: the JBIG bench's and the tests' set."""
    return [generate(seed * 1000 + i) for i in range(count)]


def bitmap(sig, pen=None):
    """The signing area's bitmap of sig drawn with the device's pen (firmware.sigimage.Canvas)."""
    canvas = Canvas() if pen is None else Canvas(pen=pen)
    for points in sig.points():
        canvas.stroke(points)
    return canvas.bitmap


def image(sig):
    """(BIE bytes, (pen, scale)) of sig as the device makes it (firmware.sigimage.signature_image)."""
    return signature_image(sig.points())


def to_pbm(bm, width=AREA_WIDTH, height=AREA_HEIGHT):
    """A binary PBM (P4) of a packed bitmap: what jbgtopbm writes, to compare or to look at."""
    return b"P4\n%d %d\n" % (width, height) + bytes(bm)


def to_png(bm, path, width=AREA_WIDTH, height=AREA_HEIGHT, scale=2):
    """Write the bitmap as a PNG (for a person to look at), with no library beyond zlib."""
    import struct
    import zlib

    bpl = (width + 7) // 8
    raw = bytearray()
    for y in range(height * scale):
        raw.append(0)
        row = y // scale
        for x in range(width * scale):
            px = x // scale
            ink = bm[row * bpl + px // 8] & (0x80 >> (px % 8))
            raw.append(0 if ink else 255)

    def chunk(kind, data):
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    png = b"\x89PNG\r\n\x1a\n" + chunk(
        b"IHDR", struct.pack(">IIBBBBB", width * scale, height * scale, 8, 0, 0, 0, 0)
    )
    png += chunk(b"IDAT", zlib.compress(bytes(raw), 9)) + chunk(b"IEND", b"")
    with open(path, "wb") as f:
        f.write(png)
