# SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
"""Tests of the prochandle Python package against the real module."""
import asyncio
import errno
import os
import re
import select
import signal
import threading
import time
import unittest

import prochandle

HERE = os.path.dirname(os.path.abspath(__file__))


class Kid:
    """A child blocked until told to exit (exit(code)).  With catch, a
    signal number, it reports each such signal as b"s" (report()), after
    b"r" once the handler is in place."""

    def __init__(self, catch=None):
        r, w = os.pipe()
        rep, rep_w = os.pipe() if catch else (-1, -1)
        self.pid = os.fork()
        if self.pid == 0:
            code = 0
            try:
                os.close(w)
                if catch:
                    signal.signal(catch, lambda *_: os.write(rep_w, b"s"))
                    os.write(rep_w, b"r")
                c = os.read(r, 1)
                code = c[0] if c else 0
            finally:
                os._exit(code)
        os.close(r)
        self.ctl, self.rep = w, rep
        self.reaped = False
        if catch:
            os.close(rep_w)
            if self.report() != b"r":
                raise RuntimeError("the kid did not start")

    def report(self, timeout=60):
        """The kid's next report byte; b"" once it has exited."""
        if not select.select([self.rep], [], [], timeout)[0]:
            raise TimeoutError(f"no report from {self.pid} in {timeout} s")
        return os.read(self.rep, 1)

    def exit(self, code=0):
        os.write(self.ctl, bytes([code]))

    def reap(self):
        if not self.reaped:
            self.reaped = True
            return os.waitpid(self.pid, 0)[1]
        return None

    def cleanup(self):
        if not self.reaped:
            try:
                os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.reap()
        os.close(self.ctl)
        if self.rep >= 0:
            os.close(self.rep)


def ticks_of(pid):
    with open(f"/proc/{pid}/stat", "rb") as f:
        line = f.read()
    return int(line[line.rindex(b")") + 2:].split()[19])


def until_in_ioctl(thread, tid):
    """Bounded wait until @thread is blocked in ioctl(2) (x86-64 nr 16)."""
    for _ in range(5000):
        if tid:
            try:
                with open(f"/proc/self/task/{tid[0]}/syscall") as f:
                    if f.read().split()[0] == "16":
                        return
            except OSError:
                return
        if not thread.is_alive():
            return
        time.sleep(0.001)


def counter(name):
    with open(f"/sys/class/misc/prochandle/{name}") as f:
        return int(f.read())


class Base(unittest.TestCase):
    def setUp(self):
        self.table = prochandle.Table()
        self.addCleanup(self.table.close)

    def kid(self, catch=None):
        k = Kid(catch)
        self.addCleanup(k.cleanup)
        return k


