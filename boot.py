# boot.py: runs first on a MicroPython board. Keep it tiny: a broken boot.py leaves the REPL
# reachable only with a safe-mode boot. Never start the terminal here (main.py does).

import gc

gc.collect()
