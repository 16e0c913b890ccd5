# SPDX-License-Identifier: GPL-2.0
"""uapi/linux/prochandle.h as a C compiler sees it.

Shared by the checks that compare a copy of the uapi with the header:
scripts/lint/uapi-bindings.py (the Go and Python bindings) and
dist/syzkaller/syzcheck.py (the syzkaller description).  Values come from
a probe program compiled ($CC, default cc) against TOP/uapi and run, so
ioctl numbers are what <linux/ioctl.h> computes and sizes what the
compiler lays out.
"""
import os
import re
import subprocess
import tempfile


def header(top):
    """The path of the header in the tree top."""
    return os.path.join(top, "uapi", "linux", "prochandle.h")


def macros(top):
    """[(name, replacement text)] of the header's PH_* macros, in order."""
    with open(header(top)) as f:
        return re.findall(r"^#define\s+(PH_\w+)\s+(.*)$", f.read(), re.M)


def structs(top):
    """The names (ph_*) of the structs the header defines, in order."""
    with open(header(top)) as f:
        return re.findall(r"^struct\s+(ph_\w+)\s*\{", f.read(), re.M)


def run_c(top, body, includes=""):
    """Compile and run main() { body } against the header.

    Returns its output lines, or None if the program does not compile (a
    name the header lacks).  A program that compiles but fails to run
    raises subprocess.CalledProcessError.
    """
    src = ("#include <stdio.h>\n#include <stddef.h>\n"
           f"{includes}\n#include <linux/prochandle.h>\n"
           f"int main(void)\n{{\n{body}\nreturn 0;\n}}\n")
    with tempfile.TemporaryDirectory() as d:
        c, exe = os.path.join(d, "p.c"), os.path.join(d, "p")
        with open(c, "w") as f:
            f.write(src)
        r = subprocess.run([os.environ.get("CC", "cc"), "-I",
                            os.path.join(top, "uapi"), "-o", exe, c],
                           capture_output=True, text=True)
        if r.returncode:
            return None
        return subprocess.run([exe], capture_output=True, text=True,
                              check=True).stdout.splitlines()


def values(top, names, sizes=(), strings=(), includes=""):
    """{name: int} for each macro of names that is defined (#ifdef), str for
    those in strings, and {"struct:NAME": sizeof} for each struct of sizes.

    None if the probe does not compile.
    """
    body = ""
    for n in names:
        if n in strings:
            body += f'#ifdef {n}\nprintf("{n} s %s\\n", {n});\n#endif\n'
        else:
            body += (f'#ifdef {n}\nprintf("{n} i %llu\\n", '
                     f'(unsigned long long)({n}));\n#endif\n')
    for s in sizes:
        body += f'printf("struct:{s} i %zu\\n", sizeof(struct {s}));\n'
    out = run_c(top, body, includes)
    if out is None:
        return None
    vals = {}
    for line in out:
        name, kind, val = line.split(" ", 2)
        vals[name] = int(val) if kind == "i" else val
    return vals


def header_values(top):
    """Every PH_* macro of the header (strings as str) and every struct's
    size ("struct:ph_x"); None if the header does not compile."""
    ms = macros(top)
    return values(top, [n for n, _ in ms], sizes=structs(top),
                  strings={n for n, v in ms if v.lstrip().startswith('"')})
