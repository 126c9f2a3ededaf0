# The signed e-receipts' tools (docs/RECEIPT.md): verify, show, render, pubkey, export. CPython only.
# A bad argument or a damaged file is one line on stderr and exit 2, never a traceback.
#
#   python -m sim.receipt pubkey --state DIR > terminal.pem
#   python -m sim.receipt pubkey --state DIR --hex     (the text of the about screen's QR code)
#   python -m sim.receipt export --state DIR --batch 1 --trace 2 -o receipt.qrx
#   python -m sim.receipt verify receipt.qrx --pubkey terminal.pem
#   python -m sim.receipt show receipt.qrx
#   python -m sim.receipt render receipt.qrx -o slip.svg   (or slip.png)
import argparse
import datetime
import hashlib
import os
import struct
import sys
import zlib

from firmware import jbigdec
from firmware import receipt as rct
from firmware.sigfile import image_name, unpack_image
from firmware.ui.keyqr import key_text
from hal.record import Damaged, crc32
from sim.host import receipts

EXPORT_MAGIC = b"QRX1"
_KINDS = {"sale": "SALE 消费", "void": "VOID 消费撤销", "refund": "REFUND 退货"}
_SIGNATURES = {
    "signed": "Signed 持卡人已签名",
    "no_pen": "Not signed: no pad (paper)",
    "no_sig_rule": "Not signed: under the no-signature limit 免签",
    "timeout": "Not signed: nobody signed in time",
    "cancelled": "Not signed: cancelled",
    "none": "Not signed: not asked",
}


class Refused(Exception):
    """One line for the user: what is wrong and where."""


class Receipt:
    """A receipt as the tools hold it: its bytes, signature, image (or None) and where from."""

    def __init__(self, data, signature, image, source):
        self.data = data
        self.signature = signature
        self.image = image
        self.source = source
        try:
            self.elements = dict(rct.elements(data))
        except Damaged as e:
            raise Refused("{}: {}".format(source, e)) from None


# ---- files ----------------------------------------------------------------------------------------
def pack_export(receipt, signature, image):
    """The export file: b"QRX1", the receipt's length (2 bytes), the receipt, the signature (64),
    the image's length (2 bytes, 0: none), the image, CRC-32 of all before it (4 bytes)."""
    image = image or b""
    body = EXPORT_MAGIC + struct.pack(">H", len(receipt)) + receipt + signature
    body += struct.pack(">H", len(image)) + image
    return body + struct.pack(">I", crc32(body))


def unpack_export(data, source):
    if len(data) < 4 + 2 + 64 + 2 + 4 or data[:4] != EXPORT_MAGIC:
        raise Refused("{}: not a receipt export".format(source))
    if struct.unpack(">I", data[-4:])[0] != crc32(data[:-4]):
        raise Refused("{}: damaged (CRC)".format(source))
    n = struct.unpack(">H", data[4:6])[0]
    at = 6 + n + 64
    if at + 2 > len(data) - 4:
        raise Refused("{}: damaged (lengths)".format(source))
    m = struct.unpack(">H", data[at : at + 2])[0]
    if at + 2 + m != len(data) - 4:
        raise Refused("{}: damaged (lengths)".format(source))
    image = data[at + 2 : at + 2 + m] or None
    return Receipt(data[6 : 6 + n], data[6 + n : at], image, source)


