#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Check that the syzkaller description agrees with the uapi header.

  dist/syzkaller/syzcheck.py [--write-const]

Compiles probe programs against uapi/linux/prochandle.h (through
scripts/lint/uapi_c.py, shared with the bindings' check) and compares:
  - every PH_* constant the description uses (ioctl numbers, flags) with
    its value in the header, and prochandle.txt.const with the header:
    a value that differs, or a constant of the header missing from it,
    fails (--write-const rewrites it);
  - every ioctl the header defines has an ioctl$ entry (several variants
    of one command may, like ioctl$PH_IOC_ACQUIRE_PIDFD) whose argument
    direction and size match the command's, and every flag/state/event
    macro is in one of the description's flag sets;
  - every struct the header defines is described, and every struct of the
    description, field by field: offset and size as syzkaller lays it out
    (natural alignment) against offsetof/sizeof in C, and the struct's
    size.  A variant ph_foo_bar of an ioctl's argument (a field typed
    differently) is compared with struct ph_foo when the header has no
    struct ph_foo_bar.
Only what the header does not define (an ioctl, a struct, or trailing
fields a struct will grow by, described ahead of the header) is listed as
pending, not failed.
The last line is "syzcheck: N passed, N failed".
"""
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(TOP, "scripts", "lint"))
sys.dont_write_bytecode = True  # no __pycache__ in the source tree
import uapi_c  # noqa: E402  the header as C sees it (shared with lint)

DESC = os.path.join(HERE, "prochandle.txt")
CONST = DESC + ".const"
ARCHES = "386, amd64, arm, arm64, riscv64, s390x"   # asm-generic _IOC layout
# Constants from elsewhere that the description uses.
FOREIGN = ["AT_FDCWD", "O_RDWR", "O_RDONLY", "O_WRONLY", "O_NONBLOCK", "O_CLOEXEC"]
BASE = {"int8": 1, "int16": 2, "int32": 4, "int64": 8, "pid": 4, "uid": 4,
        "gid": 4, "fd": 4, "intptr": 8}
# Resources of syzkaller's sys/linux that the description uses.
FOREIGN_RESOURCES = {"fd_pidfd": "fd"}

passed = failed = 0
pending = []


def ok(what):
    global passed
    passed += 1
    print(f"ok    {what}")


def bad(what):
    global failed
    failed += 1
    print(f"FAIL  {what}")


def parse(text):
    """Structs, flag sets, ioctls and resources of a syzlang file."""
    structs, flagsets, ioctls, resources = {}, {}, {}, dict(FOREIGN_RESOURCES)
    cur = None
    for line in text.splitlines():
        line = line.split("#", 1)[0].rstrip()
        if not line.strip():
            continue
        if cur is not None:
            if line.strip() == "}":
                cur = None
                continue
            name, typ = line.split(None, 1)
            typ = re.sub(r"\s*\((in|out|inout)\)\s*$", "", typ).strip()
            structs[cur].append((name, typ))
            continue
        m = re.match(r"^(\w+)\s*\{$", line)
        if m:
            cur = m.group(1)
            structs[cur] = []
            continue
        m = re.match(r"^resource (\w+)\[(\w+)\]", line)
        if m:
            resources[m.group(1)] = m.group(2)
            continue
        m = re.match(r"^ioctl\$(\w+)\(.*cmd const\[(\w+)\], arg ptr\[(\w+), (\w+)\]\)", line)
        if m:
            ioctls[m.group(1)] = (m.group(2), m.group(3), m.group(4))
            continue
        m = re.match(r"^(\w+) = (.*)$", line)
        if m:
            flagsets[m.group(1)] = [v.strip() for v in m.group(2).split(",")]
    return structs, flagsets, ioctls, resources


def layout(structs, resources, typ):
    """(size, align) of a syzlang type."""
    m = re.match(r"^(int8|int16|int32|int64|intptr)(\[.*\])?$", typ)
    if m:
        n = BASE[m.group(1)]
        return n, n
    if typ in BASE:
        return BASE[typ], BASE[typ]
    if typ in resources:
        return layout(structs, resources, resources[typ])
    m = re.match(r"^(?:const|flags)\[[^,\]]+, (int\d+)\]$", typ)
    if m:
        return layout(structs, resources, m.group(1))
    m = re.match(r"^array\[(.+), (\d+)\]$", typ)
    if m:
        size, align = layout(structs, resources, m.group(1))
        return size * int(m.group(2)), align
    if typ in structs:
        off, align = 0, 1
        for _, ftyp in structs[typ]:
            size, a = layout(structs, resources, ftyp)
            off = (off + a - 1) // a * a + size
            align = max(align, a)
        return (off + align - 1) // align * align, align
    raise ValueError(f"unknown type {typ}")


def offsets(structs, resources, name):
    off, out = 0, []
    for fname, ftyp in structs[name]:
        size, a = layout(structs, resources, ftyp)
        off = (off + a - 1) // a * a
        out.append((fname, off, size))
        off += size
    return out


def header_consts(names):
    return uapi_c.values(TOP, names, includes="#include <fcntl.h>") or {}


def c_layout(name, fields):
    """{field: (offset, size)} and sizeof for the fields C has, or None."""
    def probe(fs):
        body = f'printf("sizeof %zu\\n", sizeof(struct {name}));\n' + "".join(
            f'printf("{f} %zu %zu\\n", offsetof(struct {name}, {f}), '
            f'sizeof(((struct {name} *)0)->{f}));\n' for f in fs)
        return uapi_c.run_c(TOP, body)

    out = probe(fields)
    if out is None:
        if probe([]) is None:
            return None
        out = probe([])
        for f in fields:
            more = probe([f])
            if more:
                out += more[1:]
    res = {}
    for line in out:
        k, *v = line.split()
        res[k] = tuple(int(x) for x in v)
    return res


def c_struct(name, hstructs):
    """The header's struct a description struct is checked against: its
    own name, or for a variant ph_foo_bar (no such struct in the header)
    the longest ph_foo the header has; None if neither."""
    parts = name.split("_")
    for n in range(len(parts), 1, -1):
        cand = "_".join(parts[:n])
        if cand in hstructs:
            return cand
    return None


def check_ioctls(ioctls, structs, resources, vals, macros, flagged, hstructs):
    """The header's ioctls and flags are described; commands match."""
    cmds = {cmd for cmd, _, _ in ioctls.values()}
    for m in macros:
        if m in ("PH_DEVICE_NAME", "PH_IOC_MAGIC") or "_SIZE_VER" in m:
            continue
        if m.startswith("PH_IOC_"):
            (ok if m in cmds else bad)(f"header ioctl {m} has an ioctl$ entry")
        else:
            (ok if m in flagged else bad)(f"header flag {m} is in a flag set")
    for syz, (cmd, direction, arg) in sorted(ioctls.items()):
        if cmd not in vals:
            continue
        v = vals[cmd]
        dirbits, size, typ = v >> 30, (v >> 16) & 0x3FFF, (v >> 8) & 0xFF
        want = {"in": 1, "out": 2, "inout": 3}[direction]
        # PH_<STRUCT>_SIZE_VER0 (PH_EVENTS_ for SET_EVENTS), or by command.
        base = c_struct(arg, hstructs) or cmd.replace("PH_IOC_", "ph_")
        ver0 = vals.get(f"PH_{base[3:].upper()}_SIZE_VER0",
                        vals.get(cmd.replace("PH_IOC_", "PH_") + "_SIZE_VER0"))
        try:
            struct_size = layout(structs, resources, arg)[0]
        except ValueError as e:
            bad(f"ioctl${syz}: argument: {e}")
            continue
        good = (dirbits == want and typ == vals["PH_IOC_MAGIC"] and
                size <= struct_size and (ver0 is None or ver0 <= size))
        (ok if good else bad)(
            f"ioctl${syz}: {cmd} direction {direction}, type 0x{typ:x}, "
            f"size {size} (VER0 {ver0}, struct {arg} {struct_size})")


