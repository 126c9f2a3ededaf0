# The firmware's version and build date: the one place they live. `make version` (run by `make mpy`)
# rewrites this file with the build's date; edit VERSION by hand. Never compute anything here.

VERSION = "0.2.0"
BUILD_DATE = "2026-11-29"  # the day the firmware was built, UTC
BUILD_TIME = 1795910400  # BUILD_DATE 00:00 UTC in Unix seconds: a wall clock reading earlier is wrong