class TestHandle(Base):
    def test_wait_exit_code(self):
        k = self.kid()
        h = self.table.acquire(k.pid)
        self.assertEqual(h.pid, k.pid)
        i = h.info()
        self.assertEqual((i.pid, i.state, i.status), (k.pid, prochandle.STATE_RUNNING, None))
        self.assertEqual(i.identity, f"{k.pid}@{ticks_of(k.pid)}")
        self.assertIsNone(h.wait_nohang())
        h.signal(0)
        k.exit(7)
        st = h.wait()
        self.assertTrue(st.exited)
        self.assertEqual((st.exit_code, st.returncode, str(st)), (7, 7, "exited 7"))
        self.assertEqual(h.info().state, prochandle.STATE_DONE)
        self.assertEqual(h.wait().exit_code, 7)        # again, at once
        with self.assertRaises(ProcessLookupError):
            h.signal(signal.SIGTERM)
        if st.exit is not None:
            self.assertGreater(st.exit.exit_time_ns, i.start_time_ns)
        h.release()

    def test_kill_and_status(self):
        k = self.kid()
        h = self.table.acquire(k.pid)
        h.kill()
        st = h.wait(timeout=60)
        self.assertEqual((st.signaled, st.signal, st.returncode), (True, signal.SIGKILL, -9))
        self.assertEqual(str(st), "killed by SIGKILL")

    def test_wait_in_thread(self):
        # A blocking wait releases the GIL: other threads run meanwhile.
        k = self.kid()
        h = self.table.acquire(k.pid)
        got, tid = [], []

        def waiter():
            tid.append(threading.get_native_id())
            got.append(h.wait())

        t = threading.Thread(target=waiter)
        t.start()
        until_in_ioctl(t, tid)
        k.exit(4)
        t.join(60)
        self.assertEqual([s.exit_code for s in got], [4])

    def test_wait_timeout(self):
        k = self.kid()
        h = self.table.acquire(k.pid)
        t0 = time.monotonic()
        with self.assertRaises(TimeoutError):
            h.wait(timeout=0.2)
        self.assertGreaterEqual(time.monotonic() - t0, 0.19)
        k.exit(0)
        self.assertEqual(h.wait(timeout=60).exit_code, 0)

    def test_wait_nonchild(self):
        r, w = os.pipe()
        rp, wp = os.pipe()
        mid = os.fork()
        if mid == 0:
            g = os.fork()
            if g == 0:
                os.close(w)
                c = os.read(r, 1)
                os._exit(c[0] if c else 0)
            os.write(wp, g.to_bytes(4, "little"))
            os._exit(0)
        os.close(r)
        os.close(wp)
        gpid = int.from_bytes(os.read(rp, 4), "little")
        os.close(rp)
        os.waitpid(mid, 0)
        h = self.table.acquire(gpid)
        os.write(w, b"\x2a")
        os.close(w)
        self.assertEqual(h.wait(timeout=60).exit_code, 42)

    def test_signal_after_exit(self):
        k = self.kid()
        h = self.table.acquire(k.pid)
        k.exit(0)
        k.reap()
        with self.assertRaises(ProcessLookupError):
            h.signal(signal.SIGTERM)
        self.assertEqual(h.info().state, prochandle.STATE_EXITED)
        self.assertEqual(h.wait_nohang().exit_code, 0)

    def test_release(self):
        k = self.kid()
        h = self.table.acquire(k.pid)
        h.release()
        for call in (h.release, h.info, h.wait, lambda: h.signal(0)):
            with self.assertRaises(OSError) as cm:
                call()
            self.assertEqual(cm.exception.errno, errno.EBADF)
        with self.table.acquire(k.pid) as h2:
            h2.signal(0)
        with self.assertRaises(OSError):
            h2.info()

    def test_acquire_errors(self):
        with self.assertRaises(ProcessLookupError):
            self.table.acquire(2147483647)
        with self.assertRaises(OSError) as cm:
            self.table.acquire(0)
        self.assertEqual(cm.exception.errno, errno.EINVAL)
        k = self.kid()
        ticks = ticks_of(k.pid)
        with self.assertRaises(ProcessLookupError):
            self.table.acquire(k.pid, start_ticks=ticks + 1)
        with self.assertRaises(ProcessLookupError):
            self.table.acquire_identity(f"{k.pid}@{ticks + 1}")
        h = self.table.acquire_identity(f"{k.pid}@{ticks}")
        self.assertEqual(h.info().start_ticks, ticks)
        ns = h.info().start_time_ns
        self.table.acquire(k.pid, start_ns=ns).release()
        with self.assertRaises(ProcessLookupError):
            self.table.acquire(k.pid, start_ns=ns + 1)

    def test_pidfd(self):
        k = self.kid()
        h = self.table.acquire(k.pid)
        fd = h.pidfd()
        try:
            with open(f"/proc/self/fdinfo/{fd}") as f:
                self.assertIn(f"Pid:\t{k.pid}\n", f.read())
        finally:
            os.close(fd)
        k.exit(0)
        h.wait()
        with self.assertRaises(ProcessLookupError):
            h.pidfd()

    def test_acquire_pidfd(self):
        k = self.kid()
        fd = os.pidfd_open(k.pid)
        self.addCleanup(os.close, fd)
        h = self.table.acquire_pidfd(fd)
        self.assertEqual(h.pid, k.pid)
        k.exit(5)
        self.assertEqual(h.wait(timeout=60).exit_code, 5)
        with open("/dev/null") as f, self.assertRaises(OSError) as cm:
            self.table.acquire_pidfd(f.fileno())
        self.assertEqual(cm.exception.errno, errno.EBADF)

    def test_close_releases_all(self):
        k = self.kid()      # first: a child forked later shares the file
        base = counter("handles")
        t = prochandle.Table()
        for _ in range(10):
            t.acquire(k.pid)
        self.assertEqual(counter("handles"), base + 10)
        t.close()
        self.assertEqual(counter("handles"), base)


