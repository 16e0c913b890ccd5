# SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
"""Process handles immune to pid reuse, through /dev/prochandle.

A Table is one open file of the device; a Handle pins one process in it:
signals and waits through the handle never reach another process that
later got the same number, and the process need not be a child.

    with prochandle.Table() as t:
        h = t.acquire(pid)            # or t.acquire(pid, start_ticks=...)
        print(h.identity, h.wait())   # Status(exit_code=0, ...)

    async for event in table.events():  # exits, through asyncio's loop
        ...

Errors are OSError subclasses with the kernel's errno: ProcessLookupError
(ESRCH), PermissionError (EPERM), OSError(EBADF) for a released handle,
TimeoutError for a wait that timed out.
"""
import asyncio
import errno
import fcntl
import os
import signal as _signal
import time
from dataclasses import dataclass
from typing import AsyncIterator, Dict, List, Optional

from . import _uapi as U
from ._status import ExitRecord, Info, Status

__all__ = ["Table", "Handle", "Status", "Info", "Event", "ExitRecord",
           "wait", "signal", "info", "start_ticks", "DEVICE",
           "STATE_RUNNING", "STATE_EXITED", "STATE_DONE"]

DEVICE = U.DEVICE
STATE_RUNNING, STATE_EXITED, STATE_DONE = U.STATE_RUNNING, U.STATE_EXITED, U.STATE_DONE


def _oserror(err: int, what: str) -> OSError:
    return OSError(err, f"{what}: {os.strerror(err)}")


def _ioctl(fd: int, cmd: int, buf: bytearray) -> None:
    """ioctl on a mutable buffer; EINTR (a signal handler ran) retries."""
    while True:
        try:
            fcntl.ioctl(fd, cmd, buf, True)
            return
        except InterruptedError:
            continue


def _ns(seconds: float) -> int:
    """Seconds as the kernel's u64 nanoseconds (at most ~584 years)."""
    if seconds != seconds:
        raise ValueError("timeout is NaN")
    return min(max(int(min(seconds, 1e12) * 1e9), 0), 2**64 - 1)


def start_ticks(pid: int) -> int:
    """Field 22 of /proc/PID/stat: the START of a PID@START identity."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            line = f.read()
    except FileNotFoundError:
        raise ProcessLookupError(errno.ESRCH, f"{pid}: no such process") from None
    return int(line[line.rindex(b")") + 2:].split()[19])


@dataclass(frozen=True)
class Event:
    """One exit from a table's event stream."""
    handle: "Handle"
    pid: int
    status: Status


