from firmware import strings
from firmware.strings import LANGUAGES, keys, text


def test_every_message_exists_in_both_languages_with_the_same_placeholders():
    for key in keys():
        zh = text(key, "zh")
        en = text(key, "en")
        assert zh and en and zh != key and en != key, key
        assert zh.count("{}") == en.count("{}"), key


def test_text_fills_placeholders_and_defaults_to_chinese():
    assert text("idle_batch", "en", "000007") == "Batch 000007"
    assert text("idle_batch", "zh", "000007") == "批次 000007"
    assert text("menu_sale", "xx") == "消费"
    assert LANGUAGES == ("zh", "en")


def test_an_unknown_key_shows_as_itself_rather_than_failing():
    assert text("no_such_message", "en") == "no_such_message"
    assert strings.text("no_such_message", "zh", 1) == "no_such_message"


_KEY_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_"


def test_every_catalog_line_is_a_key_and_two_texts():
    # The catalog is one bytes constant of "key|zh|en" lines (the heap: firmware/strings.py): a
    # "|" or a line break inside a text, a key said twice or an empty text shows here.
    lines = strings._CATALOG.decode().split("\n")
    assert lines[0] == "" and lines[-1] == ""  # a line break first and last: every key follows one
    seen = set()
    for line in lines[1:-1]:
        fields = line.split("|")
        assert len(fields) == 3, line
        key, zh, en = fields
        assert key and all(ch in _KEY_CHARS for ch in key), line
        assert key not in seen, "{} twice".format(key)
        seen.add(key)
        assert zh.strip() and en.strip(), line
        assert text(key, "zh") == zh and text(key, "en") == en
    assert sorted(seen) == keys() and len(seen) > 100


def test_a_key_inside_another_line_still_finds_its_own():
    catalog = strings._CATALOG
    # "signed_in" first occurs at the end of "idle_signed_in", "svc_tmk_part" at the start of
    # "svc_tmk_parts": a lookup that took the first match would return the other line's text.
    assert catalog.find(b"signed_in") < catalog.find(b"\nsigned_in|")
    assert text("signed_in", "zh") == "签到成功" and text("idle_signed_in", "zh") == "已签到"
    assert catalog.find(b"svc_tmk_part") < catalog.find(b"\nsvc_tmk_part|")
    assert text("svc_tmk_part", "en", 1, 3) == "Component 1 of 3"
    assert text("signed", "en") == "signed" and text("in", "zh") == "in"  # parts of keys: unknown


def test_a_key_holding_the_catalog_separators_is_unknown():
    assert text("idle_batch|批次 {}", "en") == "idle_batch|批次 {}"
    assert text("idle_online\nidle_offline", "en") == "idle_online\nidle_offline"
    assert text("", "zh") == ""
