# SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
"""Lifetime control (SPEC 11): kill on release and deadlines."""
import errno
import os
import select
import signal

import prochandle
from test_prochandle import Base, counter

BOUND = 60      # seconds a test waits for what must happen (a kill, a report)


class TestKillOnRelease(Base):
    def test_release_kills(self):
        acquire = {
            "acquire": lambda t, pid: t.acquire(pid, kill_on_release=True),
            "acquire_identity": lambda t, pid: t.acquire_identity(
                f"{pid}@{prochandle.start_ticks(pid)}", kill_on_release=True),
            "acquire_pidfd": self.acquire_pidfd,
        }
        for name, how in acquire.items():
            with self.subTest(name):
                k = self.kid()
                watch = self.table.acquire(k.pid)
                kills = counter("kills")
                h = how(self.table, k.pid)
                h.release()     # returns after the kill was sent
                self.assertEqual(counter("kills"), kills + 1)
                self.assertEqual(watch.wait(timeout=BOUND).signal, signal.SIGKILL)

    def acquire_pidfd(self, table, pid):
        fd = os.pidfd_open(pid)
        try:
            return table.acquire_pidfd(fd, kill_on_release=True)
        finally:
            os.close(fd)

    def test_exited_is_spared(self):
        k = self.kid()
        h = self.table.acquire(k.pid, kill_on_release=True)
        k.exit(7)
        self.assertEqual(os.waitstatus_to_exitcode(k.reap()), 7)
        kills, refused = counter("kills"), counter("kills_refused")
        h.release()
        self.assertEqual((counter("kills"), counter("kills_refused")), (kills, refused))

    def test_plain_release_spares(self):
        k = self.kid()
        self.table.acquire(k.pid).release()
        self.table.acquire(k.pid).signal(0)       # still there

    def test_close_kills(self):
        k = self.kid()          # first: a kid forked later would share t
        watch = self.table.acquire(k.pid)
        t = prochandle.Table()
        t.acquire(k.pid, kill_on_release=True)
        t.close()
        self.assertEqual(watch.wait(timeout=BOUND).signal, signal.SIGKILL)

    def test_holder_death_kills(self):
        k = self.kid()
        watch = self.table.acquire(k.pid)
        r, w = os.pipe()
        holder = os.fork()
        if holder == 0:
            try:
                os.close(r)
                prochandle.Table().acquire(k.pid, kill_on_release=True)
                os.write(w, b"r")
                select.select([], [], [], 120)      # until killed
            finally:
                os._exit(0)
        os.close(w)
        try:
            self.assertTrue(select.select([r], [], [], BOUND)[0], "holder not ready")
            self.assertEqual(os.read(r, 1), b"r")
        finally:
            os.kill(holder, signal.SIGKILL)
            os.waitpid(holder, 0)
            os.close(r)
        self.assertEqual(watch.wait(timeout=BOUND).signal, signal.SIGKILL)


class TestDeadline(Base):
    def test_fires(self):
        for sig, want in ((signal.SIGTERM, signal.SIGTERM), (None, signal.SIGKILL)):
            with self.subTest(sig=sig):
                k = self.kid()
                h = self.table.acquire(k.pid)
                kills = counter("kills")
                h.deadline(0.02, sig)
                self.assertEqual(h.wait(timeout=BOUND).signal, want)
                self.assertEqual(counter("kills"), kills + 1)

    def test_grace_escalates(self):
        k = self.kid(catch=signal.SIGUSR1)
        h = self.table.acquire(k.pid)
        h.deadline(0.02, signal.SIGUSR1, grace=0.1)
        self.assertEqual(k.report(BOUND), b"s")      # the deadline's signal
        self.assertEqual(h.wait(timeout=BOUND).signal, signal.SIGKILL)

    def test_cancel(self):
        k = self.kid(catch=signal.SIGUSR1)
        h = self.table.acquire(k.pid)
        clock = self.table.acquire(k.pid)
        h.deadline(0.05)                        # SIGKILL
        h.cancel_deadline()
        # A later deadline on another handle is the clock: once it has
        # fired, the cancelled one would have.
        clock.deadline(0.5, signal.SIGUSR1)
        self.assertEqual(k.report(BOUND), b"s", "killed by the cancelled deadline?")
        h.signal(0)
        h.cancel_deadline()                     # none armed: nothing

    def test_errors(self):
        k = self.kid()
        h = self.table.acquire(k.pid)
        for sig in (65, -1):
            with self.assertRaises(OSError) as cm:
                h.deadline(0.001, sig)
            self.assertEqual(cm.exception.errno, errno.EINVAL)
        with self.assertRaises(ValueError):
            h.deadline(0.001, signal.SIGTERM, grace=-1)
        k.exit(0)
        k.reap()
        with self.assertRaises(ProcessLookupError):
            h.deadline(1, signal.SIGTERM)
        h.cancel_deadline()
        h.release()
        for call in (lambda: h.deadline(1), h.cancel_deadline):
            with self.assertRaises(OSError) as cm:
                call()
            self.assertEqual(cm.exception.errno, errno.EBADF)