class TestModuleFunctions(unittest.TestCase):
    def test_wait_signal_info(self):
        k = Kid()
        self.addCleanup(k.cleanup)
        ident = prochandle.info(k.pid).identity
        self.assertEqual(prochandle.info(ident).pid, k.pid)
        prochandle.signal(ident, 0)
        t = threading.Thread(target=lambda: k.exit(3))
        t.start()
        self.assertEqual(prochandle.wait(ident, timeout=60).exit_code, 3)
        t.join()
        k.reap()
        with self.assertRaises(ProcessLookupError):
            prochandle.info(ident)


class TestEvents(Base):
    def test_events_in_exit_order(self):
        kids = [self.kid() for _ in range(3)]
        handles = {self.table.acquire(k.pid).id: k for k in kids}

        async def main():
            seen = []
            order = [1, 2, 0]
            kids[order[0]].exit(10)
            async for ev in self.table.events():
                seen.append((ev.pid, ev.status.exit_code, ev.handle.id in handles))
                if len(seen) == 3:
                    break
                kids[order[len(seen)]].exit(10 + len(seen))
            return seen

        seen = asyncio.run(asyncio.wait_for(main(), 60))
        self.assertEqual(seen, [(kids[1].pid, 10, True), (kids[2].pid, 11, True),
                                (kids[0].pid, 12, True)])
        self.assertEqual(self.table.read_events(), [])

    def test_events_many_with_other_tasks(self):
        # events() must wait for the table without blocking the loop: the
        # collector starts on an empty queue, and the kids exit only after
        # another task has run.  A blocking read would hold the loop (the
        # timer thread then ends the kids) and see its first event with
        # ticks still 0.  (Exiting the kids before collecting let all 30
        # events be queued already, so a correct events() never had to
        # wait and the test failed at random.)
        kids = [self.kid() for _ in range(30)]
        for k in kids:
            self.table.acquire(k.pid)
        gone = threading.Event()

        def end_kids():
            if not gone.is_set():
                gone.set()
                for k in kids:
                    k.exit(0)

        async def main():
            ticks = 0

            async def other():
                nonlocal ticks
                while True:
                    ticks += 1
                    if ticks == 3:
                        end_kids()
                    await asyncio.sleep(0)

            task = asyncio.create_task(other())
            first = None
            pids = set()
            async for ev in self.table.events():
                if first is None:
                    first = ticks
                pids.add(ev.pid)
                if len(pids) == len(kids):
                    break
            task.cancel()
            return pids, first

        fallback = threading.Timer(10, end_kids)
        fallback.start()
        try:
            pids, first = asyncio.run(asyncio.wait_for(main(), 60))
        finally:
            fallback.cancel()
        self.assertEqual(pids, {k.pid for k in kids})
        self.assertGreaterEqual(first, 3)   # the loop ran while it waited


class TestReadme(unittest.TestCase):
    def test_readme_example(self):
        # The repository's top-level README (staged beside src/ in a guest).
        for path in (os.path.join(HERE, "..", "..", "README.md"),
                     os.path.join(HERE, "..", "README.md")):
            if os.path.exists(path):
                break
        with open(path) as f:
            m = re.search(r"^```python\n(.*?)^```$", f.read(), re.M | re.S)
        self.assertIsNotNone(m, "README.md has no python example")
        k = Kid()
        self.addCleanup(k.cleanup)
        out = []

        def show(*args):
            out.append(" ".join(map(str, args)))
            if out[-1].startswith("waiting for"):   # it holds the handle
                k.exit(3)

        exec(compile(m.group(1), "README.md", "exec"), {"pid": k.pid, "print": show})
        self.assertEqual(out, [f"waiting for {k.pid}@{ticks_of(k.pid)}",
                               f"{k.pid}: exited 3"])
