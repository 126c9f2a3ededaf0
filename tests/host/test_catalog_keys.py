# Every catalog key the firmware names exists in firmware/strings.py in both languages, with the
# same placeholders: a typo or a missing translation would show the key itself, an empty row or a
# format error on a terminal's screen. Found statically, without running the screens.
import ast
import os

from firmware import events, strings

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIRMWARE = os.path.join(REPO, "firmware")
# The names under which the firmware hands a catalog key around (an error's `key`, the terminal's
# `fault`, a screen's `problem` and `title_key`).
KEY_NAMES = ("key", "fault", "problem", "title_key")
# Functions whose first argument is a catalog key: Terminal.t(key, ...), strings.text(key, lang, ...).
KEY_FIRST = ("t", "text")


def firmware_sources():
    """(path relative to the repo, source) of every module of firmware/, packages included."""
    found = []
    for top, dirs, files in os.walk(FIRMWARE):
        dirs[:] = [d for d in dirs if d != "__pycache__"]
        for name in files:
            if name.endswith(".py"):
                path = os.path.join(top, name)
                with open(path, encoding="utf-8") as f:
                    found.append((os.path.relpath(path, REPO), f.read()))
    return sorted(found)


def signatures(trees):
    """name -> parameter names, for every function and (by its __init__) class defined in trees;
    self is dropped, so positions match a call's arguments."""
    found = {}
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef) and node.name != "__init__":
                params = [a.arg for a in node.args.args]
                found[node.name] = params[1:] if params[:1] == ["self"] else params
            elif isinstance(node, ast.ClassDef):
                for item in node.body:
                    if isinstance(item, ast.FunctionDef) and item.name == "__init__":
                        found[node.name] = [a.arg for a in item.args.args][1:]
    return found


def _key_literal(node):
    """The catalog key a value node holds: a lower-case identifier string, alone or first in a tuple
    (`problem = ("amount_zero", None)`); None if it holds none. Keypad keys ("ENTER", "1") are not."""
    if isinstance(node, ast.Tuple) and node.elts:
        node = node.elts[0]
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        value = node.value
        if value.isidentifier() and value.islower():
            return value
    return None


def _called_name(call):
    func = call.func
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None


def used_keys(tree, sigs, catalog_prefixes):
    """(key, line) for every catalog key the module names: the first argument of t()/text(); a value
    given to a KEY_NAMES name (assigned, a default, a keyword argument, or an argument in that
    position of a firmware function or class); and, for what is handed around unnamed (the main
    menu's item table), any key-shaped literal (with an underscore) starting like a catalog key."""
    found = []

    def add(node):
        key = _key_literal(node)
        if key is not None:
            found.append((key, node.lineno))

    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = _called_name(node)
            params = sigs.get(name, [])
            for i, arg in enumerate(node.args):
                if (i == 0 and name in KEY_FIRST) or (i < len(params) and params[i] in KEY_NAMES):
                    add(arg)
            for keyword in node.keywords:
                if keyword.arg in KEY_NAMES:
                    add(keyword.value)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                named = target.id if isinstance(target, ast.Name) else getattr(target, "attr", None)
                if named in KEY_NAMES and node.value is not None:
                    add(node.value)
        elif isinstance(node, ast.arguments):
            positional = node.posonlyargs + node.args
            for param, default in zip(positional[len(positional) - len(node.defaults) :], node.defaults):
                if param.arg in KEY_NAMES:
                    add(default)
            for param, kw_default in zip(node.kwonlyargs, node.kw_defaults):
                if param.arg in KEY_NAMES and kw_default is not None:
                    add(kw_default)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            value = node.value
            # A literal ending in "_" is a prefix a key is built from ("rc_" + code): the module that
            # builds it tests every key it can build.
            if (
                "_" in value
                and not value.endswith("_")
                and _key_literal(node)
                and value.startswith(catalog_prefixes)
            ):
                found.append((value, node.lineno))
    return found


