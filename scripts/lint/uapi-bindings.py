#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""The Go and Python bindings' copies of the uapi against the header.

  scripts/lint/uapi-bindings.py [TREE]      (default: this repository)

go/uapi.go and python/prochandle/_uapi.py copy constants and struct
layouts from uapi/linux/prochandle.h by hand.  This compares, for each
binding, every value it has with the header's:

  - the header's values come from a C program compiled against it: ioctl
    numbers as the kernel's _IOW/_IOWR compute them (<linux/ioctl.h>),
    flags, states, event types, sizeof of every struct;
  - Go's from uapi.go itself, built with a main that prints them (so
    unsafe.Sizeof and the ioc() arithmetic are Go's own), Python's from
    importing _uapi.py (struct.Struct sizes);
  - names: a header PH_FOO_BAR is the binding name that spells FOO_BAR
    when case and underscores are ignored (Go acquireStartTime, Python
    ACQUIRE_STARTTIME), Go may drop a flag family's _F_ (ExitValid for
    PH_EXIT_F_VALID); struct ph_foo is Go's phFoo, Python's FOO.  The
    exceptions are in RENAMED.  PH_*_SIZE_VER* are checked through the
    struct sizes, not as constants.

A value that differs is a failure.  A header constant that a binding does
not have is a failure when it is in CORE (the v1 ABI, the exit record:
what both bindings use); any other is reported as pending, not failed, so
that a constant added to the header (PH_IOC_DEADLINE, PH_ACQUIRE_TRACK...)
does not break the check until its binding catches up; once the binding
has it, it is compared.  Output: "ok"/"not ok" lines, "pending" lines, and
last "uapi-bindings: N passed, N failed"; exit status 1 on any failure.
"""
import importlib.util
import os
import re
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
import uapi_c  # noqa: E402  scripts/lint/uapi_c.py: the header as C sees it

TOP = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else
                      os.path.join(os.path.dirname(__file__), "..", ".."))
HEADER = uapi_c.header(TOP)
GO_FILE = os.path.join(TOP, "go", "uapi.go")
PY_FILE = os.path.join(TOP, "python", "prochandle", "_uapi.py")

# Every binding must have these (a missing one is a failure).
CORE = """PH_DEVICE_NAME PH_IOC_MAGIC PH_IOC_ACQUIRE PH_IOC_RELEASE PH_IOC_SIGNAL
PH_IOC_WAIT PH_IOC_INFO PH_ACQUIRE_STARTTIME PH_ACQUIRE_STARTTIME_TICKS
PH_ACQUIRE_PIDFD PH_WAIT_NOHANG PH_WAIT_TIMEOUT PH_STATE_RUNNING
PH_STATE_EXITED PH_STATE_DONE PH_EXIT_F_VALID PH_EXIT_F_KILLER PH_EXIT_F_OOM
PH_EXIT_F_CORE struct:ph_acquire struct:ph_signal struct:ph_wait struct:ph_info
struct:ph_exit struct:ph_event""".split()

# Header name -> {binding: its name} where the rule above does not find it.
RENAMED = {
    "PH_DEVICE_NAME": {"go": "DevicePath", "python": "DEVICE"},
    "PH_IOC_MAGIC": {"python": "MAGIC"},
}

passed = failed = 0
pending = []


def result(good, what):
    global passed, failed
    if good:
        passed += 1
    else:
        failed += 1
    print(f"{'ok' if good else 'not ok'} {passed + failed} {what}")


def norm(name):
    return name.replace("_", "").lower()


def run(cmd, cwd=None, env=None):
    r = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    if r.returncode:
        sys.exit(f"uapi-bindings: {' '.join(cmd)} failed:\n{r.stdout}{r.stderr}"
                 "uapi-bindings: 0 passed, 1 failed")
    return r.stdout


def header_values():
    """{PH_NAME: int or str, "struct:ph_x": sizeof}"""
    vals = uapi_c.header_values(TOP)
    if vals is None:
        sys.exit(f"uapi-bindings: {HEADER} does not compile\n"
                 "uapi-bindings: 0 passed, 1 failed")
    return vals


def go_values():
    """The constants, variables and struct sizes uapi.go declares, by name."""
    with open(GO_FILE) as f:
        src = f.read()
    names, types, block = [], [], None
    for line in src.splitlines():
        m = re.match(r"^(const|var)\s*\($", line)
        if m:
            block = m.group(1)
            continue
        if block and line.strip() == ")":
            block = None
            continue
        m = re.match(r"^\s*([A-Za-z_]\w*)\s*(?:[\w.]+\s*)?=", line) if block else \
            re.match(r"^(?:const|var)\s+([A-Za-z_]\w*)\s*(?:[\w.]+\s*)?=", line)
        if m:
            names.append(m.group(1))
        m = re.match(r"^type\s+(\w+)\s+struct\b", line)
        if m:
            types.append(m.group(1))
    body = "".join(f'\tfmt.Printf("{n} %v %v\\n", isStr({n}), {n})\n' for n in names)
    body += "".join(f'\tfmt.Printf("{t} false %d\\n", unsafe.Sizeof({t}{{}}))\n' for t in types)
    main = ("package main\n\nimport (\n\t\"fmt\"\n\t\"unsafe\"\n)\n\n"
            "func isStr(v interface{}) bool { _, ok := v.(string); return ok }\n\n"
            "var _ = unsafe.Sizeof(0)\n\n"
            f"func main() {{\n{body}}}\n")
    with tempfile.TemporaryDirectory() as d:
        with open(os.path.join(d, "uapi.go"), "w") as f:
            f.write(re.sub(r"^package \w+", "package main", src, count=1, flags=re.M))
        with open(os.path.join(d, "main.go"), "w") as f:
            f.write(main)
        with open(os.path.join(d, "go.mod"), "w") as f:
            f.write("module uapibindings\n\ngo 1.19\n")
        env = dict(os.environ, GOPROXY="off", GOTOOLCHAIN="local", GOFLAGS="")
        out = run(["go", "run", "."], cwd=d, env=env)
    vals = {}
    for line in out.splitlines():
        name, is_str, val = line.split(" ", 2)
        vals[name] = val if is_str == "true" else int(val)
    return vals, set(types)


def python_values():
    spec = importlib.util.spec_from_file_location("ph_uapi_check", PY_FILE)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    vals, structs = {}, set()
    for name, v in vars(mod).items():
        if name.startswith("__"):
            continue
        if isinstance(v, (int, str)) and not isinstance(v, bool):
            vals[name] = v
        elif hasattr(v, "size") and hasattr(v, "format"):
            vals[name] = v.size
            structs.add(name)
    return vals, structs


def find(binding, hname, vals, structs):
    """The binding's name for header name hname (or struct:ph_x), or None."""
    if hname in RENAMED and binding in RENAMED[hname]:
        return RENAMED[hname][binding]
    if hname.startswith("struct:"):
        base = hname[len("struct:"):]
        want = [norm(base)] if binding == "go" else [norm(base[len("ph_"):])]
        pool = structs
    else:
        base = hname[len("PH_"):]
        want = [norm(base)]
        if binding == "go":
            want.append(norm(base.replace("_F_", "_")))
        pool = [n for n in vals if n not in structs]
    for w in want:
        hits = [n for n in pool if norm(n) == w]
        if hits:
            return hits[0]
    return None


def show(v):
    """Ioctl numbers in hex, the rest as they are."""
    return f"{v:#x}" if isinstance(v, int) and v > 0xffff else repr(v)


def main():
    hvals = header_values()
    goals, gostructs = go_values()
    pyvals, pystructs = python_values()
    bindings = {"go": (goals, gostructs), "python": (pyvals, pystructs)}
    for c in CORE:
        if c not in hvals:
            result(False, f"header: {c} (a core constant) is not in the header")
    for hname in sorted(hvals):
        if "_SIZE_VER" in hname:
            continue
        want = hvals[hname]
        if hname == "PH_DEVICE_NAME":
            want = "/dev/" + want
        for binding, (vals, structs) in bindings.items():
            name = find(binding, hname, vals, structs)
            if name is None or name not in vals:
                if hname in CORE:
                    result(False, f"{binding}: {hname} missing (a core constant)")
                else:
                    pending.append(f"{binding}: {hname} ({show(want)}) not in the binding yet")
                continue
            got = vals[name]
            result(got == want, f"{binding}: {name} = {show(got)}, "
                   f"header {hname} = {show(want)}")
    for p in pending:
        print(f"# pending: {p}")
    print(f"uapi-bindings: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
