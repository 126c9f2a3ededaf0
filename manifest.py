# ruff: noqa: F821  (include/package are the manifest tool's, defined when it runs this file)
# The frozen image of QianPOS (MicroPython's manifest tool reads this file; build commands: make freeze).
# Freezes the port's own modules (its _boot.py mounts the filesystem), then every module of firmware/
# and hal/ at -O0 (line numbers kept for the crash record: tools/mpy_gate.py). boot.py, main.py and the
# font file are not frozen: make deploy FROZEN=1 copies them. tests/host/test_freeze.py checks that this
# covers exactly what make mpy builds.
include("$(PORT_DIR)/boards/manifest.py")
package("firmware", opt=0)
package("hal", opt=0)