def catalog_problems(key, catalog=strings):
    """What is wrong with key in the catalog: missing, a language empty, placeholders differing."""
    if key not in catalog.keys():
        return ["not in the catalog"]
    zh = catalog.text(key, "zh")
    en = catalog.text(key, "en")
    problems = ["no {} text".format(lang) for lang, s in (("zh", zh), ("en", en)) if not s.strip()]
    if zh.count("{}") != en.count("{}"):
        problems.append("zh has {} placeholders, en {}".format(zh.count("{}"), en.count("{}")))
    return problems


def firmware_keys():
    """{key: ["firmware/x.py:line", ...]} for every key the firmware names, except in the catalog
    itself and in params.py (which names parameters such as "idle_timeout_s", not messages), and
    the event log's codes (firmware.events.CODES: "clock_set" names an event; its text is
    "ev_clock_set", tests/portable/test_admin.py)."""
    sources = [(rel, ast.parse(src, rel)) for rel, src in firmware_sources()]
    sigs = signatures(tree for _, tree in sources)
    prefixes = tuple(sorted({key.split("_")[0] + "_" for key in strings.keys()}))
    found = {}
    for rel, tree in sources:
        if os.path.basename(rel) in ("strings.py", "params.py"):
            continue
        for key, line in used_keys(tree, sigs, prefixes):
            if key in events.CODES:
                continue
            found.setdefault(key, []).append("{}:{}".format(rel, line))
    return found


def test_every_key_the_firmware_names_exists_in_both_languages():
    report = []
    for key, places in sorted(firmware_keys().items()):
        for problem in catalog_problems(key):
            report.append("{} ({}): {}".format(key, ", ".join(places), problem))
    assert report == []


def test_the_check_sees_the_keys_the_firmware_uses_in_every_way():
    # Guard against the check above passing because it looks at nothing.
    used = firmware_keys()
    assert {
        "idle_batch",  # t("idle_batch", batch)
        "menu_sale",  # the main menu's item table
        "error",  # a one-word key: MessageScreen(self, "error", ...) and PosError.key
        "amount_zero",  # self.problem = ("amount_zero", None)
        "card_insert_chip",  # self.problem = "card_insert_chip"
        "card_bad_number",  # BadCardData("card_bad_number"), by BadCardData's parameter name
        "storage_corrupt",  # self.fault = "storage_corrupt"
    } <= set(used)
    assert "idle_timeout_s" not in used and "ENTER" not in used


def test_the_check_finds_a_misspelt_key_in_every_form():
    source = """
class Boom(Exception):
    key = "eror"
    def __init__(self, key="card_unreadabel"):
        self.key = key
class Box:
    def __init__(self, term, title_key, lines):
        self.problem = ("amount_zeroo", None)
def show(term):
    term.t("menu_sael")
    Box(term, "erorr", [])
    Box(term, title_key="eror2", lines=[])
    raise Boom("card_expird")
    items = (("menu_vodi", None),)
    term.on_key("ENTER")
"""
    tree = ast.parse(source)
    found = {key for key, _ in used_keys(tree, signatures([tree]), ("menu_", "card_"))}
    assert found == {
        "eror",
        "card_unreadabel",
        "amount_zeroo",
        "menu_sael",
        "erorr",
        "eror2",
        "card_expird",
        "menu_vodi",
    }
    assert all(catalog_problems(key) == ["not in the catalog"] for key in found)


class OneSidedCatalog:
    """A catalog where a message lacks its English text and another has a placeholder in one language."""

    @staticmethod
    def keys():
        return ["half", "args"]

    @staticmethod
    def text(key, lang):
        return {("half", "zh"): "半", ("half", "en"): "", ("args", "zh"): "限额 {}", ("args", "en"): "Limit"}[
            (key, lang)
        ]


def test_the_check_finds_a_missing_translation_and_differing_placeholders():
    assert catalog_problems("half", OneSidedCatalog) == ["no en text"]
    assert catalog_problems("args", OneSidedCatalog) == ["zh has 1 placeholders, en 0"]
    assert catalog_problems("menu_sale") == []
