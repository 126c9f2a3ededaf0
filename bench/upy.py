# Runs a bench script under MicroPython (the WebAssembly runtime, through node) for the CPython
# drivers of bench/: its printed lines and the figures of its "RESULT key=value ..." line.
import os
import shutil
import subprocess

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class Run:
    """What a MicroPython bench run gave: `figures` (dict of the RESULT line, values as `number`
    made them, None where the script printed None; None if there was no RESULT line), `lines`
    (its other output lines) and `problem` (why it did not run or failed; None if it ran)."""

    def __init__(self, figures, lines, problem):
        self.figures = figures
        self.lines = lines
        self.problem = problem

    def output(self):
        return "\n".join(self.lines + ([self.problem] if self.problem else []))


def run(script, number=float, args=(), mpy_dir=None):
    """Run bench/<script> (or a script at an absolute path, run.mjs puts it in /tmp) with args on
    MicroPython; see Run. mpy_dir: a `make mpy` build whose .mpy
    files replace the sources of firmware/ and hal/ (tests/upy/run.mjs, QIANPOS_UPY_MPY)."""
    node = shutil.which("node")
    if node is None:
        return Run(None, [], "MicroPython: not run (node is not on PATH)")
    proc = subprocess.run(
        [node, "tests/upy/run.mjs", script if os.path.isabs(script) else "bench/" + script] + list(args),
        cwd=REPO,
        env=dict(os.environ, QIANPOS_UPY_MPY=mpy_dir) if mpy_dir else None,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=600,
    )
    figures = None
    lines = []
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            figures = {}
            for pair in line[len("RESULT ") :].split():
                key, value = pair.split("=")
                figures[key] = None if value == "None" else number(value)
        else:
            lines.append(line)
    problem = None
    if proc.returncode != 0:
        problem = "MicroPython run failed ({}): {}".format(proc.returncode, proc.stderr.strip())
    return Run(figures, lines, problem)


def verdict(name, complete, cpython_problems, micropython_output):
    """A bench driver's exit status: 0, or 1 after saying the bench is incomplete (a figure missing,
    a problem on either runtime)."""
    if not complete or cpython_problems or "PROBLEM" in micropython_output:
        print("\n{} bench incomplete: see the problems above".format(name))
        return 1
    return 0
