from firmware.dates import civil, format_minute, unix_seconds


def test_civil_known_dates():
    assert civil(0) == (1970, 1, 1, 0, 0, 0)
    assert civil(951782400) == (2000, 2, 29, 0, 0, 0)  # leap day of a century leap year
    assert civil(4102444799) == (2099, 12, 31, 23, 59, 59)
    assert civil(-1) == (1969, 12, 31, 23, 59, 59)
    assert civil(1795392000) == (2026, 11, 23, 0, 0, 0)


def test_time_zone_shift_crosses_the_date_line():
    # 2026-11-22 16:30 UTC is 2026-11-23 00:30 in China (UTC+8).
    assert civil(1795365000, 480) == (2026, 11, 23, 0, 30, 0)
    assert civil(1795365000, 0)[:3] == (2026, 11, 22)


def test_format_minute_pads_fields():
    assert format_minute(1795365000, 480) == "2026-11-23 00:30"
    assert format_minute(0) == "1970-01-01 00:00"


def test_every_day_of_four_years_follows_the_previous():
    y, m, d = civil(946684800)[:3]  # 2000-01-01
    assert (y, m, d) == (2000, 1, 1)
    for day in range(1, 4 * 366):
        ny, nm, nd = civil(946684800 + day * 86400)[:3]
        if nd != d + 1:
            assert nd == 1 and (nm == m + 1 or (m == 12 and nm == 1 and ny == y + 1)), (ny, nm, nd)
        y, m, d = ny, nm, nd


def test_unix_seconds_is_the_inverse_of_civil():
    assert unix_seconds(1970, 1, 1) == 0
    assert unix_seconds(2000, 1, 1) == 946684800
    assert unix_seconds(2000, 2, 29) == 951782400
    assert unix_seconds(2099, 12, 31, 23, 59, 59) == 4102444799
    assert unix_seconds(1969, 12, 31, 23, 59, 59) == -1
    assert (
        unix_seconds(2026, 11, 23, 0, 30, 0, 480) == 1795365000
    )  # 00:30 in China is 16:30 UTC the day before
    for t in range(946684800 - 86400, 4102444800, 86400 * 37 + 3601 * 5 + 61):
        assert unix_seconds(*(civil(t, 480) + (480,))) == t, t


def test_unix_seconds_rolls_fields_over():
    assert unix_seconds(2026, 2, 30) == unix_seconds(2026, 3, 2)
    assert unix_seconds(2026, 11, 29, 24) == unix_seconds(2026, 11, 30)
    assert unix_seconds(2026, 12, 0) == unix_seconds(2026, 11, 30)
