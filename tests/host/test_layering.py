# The house rules, checked statically: firmware/ and hal/ import only what MicroPython has, the
# firmware reaches the hardware only through hal.contracts, and nothing on the device imports sim/.
import ast
import os

from tools.mpy_gate import REPO, device_sources

# Modules a MicroPython 1.27 port provides that the device code may use (`select` for the console).
# `array` for the batch journal's look-up tables (every port we target builds it in);
# `io` for the crash site (sys.print_exception into an io.StringIO); the port modules (`machine`,
# ...) only where MAY_IMPORT_PORT says: main.py and the ESP32 board module hand them on (inside
# functions), boot.py reads the safe-mode key's pins.
DEVICE_STDLIB = {
    "array",
    "binascii",
    "errno",
    "gc",
    "hashlib",
    "io",
    "json",
    "micropython",
    "os",
    "select",
    "sys",
    "time",
}
# Modules of the port that only some folders may use, each beside a fallback for where it is missing:
# framebuf in the chip drivers (the ILI9341 expands its rows with it; CPython lacks it, the driver
# keeps a Python loop).
FOLDER_STDLIB = {"hal/drivers": {"framebuf"}}
# The port's hardware modules, and who may import them: main.py picks the board and imports the
# modules it hands to the board factory; the ESP32 board module imports socket (and, when not
# given, the others) inside make_board() only, so that CPython and the WebAssembly tier import it.
# firmware/ and every other hal/ module never import them: they are handed objects.
PORT_MODULES = {"machine", "network", "esp32", "socket"}
MAY_IMPORT_PORT = {"main.py": PORT_MODULES, "hal/esp32/board.py": PORT_MODULES, "boot.py": {"machine"}}


def module_level_imports(rel):
    """Names imported at module level (outside every def) of a file."""
    with open(os.path.join(REPO, rel), encoding="utf-8") as f:
        tree = ast.parse(f.read(), rel)
    found = []
    for node in tree.body:
        for sub in ast.walk(node):
            if isinstance(sub, (ast.FunctionDef, ast.ClassDef)):
                break
            if isinstance(sub, ast.Import):
                found.extend(alias.name for alias in sub.names)
            elif isinstance(sub, ast.ImportFrom):
                found.append(sub.module or "")
    return found


def imports(rel):
    with open(os.path.join(REPO, rel), encoding="utf-8") as f:
        tree = ast.parse(f.read(), rel)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            yield node.module or "", node.lineno


def test_device_code_imports_only_what_micropython_has():
    bad = []
    for rel in device_sources():
        for name, line in imports(rel):
            top = name.split(".")[0]
            if top in PORT_MODULES and top in MAY_IMPORT_PORT.get(rel, ()):
                continue
            if top in FOLDER_STDLIB.get(rel.rsplit("/", 1)[0], ()):
                continue
            if top not in DEVICE_STDLIB and top not in ("firmware", "hal"):  # never virtual/ or sim/
                bad.append("{}:{}: import {}".format(rel, line, name))
    assert bad == []


def test_port_modules_are_imported_inside_functions_only():
    # A module-level `import machine` would break CPython and the WebAssembly tier on import.
    bad = []
    for rel in device_sources():
        for name in module_level_imports(rel):
            if name.split(".")[0] in PORT_MODULES:
                bad.append("{}: import {} at module level".format(rel, name))
    assert bad == []
    assert module_level_imports("hal/esp32/board.py")  # the walk sees the module's own imports


# What firmware/ may import from hal/: the contracts, and the record codec (pure bytes, no device),
# which lives in hal/ so that the key store (hal/soft/keystore.py) uses the same format while hal/ never
# imports firmware/. Nothing else: drivers, the soft security module and the DES code stay hidden.
FIRMWARE_MAY_IMPORT = ("hal.contracts", "hal.record")


def test_firmware_reaches_hardware_only_through_the_contracts():
    bad = []
    for rel in device_sources():
        if not rel.startswith("firmware/"):
            continue
        for name, line in imports(rel):
            if name.startswith("hal") and name not in FIRMWARE_MAY_IMPORT:
                bad.append("{}:{}: import {}".format(rel, line, name))
            if name.split(".")[0] in ("machine", "network", "socket", "select"):
                bad.append("{}:{}: import {}".format(rel, line, name))
    assert bad == []


def test_hal_never_imports_the_firmware():
    bad = []
    for rel in device_sources():
        if rel.startswith("hal/"):
            for name, line in imports(rel):
                if name.split(".")[0] == "firmware":
                    bad.append("{}:{}: import {}".format(rel, line, name))
    assert bad == []


