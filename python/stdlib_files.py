# SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
"""Print the standard-library files that the package and its tests load,
relative to the stdlib directory, for staging a minimal interpreter into
a test guest.  Run with the interpreter to be staged (python3.11 -S -E)."""
import asyncio
import os
import sys
import sysconfig
import traceback
import unittest

here = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [here, os.path.join(here, "tests")]
import prochandle  # noqa: E402,F401
import tap  # noqa: E402,F401
import test_prochandle  # noqa: E402,F401

# What runs only at test time: the loop, the loader, a traceback.
asyncio.run(asyncio.sleep(0))
unittest.defaultTestLoader.discover(os.path.join(here, "tests"), pattern="test_*.py")
try:
    raise ValueError("x")
except ValueError:
    traceback.format_exc()

stdlib = sysconfig.get_paths()["stdlib"]
dirs = (stdlib, os.path.join(stdlib, "lib-dynload"))
files = set()
for m in list(sys.modules.values()):
    f = getattr(m, "__file__", None)
    if f and f.startswith(stdlib + "/") and "site-packages" not in f:
        files.add(os.path.relpath(f, stdlib))
for f in sorted(files):
    print(f)
