#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
#
# In the guest: the Python package's tests (and its README example) with
# the staged python3.11, as TAP.  Exit 0 passed, 4 skipped, 1 failed.
root=$(cd "$(dirname "$0")/../.." && pwd)
py=$root/python
PYTHONHOME=$py PYTHONPATH=$py/src PYTHONDONTWRITEBYTECODE=1 \
LD_LIBRARY_PATH=$py/lib \
	exec timeout 280 "$py/bin/python3" -S -s "$py/src/tests/tap.py"
