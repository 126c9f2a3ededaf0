// Runs a script of this repo under the real MicroPython runtime (the WebAssembly port, pinned in
// package.json): `node tests/upy/run.mjs SCRIPT.py [args...]`. Never touches the host tree.
//
// The .py files of firmware/, hal/, virtual/, tests/ and bench/ are copied, keeping the tree, with
// boot.py and main.py, into the runtime's in-memory file system under /qianpos, which becomes the
// working directory and is on sys.path. SCRIPT.py runs as __main__ with sys.argv = [SCRIPT.py,
// args...]. Exit status: 0, the code of a SystemExit, or 1 after printing the traceback of an
// uncaught exception.
// QIANPOS_UPY_HEAP: the heap the runtime starts with (default 32 MiB). Not a cap: this port grows
// its heap when it runs out (tests/upy/README.md). QIANPOS_UPY_MPY=DIR (e.g. build/mpy, from `make
// mpy`) copies firmware/ and hal/ from DIR as .mpy files only, no .py: the modules load as a board
// loads them; virtual/, tests/ and bench/ stay sources.

import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { loadMicroPython } from "@micropython/micropython-webassembly-pyscript";

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const ROOT = "/qianpos";
const COPIED_DIRS = ["firmware", "hal", "virtual", "tests", "bench"];
const MPY_DIRS = ["firmware", "hal"]; // taken from QIANPOS_UPY_MPY when it is set
const ROOT_FILES = ["boot.py", "main.py"]; // sources on a board too (a port runs them as .py only)

function die(msg) {
  process.stderr.write(msg + "\n");
  process.exit(2);
}

const [scriptArg, ...args] = process.argv.slice(2);
if (!scriptArg) die("usage: node tests/upy/run.mjs SCRIPT.py [args...]");
const scriptHost = path.resolve(scriptArg);
if (!fs.existsSync(scriptHost)) die("run.mjs: no such script: " + scriptArg);

const mp = await loadMicroPython({
  heapsize: Number(process.env.QIANPOS_UPY_HEAP || 32 * 1024 * 1024),
  stdout: (line) => process.stdout.write(line + "\n"),
  stderr: (line) => process.stderr.write(line + "\n"),
});
const FS = mp.FS;

function copyTree(hostDir, fsDir, ext = ".py") {
  FS.mkdirTree(fsDir);
  for (const entry of fs.readdirSync(hostDir, { withFileTypes: true })) {
    if (entry.name.startsWith(".") || entry.name === "__pycache__" || entry.name === "node_modules") continue;
    const hostPath = path.join(hostDir, entry.name);
    if (entry.isDirectory()) copyTree(hostPath, fsDir + "/" + entry.name, ext);
    else if (entry.isFile() && entry.name.endsWith(ext)) FS.writeFile(fsDir + "/" + entry.name, fs.readFileSync(hostPath));
  }
}

// /dev/full as on Linux: reads give zeros, every write fails with "no space" in Emscripten's
// numbering (ENOSPC is 51 in its ERRNO_CODES), so tests can see what this port's file system
// raises when it is full (tests/portable/test_conformance.py).
const DEV_FULL = FS.makedev(64, 0);
FS.registerDevice(DEV_FULL, {
  read: (stream, buffer, offset, length) => {
    buffer.fill(0, offset, offset + length);
    return length;
  },
  write: () => {
    throw new FS.ErrnoError(51);
  },
  llseek: () => 0,
});
FS.mkdev("/dev/full", 0o666, DEV_FULL);

const mpyDir = process.env.QIANPOS_UPY_MPY ? path.resolve(REPO, process.env.QIANPOS_UPY_MPY) : null;
for (const dir of COPIED_DIRS) {
  if (mpyDir && MPY_DIRS.includes(dir)) {
    const built = path.join(mpyDir, dir);
    if (!fs.existsSync(built)) die("run.mjs: no " + built + " (QIANPOS_UPY_MPY): run `make mpy` first");
    copyTree(built, ROOT + "/" + dir, ".mpy");
    continue;
  }
  const hostDir = path.join(REPO, dir);
  if (fs.existsSync(hostDir)) copyTree(hostDir, ROOT + "/" + dir);
}
for (const name of ROOT_FILES) {
  const hostFile = path.join(REPO, name);
  if (fs.existsSync(hostFile)) FS.writeFile(ROOT + "/" + name, fs.readFileSync(hostFile));
}

// The script keeps its repo-relative path (so tracebacks name it); one from outside the repo
// lands in /tmp under its own name.
const rel = path.relative(REPO, scriptHost);
const scriptFs = rel.startsWith("..") || path.isAbsolute(rel) ? "/tmp/" + path.basename(scriptHost) : ROOT + "/" + rel.split(path.sep).join("/");
FS.mkdirTree(path.posix.dirname(scriptFs));
FS.writeFile(scriptFs, fs.readFileSync(scriptHost));

// Strings go to Python as JSON literals, which are valid Python string literals.
const argv = JSON.stringify([scriptFs.startsWith(ROOT + "/") ? scriptFs.slice(ROOT.length + 1) : scriptFs, ...args]);
const launcher = `
import os, sys
os.chdir(${JSON.stringify(ROOT)})
sys.path.insert(1, ${JSON.stringify(ROOT)})
sys.argv.clear()
sys.argv.extend(${argv})
_qianpos_exit = 0
with open(${JSON.stringify(scriptFs)}) as _f:
    _src = _f.read()
_qianpos_ns = {"__name__": "__main__", "__file__": sys.argv[0]}
try:
    exec(compile(_src, sys.argv[0], "exec"), _qianpos_ns)
except SystemExit as _e:
    _qianpos_exit = _e.args[0] if _e.args else 0
`;

// A script may define upy_phase(i): it is then called with i = 0, 1, 2 ... each in a call of its
// own, while it returns True. This port's collector frees nothing while Python code is running
// (it cannot scan the stack under a JS call); a gc.collect() at the start of a phase does free.
const phaseCall = (i) => `
_qianpos_more = False
if _qianpos_exit == 0 and "upy_phase" in _qianpos_ns:
    try:
        _qianpos_more = bool(_qianpos_ns["upy_phase"](${i}))
    except SystemExit as _e:
        _qianpos_exit = _e.args[0] if _e.args else 0
`;

function flush(mod) {
  // Emit what the line buffers hold when the script ends without a final newline.
  for (const [buf, out] of [[mod._stdoutBuffer, process.stdout], [mod._stderrBuffer, process.stderr]]) {
    if (buf && buf.length) {
      out.write(mod._textDecoder.decode(new Uint8Array(buf)) + "\n");
      buf.length = 0;
    }
  }
}

let code = 0;
try {
  await mp.runPythonAsync(launcher);
  for (let i = 0; ; i++) {
    await mp.runPythonAsync(phaseCall(i));
    if (!mp.globals.get("_qianpos_more")) break;
  }
  const exitValue = mp.globals.get("_qianpos_exit");
  if (exitValue === null || exitValue === undefined) code = 0;
  else if (typeof exitValue === "number") code = exitValue;
  else {
    flush(mp._module);
    process.stderr.write(String(exitValue) + "\n");
    code = 1;
  }
} catch (e) {
  flush(mp._module);
  process.stderr.write(e && e.message ? e.message : String(e));
  if (!(e && e.message && e.message.endsWith("\n"))) process.stderr.write("\n");
  code = 1;
}
flush(mp._module);
// exitCode (not process.exit) so piped stdout is fully drained before node ends.
process.exitCode = code;