def check_structs(structs, resources, hstructs):
    """Each header struct described; each description struct against C."""
    described = {c_struct(n, hstructs) for n in structs}
    for h in hstructs:
        (ok if h in described else bad)(f"header struct {h} is described")
    for name in sorted(structs):
        fields = [f for f, _ in structs[name]]
        cname = c_struct(name, hstructs)
        c = c_layout(cname, fields) if cname else None
        if c is None:
            pending.append(f"struct {name} (not in the header yet)")
            continue
        syz = offsets(structs, resources, name)
        missing = [f for f, _, _ in syz if f not in c]
        tail_ok = (not missing or
                   (fields[-len(missing):] == missing and
                    c["sizeof"][0] == dict((f, o) for f, o, _ in syz)[missing[0]]))
        what = name if cname == name else f"{name} (struct {cname})"
        for f, off, size in syz:
            if f in c:
                (ok if c[f] == (off, size) else bad)(
                    f"{what}.{f}: offset {off} size {size} (C: {c[f][0]} {c[f][1]})")
        if missing and tail_ok:
            pending.append(f"{what}: fields {', '.join(missing)} (not in the header yet)")
        elif missing:
            bad(f"{what}: fields {', '.join(missing)} missing from the header")
        else:
            size = layout(structs, resources, name)[0]
            (ok if c["sizeof"][0] == size else bad)(
                f"sizeof {what} {size} (C: {c['sizeof'][0]})")


def check_const(vals, used):
    """prochandle.txt.const: written from the header (--write-const), or
    checked against it: a value that differs, a constant missing or extra
    fails."""
    consts = {n: v for n, v in vals.items() if n in used or n in FOREIGN}
    text = ("# Code generated by dist/syzkaller/syzcheck.py from "
            "uapi/linux/prochandle.h. DO NOT EDIT.\n"
            f"arches = {ARCHES}\n" +
            "".join(f"{n} = {consts[n]}\n" for n in sorted(consts)))
    if "--write-const" in sys.argv:
        with open(CONST, "w") as f:
            f.write(text)
    written = {}
    if os.path.exists(CONST):
        with open(CONST) as f:
            for line in f:
                m = re.match(r"^(\w+) = (\d+)$", line.strip())
                if m and m.group(1) != "arches":
                    written[m.group(1)] = int(m.group(2))
    wrong = sorted(n for n in set(written) | set(consts)
                   if written.get(n) != consts.get(n))
    (ok if written and not wrong else bad)(
        "prochandle.txt.const agrees with the header" +
        (f" (differs: {', '.join(wrong)}; run syzcheck.py --write-const)"
         if wrong else ""))


def main():
    with open(DESC) as f:
        structs, flagsets, ioctls, resources = parse(f.read())
    macros = [n for n, _ in uapi_c.macros(TOP)]
    hstructs = uapi_c.structs(TOP)
    flagged = {v for vs in flagsets.values() for v in vs}
    used = sorted(flagged | {cmd for cmd, _, _ in ioctls.values()})
    vals = header_consts(sorted(set(used) | set(macros) | set(FOREIGN)))

    for n in used:
        if n.startswith("PH_") and n not in vals:
            pending.append(f"constant {n} (not in the header yet)")
    check_ioctls(ioctls, structs, resources, vals, macros, flagged, hstructs)
    check_structs(structs, resources, hstructs)
    check_const(vals, used)

    for p in pending:
        print(f"pending  {p}")
    print(f"syzcheck: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
