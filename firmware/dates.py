# Calendar arithmetic for wall-clock seconds (Unix epoch, UTC) in the terminal's time zone.
# Never use time.localtime/strftime: ports differ in epoch and time zone support.


def civil(seconds, tz_minutes=0):
    """(year, month, day, hour, minute, second) of Unix seconds shifted by tz_minutes."""
    t = seconds + tz_minutes * 60
    days = t // 86400
    rem = t - days * 86400
    # Howard Hinnant's days_from_civil inverse, valid for any day count.
    z = days + 719468
    era = z // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    y = yoe + era * 400
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = mp + 3 if mp < 10 else mp - 9
    if m <= 2:
        y += 1
    return (y, m, d, rem // 3600, rem % 3600 // 60, rem % 60)


def unix_seconds(year, month, day, hour=0, minute=0, second=0, tz_minutes=0):
    """Unix seconds of a civil time in the zone tz_minutes: the inverse of civil() for a real date
    and time. Out-of-range fields roll over (day 30 of February is March 2nd): to validate an
    entry, compare civil() of the result with it."""
    # Howard Hinnant's days_from_civil, valid for any year.
    y = year - 1 if month <= 2 else year
    era = y // 400
    yoe = y - era * 400
    mp = month - 3 if month > 2 else month + 9
    doy = (153 * mp + 2) // 5 + day - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    days = era * 146097 + doe - 719468
    return days * 86400 + hour * 3600 + minute * 60 + second - tz_minutes * 60


def _two(n):
    return "0" + str(n) if n < 10 else str(n)


def format_minute(seconds, tz_minutes=0):
    """ "2026-11-22 21:30" in the terminal's time zone."""
    y, m, d, hh, mm, _ = civil(seconds, tz_minutes)
    return "{}-{}-{} {}:{}".format(y, _two(m), _two(d), _two(hh), _two(mm))


def local_day(seconds, tz_minutes):
    """Days since 1970-01-01 in the terminal's zone (the sign-in-each-day parameter)."""
    return (seconds + tz_minutes * 60) // 86400
