# SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
"""Run the package's unittest tests and print TAP.

Exit 0: all passed; 4: all skipped (no device); 1: a failure."""
import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))


class TAP(unittest.TestResult):
    def __init__(self):
        super().__init__()
        self.n = self.passed = self.skips = 0

    def _line(self, ok, test, note=""):
        self.n += 1
        print(f"{'ok' if ok else 'not ok'} {self.n} {test.id()}{note}", flush=True)

    def addSuccess(self, test):
        super().addSuccess(test)
        self.passed += 1
        self._line(True, test)

    def addSkip(self, test, reason):
        super().addSkip(test, reason)
        self.skips += 1
        self._line(True, test, f" # SKIP {reason}")

    def _bad(self, test, err, kind):
        for line in self._exc_info_to_string(err, test).splitlines():
            print(f"# {line}")
        self._line(False, test, f" # {kind}")

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self._bad(test, err, "FAIL")

    def addError(self, test, err):
        super().addError(test, err)
        self._bad(test, err, "ERROR")


def main():
    print("TAP version 13")
    if not os.path.exists("/dev/prochandle"):
        print("1..0 # SKIP /dev/prochandle missing (module not loaded)")
        return 4
    suite = unittest.defaultTestLoader.discover(HERE, pattern="test_*.py",
                                                top_level_dir=HERE)
    r = TAP()
    suite.run(r)
    print(f"1..{r.n}")
    print(f"# Totals: pass:{r.passed} fail:{len(r.failures) + len(r.errors)} "
          f"xfail:0 xpass:0 skip:{r.skips} error:0")
    if r.failures or r.errors:
        return 1
    return 0 if r.passed else 4


if __name__ == "__main__":
    sys.exit(main())