def test_the_checks_see_the_device_code():
    sources = device_sources()
    assert "firmware/terminal.py" in sources and "hal/contracts.py" in sources and "main.py" in sources
    assert "firmware.terminal" in [name for name, _ in imports("main.py")]


def test_test_doubles_stay_out_of_the_device_image():
    sources = device_sources()
    assert not [rel for rel in sources if rel.startswith(("virtual/", "tests/", "sim/"))]
    bad = []
    for rel in sources:
        for name, line in imports(rel):
            if name.split(".")[0] in ("virtual", "tests", "sim"):
                bad.append("{}:{}: import {}".format(rel, line, name))
    assert bad == []


def test_the_record_codec_touches_no_device():
    # hal/record.py is what firmware/ may import besides the contracts: it must stay a codec.
    assert sorted(name for name, _ in imports("hal/record.py")) == ["binascii", "json"]


def test_firmware_never_touches_keys_or_pins():
    # Key bytes and PIN digits stay behind the security module and the PIN entry: firmware/ never
    # imports their implementations and never reaches the board's key store.
    bad = []
    for rel in device_sources():
        if not rel.startswith("firmware/"):
            continue
        for name, line in imports(rel):
            if name in (
                "hal.soft.des",
                "hal.soft.mac",
                "hal.soft.security",
                "hal.soft.pin",
                "hal.soft.keystore",
                "hal.soft.signer",
                "hal.soft.hmac256",
            ):
                bad.append("{}:{}: import {}".format(rel, line, name))
        with open(os.path.join(REPO, rel), encoding="utf-8") as f:
            if "key_store" in f.read():
                bad.append("{}: names the key store".format(rel))
    assert bad == []


# hal/ keeps one folder per kind of thing; what each may import from hal/ (besides itself):
#   hal/*.py        the contracts, the record codec, the port's VFS/clock, the console board, the card
#                   reader over parts: portable, shared by every board
#   hal/soft/       software stand-ins for a secure processor (DES, MACs, key store, security module,
#                   signer, PIN entry): portable; never a driver or a board
#   hal/drivers/    chip drivers any board may wire (display, touch, keypad, readers, buzzer, font):
#                   handed initialised buses and pins; never a board or the soft security parts
#   hal/<board>/    one folder per board (today hal/esp32/): wiring, its system device, key store and
#                   link; may use all of the above, never another board
HAL_FOLDER_MAY_IMPORT = {
    "hal": ("hal.contracts", "hal.record", "hal.port", "hal.soft"),
    "hal/soft": ("hal.contracts", "hal.record", "hal.soft"),
    "hal/drivers": ("hal.contracts", "hal.drivers"),
    "hal/esp32": (
        "hal.contracts",
        "hal.record",
        "hal.port",
        "hal.cards",
        "hal.soft",
        "hal.drivers",
        "hal.esp32",
    ),
}


def hal_folder(rel):
    return rel.rsplit("/", 1)[0]


def test_each_hal_folder_imports_only_what_its_rule_allows():
    bad, seen = [], set()
    for rel in device_sources():
        if not rel.startswith("hal/"):
            continue
        folder = hal_folder(rel)
        seen.add(folder)
        allowed = HAL_FOLDER_MAY_IMPORT.get(folder)
        if allowed is None:
            bad.append("{}: folder {} has no rule here".format(rel, folder))
            continue
        for name, line in imports(rel):
            if name.split(".")[0] != "hal" or name == "hal":
                continue
            if not [a for a in allowed if name == a or name.startswith(a + ".")]:
                bad.append("{}:{}: import {}".format(rel, line, name))
    assert bad == []
    assert seen == set(HAL_FOLDER_MAY_IMPORT)  # every rule names a folder that exists


def test_the_folder_rules_catch_a_driver_importing_a_board(tmp_path):
    # The rule's own check, on a planted file: a driver that imports the ESP32 board is refused.
    planted = tmp_path / "hal" / "drivers"
    planted.mkdir(parents=True)
    (planted / "bad.py").write_text("from hal.esp32.board import make_board\n")
    rel = "hal/drivers/bad.py"
    with open(os.path.join(str(tmp_path), rel), encoding="utf-8") as f:
        names = [n.module for n in ast.walk(ast.parse(f.read())) if isinstance(n, ast.ImportFrom)]
    allowed = HAL_FOLDER_MAY_IMPORT[hal_folder(rel)]
    assert names == ["hal.esp32.board"]
    assert not [a for a in allowed if names[0] == a or names[0].startswith(a + ".")]
