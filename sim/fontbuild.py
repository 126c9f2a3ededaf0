# The font build (`make font`): the display's glyphs from GNU Unifont's .hex file (Debian package
# `unifont`, /usr/share/unifont/unifont.hex; licence in docs/BOARD.md). CPython only, build time.
#
# Writes two things:
#   hal/drivers/font8x16.py  the 8x16 ASCII (0x20-0x7E) and "¥" glyphs as a bytes literal (in flash when
#                    frozen), between its BEGIN/END GENERATED lines;
#   fonts/qianpos16.qpf  the glyph file hal.drivers.fontfile.FontFile reads on demand: every non-ASCII
#                    character of the string catalog plus GB2312's symbols (rows 1-9) and its
#                    3755 level-1 hanzi (the common characters a merchant name uses).
# The output is a pure function of the .hex file and the catalog: the same input, the same bytes.
import os
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
UNIFONT = "/usr/share/unifont/unifont.hex"
FONT_PY = os.path.join(REPO, "hal", "drivers", "font8x16.py")
FONT_FILE = os.path.join(REPO, "fonts", "qianpos16.qpf")
NARROW = [chr(c) for c in range(0x20, 0x7F)] + ["\u00a5"]
MAGIC = b"QPF1"


def read_hex(path=UNIFONT):
    """code point -> glyph bytes (16 for an 8x16 glyph, 32 for a 16x16 one, rows MSB first)."""
    glyphs = {}
    with open(path, encoding="ascii") as f:
        for line in f:
            code, _, bits = line.strip().partition(":")
            if bits and len(bits) in (32, 64):
                glyphs[int(code, 16)] = bytes.fromhex(bits)
    return glyphs


def gb2312_set():
    """GB2312's symbol rows 1-9 and level-1 hanzi (rows 16-55) as characters."""
    chars = []
    for row in list(range(1, 10)) + list(range(16, 56)):
        for cell in range(1, 95):
            try:
                chars.append(bytes((0xA0 + row, 0xA0 + cell)).decode("gb2312"))
            except UnicodeDecodeError:
                pass  # an unassigned cell
    return chars


def catalog_chars():
    sys.path.insert(0, REPO)
    from firmware import strings

    chars = set()
    for key in strings.keys():  # every language's text, placeholders included
        for lang in strings.LANGUAGES:
            chars.update(strings.text(key, lang))
    return chars


def font_file(glyphs, chars):
    """The .qpf bytes: MAGIC, count (2 bytes), then count index entries (code: 2 bytes big-endian,
    cells: 1 byte), sorted by code, then count glyphs of 32 bytes (a narrow one in its first 16)."""
    codes = sorted({ord(c) for c in chars if ord(c) > 0x7E and ord(c) <= 0xFFFF and ord(c) in glyphs})
    index = bytearray()
    data = bytearray()
    for code in codes:
        g = glyphs[code]
        index += bytes((code >> 8, code & 255, len(g) // 16))
        data += g + bytes(32 - len(g))
    return MAGIC + len(codes).to_bytes(2, "big") + bytes(index) + bytes(data)


def font_py(glyphs):
    """The generated block of hal/drivers/font8x16.py."""
    lines = ["# BEGIN GENERATED", "# fmt: off", "GLYPHS = ("]
    for ch in NARROW:
        g = glyphs[ord(ch)]
        assert len(g) == 16, ch
        literal = "".join("\\x{:02x}".format(b) for b in g)
        lines.append('    b"{}"  # U+{:04X}'.format(literal, ord(ch)))
    lines += [")", "# fmt: on", "# END GENERATED"]
    return "\n".join(lines) + "\n"


def splice(path, block):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    head, _, rest = text.partition("# BEGIN GENERATED\n")
    _, _, tail = rest.partition("# END GENERATED\n")
    return head + block + tail


def main(argv):
    glyphs = read_hex(argv[1] if len(argv) > 1 else UNIFONT)
    missing = sorted(c for c in catalog_chars() if ord(c) > 0x7E and ord(c) not in glyphs)
    if missing:
        print("Unifont lacks catalog characters: {}".format(" ".join(missing)))
        return 1
    source = splice(FONT_PY, font_py(glyphs))
    with open(FONT_PY, "w", encoding="utf-8") as f:
        f.write(source)
    os.makedirs(os.path.dirname(FONT_FILE), exist_ok=True)
    blob = font_file(glyphs, set(gb2312_set()) | catalog_chars())
    with open(FONT_FILE, "wb") as f:
        f.write(blob)
    print("font: {} narrow glyphs -> {}; {} bytes -> {}".format(len(NARROW), FONT_PY, len(blob), FONT_FILE))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