def load(path):
    """A Receipt of an export file or of a terminal's rct.BBBBBB.TTTTTT (its image read from the
    sig. file beside it, when there is one)."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise Refused("{}: cannot read it ({})".format(path, e.strerror or type(e).__name__)) from None
    if data[:4] == EXPORT_MAGIC:
        return unpack_export(data, path)
    try:
        receipt, signature, _ = rct.unpack(data)
    except Damaged as e:
        raise Refused("{}: {}".format(path, e)) from None
    image = None
    key = rct.name_key(os.path.basename(path))
    if key is not None:
        beside = os.path.join(os.path.dirname(path) or ".", image_name(*key))
        try:
            with open(beside, "rb") as f:
                image = unpack_image(f.read())[0]
        except OSError:
            image = None
        except Damaged as e:
            raise Refused("{}: {}".format(beside, e)) from None
    return Receipt(receipt, signature, image, path)


def problem(r, key):
    """Why Receipt r does not verify with the public key, or ""."""
    if not receipts.verify(key, r.data, r.signature):
        return "the signature does not verify with this public key (changed, or another terminal's)"
    want = r.elements.get(rct.T_IMAGE)
    if want is not None:
        if r.image is None:
            return "signed, and its signature image is not there"
        if hashlib.sha256(r.image).digest() != want:
            return "the signature image is not the one it was signed with"
    elif r.image is not None:
        return "an image, and the receipt says not signed"
    return ""


# ---- the slip ------------------------------------------------------------------------------------
def fields(r):
    """The slip as (label, value) lines."""
    e = r.elements

    def text(tag):
        return e.get(tag, b"").decode("utf-8", "replace")

    codes = e.get(rct.T_CODES, b"\0\0\0\0")

    def code(table, i):
        return table[codes[i]] if len(codes) == 4 and codes[i] < len(table) else "?"

    t = e.get(rct.T_TIME, b"\0" * 6)
    seconds = int.from_bytes(t[:4], "big")
    tz = int.from_bytes(t[4:6], "big", signed=True)
    when = datetime.datetime.fromtimestamp(seconds, datetime.timezone(datetime.timedelta(minutes=tz)))
    amount = int(text(rct.T_AMOUNT) or "0")
    out = [
        ("", text(rct.T_NAME)),
        ("Merchant 商户号", text(rct.T_MERCHANT)),
        ("Terminal 终端号", text(rct.T_TERMINAL)),
        ("Operator 操作员", text(rct.T_OPERATOR)),
        ("Card 卡号", text(rct.T_CARD) + " " + code(rct.MODES, 1)),
        ("Issuer 卡组织", text(rct.T_ORG) or "-"),
        ("Type 交易类型", _KINDS.get(code(rct.KINDS, 0), "?")),
        ("Batch 批次号", text(rct.T_BATCH)),
        ("Trace 凭证号", text(rct.T_TRACE)),
        ("RRN 参考号", text(rct.T_RRN) or "-"),
        ("Auth 授权码", text(rct.T_AUTH) or "-"),
        (
            "Time 时间",
            when.strftime("%Y-%m-%d %H:%M:%S") + _zone(tz),
        ),
        ("Amount 金额", "RMB {}.{:02d}".format(amount // 100, amount % 100)),
    ]
    orig = text(rct.T_ORIG)
    if orig:
        out.append(("Orig. batch/trace 原批次/凭证", orig[:6] + "/" + orig[6:12]))
        out.append(("Orig. RRN 原参考号", orig[12:24].strip() or "-"))
        out.append(("Orig. date 原日期", orig[24:].strip() or "-"))
    if codes[3:4] != b"\0":
        out.append(("Reason 退货原因", code(rct.REASONS, 3)))
    out.append(("Code 特征码", text(rct.T_FEATURE)))
    out.append(("", _SIGNATURES.get(code(rct.SIGNATURES, 2), "?")))
    out.append(("Firmware 版本", text(rct.T_VERSION)))
    return out


def _zone(tz):
    sign = "+" if tz >= 0 else "-"
    h, m = divmod(abs(tz), 60)
    return " UTC{}{}".format(sign, h) + (":{:02d}".format(m) if m else "")


def show(r):
    lines = []
    for label, value in fields(r):
        lines.append(value if not label else "{}: {}".format(label, value))
    lines.append("Signature r||s: " + r.signature.hex())
    return "\n".join(lines)


def _esc(s):
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _bitmap(r):
    if r.image is None:
        return None
    try:
        return jbigdec.decode(r.image)
    except ValueError as e:
        raise Refused("{}: the signature image does not decode ({})".format(r.source, e)) from None


def svg(r):
    """The slip as a phone shows it: text lines, the signature drawn in its box."""
    rows = fields(r)
    width, line = 360, 22
    height = 40 + line * (len(rows) + 1) + 150
    out = [
        '<svg xmlns="http://www.w3.org/2000/svg" width="{}" height="{}" viewBox="0 0 {} {}">'.format(
            width, height, width, height
        ),
        '<rect width="100%" height="100%" rx="14" fill="#fbfaf6" stroke="#999"/>',
        '<g font-family="monospace, Noto Sans CJK SC, sans-serif" font-size="13" fill="#222">',
    ]
    y = 34
    for label, value in rows:
        if not label:
            out.append(
                '<text x="{}" y="{}" text-anchor="middle" font-weight="bold">{}</text>'.format(
                    width // 2, y, _esc(value)
                )
            )
        else:
            out.append('<text x="16" y="{}">{}</text>'.format(y, _esc(label)))
            out.append('<text x="{}" y="{}" text-anchor="end">{}</text>'.format(width - 16, y, _esc(value)))
        y += line
    out.append("</g>")
    top = y
    out.append('<rect x="59" y="{}" width="242" height="130" fill="#fff" stroke="#bbb"/>'.format(top))
    got = _bitmap(r)
    if got is not None:
        w, h, bm = got
        bpl = (w + 7) // 8
        path = []
        for yy in range(h):
            x = 0
            while x < w:
                if bm[yy * bpl + x // 8] & (0x80 >> (x % 8)):
                    start = x
                    while x < w and bm[yy * bpl + x // 8] & (0x80 >> (x % 8)):
                        x += 1
                    path.append("M{} {}h{}v1h-{}z".format(60 + start, top + 1 + yy, x - start, x - start))
                else:
                    x += 1
        out.append('<path fill="#1a2a6c" d="{}"/>'.format("".join(path)))
    out.append("</svg>")
    return "\n".join(out) + "\n"


def png(r):
    """The slip rasterised with the terminal's own fonts (hal/drivers: 8 x 16 cells), scale 2."""
    from hal.contracts import char_cells  # noqa: PLC0415
    from hal.drivers.font8x16 import Font8x16  # noqa: PLC0415
    from hal.drivers.fontfile import FontFile  # noqa: PLC0415

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    cols = 44
    lines = []
    for label, value in fields(r):
        lines.append(("", value) if not label else (label, value))
    w, h = cols * 8, 16 * (len(lines) + 2) + 136
    pixels = bytearray(b"\xff" * (w * h))
    buf = bytearray(32)
    with open(os.path.join(root, "fonts", "qianpos16.qpf"), "rb") as f:
        font = FontFile(f, Font8x16())

        def put(text, col, row):
            for ch in text:
                cells = char_cells(ch)
                if col + cells > cols:
                    return
                if font.glyph(ord(ch), cells, buf) or font.glyph(ord("?"), 1, buf):
                    for yy in range(16):
                        for xx in range(8 * cells):
                            if buf[yy * cells + xx // 8] & (0x80 >> (xx % 8)):
                                pixels[(row * 16 + 8 + yy) * w + col * 8 + xx] = 0
                col += cells

        def width(text):
            return sum(char_cells(ch) for ch in text)

        for i, (label, value) in enumerate(lines):
            if not label:
                put(value, max(0, (cols - width(value)) // 2), i)
            else:
                put(label, 0, i)
                put(value, max(0, cols - width(value)), i)
    got = _bitmap(r)
    top = 16 * (len(lines) + 1)
    if got is not None:
        bw, bh, bm = got
        bpl = (bw + 7) // 8
        for yy in range(bh):
            for xx in range(bw):
                if bm[yy * bpl + xx // 8] & (0x80 >> (xx % 8)):
                    pixels[(top + yy) * w + 40 + xx] = 0
    raw = bytearray()
    for yy in range(h * 2):
        raw.append(0)
        row = pixels[(yy // 2) * w : (yy // 2 + 1) * w]
        for px in row:
            raw += bytes((px, px))

    def chunk(kind, data):
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", w * 2, h * 2, 8, 0, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(bytes(raw), 9))
        + chunk(b"IEND", b"")
    )


# ---- the state directory ---------------------------------------------------------------------------
def state_public_key(state):
    """The terminal's receipt public key (65 bytes) from its state directory's key store."""
    from hal.soft.signer import KEY_NAME, SoftSigner  # noqa: PLC0415
    from sim.board import make_key_store  # noqa: PLC0415

    if not os.path.isdir(state):
        raise Refused("{}: not a directory".format(state))
    try:
        key_store = make_key_store(state)
        stored = key_store.load(KEY_NAME)
    except Exception as e:  # noqa: BLE001 - a damaged key store: one line
        raise Refused("{}: the key store does not read ({})".format(state, e)) from None
    if stored is None or len(stored) != 32:
        raise Refused("{}: no receipt key (the terminal has not made one)".format(state))
    try:
        return SoftSigner(key_store).public_key()  # the key stored: never a new one here
    except Exception as e:  # noqa: BLE001 - not a scalar of the curve: one line
        raise Refused("{}: the receipt key is damaged ({})".format(state, e)) from None


def export(state, batch, trace):
    from firmware.sigfile import read_image  # noqa: PLC0415
    from sim.storage import DirStorage  # noqa: PLC0415

    if not os.path.isdir(state):
        raise Refused("{}: not a directory".format(state))
    storage = DirStorage(state)
    try:
        got = rct.read(storage, batch, trace)
        image = read_image(storage, batch, trace)
    except (Damaged, OSError) as e:
        raise Refused("{}: batch {} trace {}: {}".format(state, batch, trace, e)) from None
    if got is None:
        raise Refused("{}: no receipt of batch {} trace {}".format(state, batch, trace))
    return pack_export(got[0], got[1], image[0] if image is not None else None)


# ---- the command line --------------------------------------------------------------------------------
class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise Refused(message)


def _parser():
    p = _Parser(
        prog="python -m sim.receipt", description="The terminal's signed e-receipts (docs/RECEIPT.md)."
    )
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)
    v = sub.add_parser("verify", help="check receipts against a terminal's public key")
    v.add_argument("paths", nargs="+", metavar="PATH", help="an export file or a terminal's rct. file")
    v.add_argument(
        "--pubkey",
        required=True,
        metavar="FILE",
        help="the public key: PEM (as pubkey prints) or 130 hex digits (pubkey --hex, the about screen's QR)",
    )
    s = sub.add_parser("show", help="the slip as text")
    s.add_argument("path", metavar="PATH")
    r = sub.add_parser("render", help="the slip as a picture (SVG or PNG)")
    r.add_argument("path", metavar="PATH")
    r.add_argument("-o", required=True, metavar="slip.svg|slip.png", dest="out")
    k = sub.add_parser("pubkey", help="the terminal's public key as PEM")
    k.add_argument("--state", required=True, metavar="DIR")
    k.add_argument(
        "--hex",
        action="store_true",
        help="as 04 X Y in 130 hex digits, what the about screen's QR code holds",
    )
    e = sub.add_parser("export", help="one file: the receipt, its signature and its image")
    e.add_argument("--state", required=True, metavar="DIR")
    e.add_argument("--batch", required=True, type=int, metavar="B")
    e.add_argument("--trace", required=True, type=int, metavar="N")
    e.add_argument("-o", required=True, metavar="FILE", dest="out")
    return p


def _write(path, data):
    try:
        with open(path, "wb") as f:
            f.write(data)
    except OSError as e:
        raise Refused("{}: cannot write it ({})".format(path, e.strerror or type(e).__name__)) from None


def run(argv, out, err):
    args = _parser().parse_args(argv)
    if args.command == "verify":
        try:
            with open(args.pubkey, "rb") as f:
                key = receipts.public_key(f.read())
        except OSError as e:
            raise Refused("{}: cannot read it ({})".format(args.pubkey, e.strerror)) from None
        except receipts.ReceiptProblem as e:
            raise Refused("{}: {}".format(args.pubkey, e)) from None
        failed = 0
        for path in args.paths:
            try:
                why = problem(load(path), key)
            except Refused as e:
                why = str(e)
            if why:
                failed += 1
                err.write(
                    "{}: FAILED: {}\n".format(path, why)
                    if not why.startswith(path)
                    else "FAILED: " + why + "\n"
                )
            else:
                out.write("{}: OK\n".format(path))
        return 1 if failed else 0
    if args.command == "show":
        out.write(show(load(args.path)) + "\n")
        return 0
    if args.command == "render":
        r = load(args.path)
        if args.out.endswith(".svg"):
            _write(args.out, svg(r).encode())
        elif args.out.endswith(".png"):
            _write(args.out, png(r))
        else:
            raise Refused("{}: render writes .svg or .png".format(args.out))
        return 0
    if args.command == "pubkey":
        key = state_public_key(args.state)
        out.write(key_text(key) + "\n" if args.hex else receipts.pem(key))
        return 0
    _write(args.out, export(args.state, args.batch, args.trace))
    return 0


def main(argv=None, out=None, err=None):
    out = out or sys.stdout
    err = err or sys.stderr
    try:
        return run(sys.argv[1:] if argv is None else argv, out, err)
    except Refused as e:
        err.write("sim.receipt: {}\n".format(e))
        return 2


if __name__ == "__main__":
    sys.exit(main())
