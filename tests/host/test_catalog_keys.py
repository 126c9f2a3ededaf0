# Every catalog key the firmware names exists in firmware/strings.py: a typo would show the key
# itself on a terminal's screen instead of a message. Found statically, without running screens.
import ast
import os

from firmware.strings import keys

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIRMWARE = os.path.join(REPO, "firmware")


def _literals(path):
    with open(path, encoding="utf-8") as f:
        tree = ast.parse(f.read(), path)
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            yield node.value, node.lineno


def test_firmware_names_only_catalog_keys():
    catalog = set(keys())
    prefixes = {key.split("_")[0] + "_" for key in catalog}
    missing = []
    for name in sorted(os.listdir(FIRMWARE)):
        # params.py names parameters ("idle_timeout_s"), not messages.
        if not name.endswith(".py") or name in ("strings.py", "params.py"):
            continue
        for value, line in _literals(os.path.join(FIRMWARE, name)):
            shaped = value.replace("_", "").isalpha() and value.islower() and "_" in value
            if shaped and any(value.startswith(p) for p in prefixes) and value not in catalog:
                missing.append("{}:{}: {}".format(name, line, value))
    assert missing == []


def test_the_check_sees_the_keys_the_screens_use():
    # Guard against the check above passing because it looks at nothing.
    seen = set()
    for value, _ in _literals(os.path.join(FIRMWARE, "screens.py")):
        seen.add(value)
    assert {"menu_sale", "amount_over", "card_prompt", "not_available"} <= seen
