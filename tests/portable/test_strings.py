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