class Handle:
    """One process, pinned.  Use as a context manager to release it."""

    def __init__(self, table: "Table", hid: int, pid: int):
        self.table, self.id, self.pid = table, hid, pid

    def __repr__(self) -> str:
        return f"<prochandle.Handle {self.id} pid {self.pid}>"

    def __enter__(self) -> "Handle":
        return self

    def __exit__(self, *exc) -> None:
        try:
            self.release()
        except OSError as e:
            if e.errno != errno.EBADF:
                raise

    @property
    def identity(self) -> str:
        return self.info().identity

    def info(self) -> Info:
        return self.table._info(self.id)

    def signal(self, sig: int = _signal.SIGTERM) -> None:
        """Send sig; ProcessLookupError once the process has exited."""
        buf = bytearray(U.SIGNAL.pack(self.id, int(sig), 0, 0))
        _ioctl(self.table.fileno(), U.IOC_SIGNAL, buf)

    def kill(self) -> None:
        self.signal(_signal.SIGKILL)

    def deadline(self, timeout: float, sig: Optional[int] = None,
                 grace: Optional[float] = None) -> None:
        """Arm the handle's deadline, replacing any armed one.

        timeout seconds from now, if the process still runs, the kernel
        sends it sig (None or 0: SIGKILL); with grace, SIGKILL grace
        seconds later if it still runs.  A timeout of 0 or less fires at
        once.  The kernel keeps the deadline (no thread, no timer here) and
        judges it with the caller's credentials of now; releasing the
        handle, or closing the table, cancels it.

        ProcessLookupError once the process has exited, PermissionError
        (EPERM) if the caller may not send it sig or SIGKILL, OSError
        EINVAL for a bad signal, EBADF for a released handle; ValueError
        for a negative grace."""
        if grace is not None and grace < 0:
            raise ValueError("grace must not be negative")
        ns = max(1, _ns(timeout))       # 0 would cancel
        self._deadline(ns, int(sig or 0), _ns(grace or 0))

    def cancel_deadline(self) -> None:
        """Disarm the handle's deadline (nothing if none is armed or it has
        fired); OSError EBADF for a released handle."""
        self._deadline(0, 0, 0)

    def _deadline(self, timeout_ns: int, sig: int, grace_ns: int) -> None:
        buf = bytearray(U.DEADLINE.pack(self.id, timeout_ns, sig, 0, grace_ns, 0))
        _ioctl(self.table.fileno(), U.IOC_DEADLINE, buf)

    def wait(self, timeout: Optional[float] = None) -> Status:
        """Wait until the process has exited (child or not; not reaped).

        TimeoutError if timeout seconds pass first.  Interrupted by a
        signal whose handler returns, it goes on with the time left."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            flags, left = 0, 0
            if deadline is not None:
                flags = U.WAIT_TIMEOUT
                left = max(0, int((deadline - time.monotonic()) * 1e9))
            buf = bytearray(U.WAIT.pack(self.id, flags, 0, left, 0))
            try:
                fcntl.ioctl(self.table.fileno(), U.IOC_WAIT, buf, True)
            except InterruptedError:
                continue
            except OSError as e:
                if e.errno == errno.ETIMEDOUT:
                    raise TimeoutError(errno.ETIMEDOUT, "still running") from None
                raise
            return self._status(U.WAIT.unpack(buf)[2])

    def wait_nohang(self) -> Optional[Status]:
        """The status if the process has exited, else None; never blocks."""
        buf = bytearray(U.WAIT.pack(self.id, U.WAIT_NOHANG, 0, 0, 0))
        try:
            _ioctl(self.table.fileno(), U.IOC_WAIT, buf)
        except BlockingIOError:
            return None
        return self._status(U.WAIT.unpack(buf)[2])

    def _status(self, raw: int) -> Status:
        try:
            return self.info().status or Status(raw)
        except OSError:     # released meanwhile: no record to add
            return Status(raw)

    def release(self) -> None:
        """Drop the handle; OSError(EBADF) if already released.  A handle
        acquired with kill_on_release has killed its process (if it still
        ran) when this returns."""
        self.table._release(self.id)

    def pidfd(self) -> int:
        """A pidfd for the process, never for one that reused its number.

        Opened by number, then kept only if the handle still reports the
        process running: it held the number all along (see ph_pidfd() in
        libprochandle).  ProcessLookupError once it has exited."""
        i = self.info()
        if i.state != STATE_RUNNING or i.pid <= 0:
            raise ProcessLookupError(errno.ESRCH, "process has exited")
        try:
            fd = os.pidfd_open(i.pid)
        except OSError as e:
            if e.errno in (errno.ESRCH, errno.EINVAL):
                raise ProcessLookupError(errno.ESRCH, "process has exited") from None
            raise
        if self.info().state != STATE_RUNNING:
            os.close(fd)
            raise ProcessLookupError(errno.ESRCH, "process has exited")
        return fd


class Table:
    """An open /dev/prochandle: a table of handles and their exit events."""

    def __init__(self, path: str = DEVICE, readonly: bool = False):
        flags = (os.O_RDONLY if readonly else os.O_RDWR) | os.O_CLOEXEC
        try:
            self._fd = os.open(path, flags)
        except (FileNotFoundError, OSError) as e:
            if isinstance(e, FileNotFoundError) or e.errno in (errno.ENXIO, errno.ENODEV):
                raise FileNotFoundError(
                    errno.ENOENT, "module not loaded: run 'modprobe prochandle'",
                    path) from None
            raise
        self._handles: Dict[int, Handle] = {}

    def fileno(self) -> int:
        if self._fd < 0:
            raise ValueError("table is closed")
        return self._fd

    def close(self) -> None:
        """Close the file: every handle in it is released (kill_on_release
        ones kill), unless a child forked since has the file open too."""
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
            self._handles.clear()

    def __enter__(self) -> "Table":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _acquire(self, pid: int, flags: int, start: int) -> Handle:
        buf = bytearray(U.ACQUIRE.pack(pid, flags, start, 0, 0, 0))
        _ioctl(self.fileno(), U.IOC_ACQUIRE, buf)
        hid = U.ACQUIRE.unpack(buf)[3]
        h = Handle(self, hid, pid)
        self._handles[hid] = h
        return h

    def acquire(self, pid: int, start_ticks: Optional[int] = None,
                start_ns: Optional[int] = None, *,
                kill_on_release: bool = False) -> Handle:
        """A handle on the process numbered pid now; with start_ticks (or
        start_ns), only if it started then (else ProcessLookupError: the
        number was reused).

        With kill_on_release, releasing the handle sends SIGKILL to the
        process (its whole thread group) if it has not exited by then:
        release(), close() of the table, or the death of every process
        that has the table's file open (this one and children that
        inherited it by fork), however they died.  Acquiring needs
        permission to send SIGKILL (PermissionError); the kill is judged
        with the caller's credentials of now, and skipped if the process
        has since gained privileges they do not cover (set-user-ID)."""
        flags = U.ACQUIRE_KILL_ON_RELEASE if kill_on_release else 0
        if start_ticks is not None and start_ns is not None:
            raise ValueError("start_ticks or start_ns, not both")
        if start_ticks is not None:
            return self._acquire(pid, flags | U.ACQUIRE_STARTTIME_TICKS, start_ticks)
        if start_ns is not None:
            return self._acquire(pid, flags | U.ACQUIRE_STARTTIME, start_ns)
        return self._acquire(pid, flags, 0)

    def acquire_identity(self, identity: str, *,
                         kill_on_release: bool = False) -> Handle:
        """A handle from "PID" or "PID@START" (prochandle(1)'s identities)."""
        pid, sep, start = identity.partition("@")
        return self.acquire(int(pid), int(start) if sep else None,
                            kill_on_release=kill_on_release)

    def acquire_pidfd(self, pidfd: int, *, kill_on_release: bool = False) -> Handle:
        """A handle on the process a pidfd refers to (no number involved)."""
        flags = U.ACQUIRE_KILL_ON_RELEASE if kill_on_release else 0
        h = self._acquire(pidfd, flags | U.ACQUIRE_PIDFD, 0)
        h.pid = self._info(h.id).pid
        return h

    def _info(self, hid: int) -> Info:
        buf = bytearray(U.INFO.size)
        U.U64.pack_into(buf, 0, hid)
        _ioctl(self.fileno(), U.IOC_INFO, buf)
        f = U.INFO.unpack(buf)
        _, pid, state, status, _, start = f[:6]
        st = None if state == STATE_RUNNING else Status(status, ExitRecord._from(f[8:]))
        return Info(pid, state, st, start)

    def _release(self, hid: int) -> None:
        _ioctl(self.fileno(), U.IOC_RELEASE, bytearray(U.U64.pack(hid)))
        self._handles.pop(hid, None)

    def _events(self, raw: bytes) -> List[Event]:
        out = []
        for hid, pid, status in U.EVENT.iter_unpack(raw):
            h = self._handles.get(hid) or Handle(self, hid, pid)
            out.append(Event(h, pid, Status(status)))
        return out

    def read_events(self, max_events: int = 64) -> List[Event]:
        """Queued exits (blocks while none, unless the fd is non-blocking:
        then [])."""
        try:
            return self._events(os.read(self.fileno(), max_events * U.EVENT.size))
        except BlockingIOError:
            return []

    async def events(self, max_events: int = 64) -> AsyncIterator[Event]:
        """Every exit of this table's processes, as they happen, through
        the running asyncio loop (the fd is watched with add_reader; it is
        made non-blocking)."""
        loop = asyncio.get_running_loop()
        fd = self.fileno()
        os.set_blocking(fd, False)
        while True:
            batch = self.read_events(max_events)
            if batch:
                for ev in batch:
                    yield ev
                continue
            ready = loop.create_future()
            loop.add_reader(fd, lambda: ready.done() or ready.set_result(None))
            try:
                await ready
            finally:
                loop.remove_reader(fd)


_default: Optional[Table] = None


def _table() -> Table:
    global _default
    if _default is None:
        _default = Table()
    return _default


def _target(pid) -> Handle:
    t = _table()
    return t.acquire_identity(pid) if isinstance(pid, str) else t.acquire(pid)


def wait(pid, timeout: Optional[float] = None) -> Status:
    """Wait for a process (a pid, or "PID@START") to exit; it need not be a
    child."""
    with _target(pid) as h:
        return h.wait(timeout)


def signal(pid, sig: int = _signal.SIGTERM) -> None:
    """Send sig to a process (a pid, or "PID@START")."""
    with _target(pid) as h:
        h.signal(sig)


def info(pid) -> Info:
    """Describe a process (a pid, or "PID@START")."""
    with _target(pid) as h:
        return h.info()
