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

__all__ = ["Table", "Handle", "Status", "Info", "Event", "ExitRecord",
           "wait", "signal", "info", "start_ticks", "DEVICE",
           "STATE_RUNNING", "STATE_EXITED", "STATE_DONE"]

DEVICE = U.DEVICE
STATE_RUNNING, STATE_EXITED, STATE_DONE = U.STATE_RUNNING, U.STATE_EXITED, U.STATE_DONE
_TICK_NS = 1_000_000_000 // os.sysconf("SC_CLK_TCK")


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


def start_ticks(pid: int) -> int:
    """Field 22 of /proc/PID/stat: the START of a PID@START identity."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            line = f.read()
    except FileNotFoundError:
        raise ProcessLookupError(errno.ESRCH, f"{pid}: no such process") from None
    return int(line[line.rindex(b")") + 2:].split()[19])


@dataclass(frozen=True)
class ExitRecord:
    """How a process ended and what it used (the module's v2 record)."""
    exit_time_ns: int       # CLOCK_BOOTTIME ns when the thread group exited
    utime_ns: int           # user CPU time, as the parent's wait4() ru_utime
    stime_ns: int           # system CPU time (ru_stime)
    maxrss_kb: int          # peak RSS, KiB (ru_maxrss)
    killer_pid: int         # with killer_known: who sent the fatal signal
    killer_uid: int
    kill_code: int          # si_code of the fatal signal
    flags: int

    @property
    def killer_known(self) -> bool:
        return bool(self.flags & U.EXIT_F_KILLER)

    @property
    def oom(self) -> bool:
        return bool(self.flags & U.EXIT_F_OOM)

    @classmethod
    def _from(cls, fields) -> Optional["ExitRecord"]:
        return cls(*fields) if fields[7] & U.EXIT_F_VALID else None


@dataclass(frozen=True)
class Status:
    """A wait(2) status, decoded."""
    raw: int
    exit: Optional[ExitRecord] = None

    @property
    def exited(self) -> bool:
        return os.WIFEXITED(self.raw)

    @property
    def exit_code(self) -> Optional[int]:
        return os.WEXITSTATUS(self.raw) if os.WIFEXITED(self.raw) else None

    @property
    def signaled(self) -> bool:
        return os.WIFSIGNALED(self.raw)

    @property
    def signal(self) -> Optional[int]:
        return os.WTERMSIG(self.raw) if os.WIFSIGNALED(self.raw) else None

    @property
    def core_dumped(self) -> bool:
        return os.WIFSIGNALED(self.raw) and os.WCOREDUMP(self.raw)

    @property
    def returncode(self) -> int:
        """As subprocess: the exit code, or -N when signal N killed it."""
        return self.exit_code if self.exited else -(self.signal or 0)

    def __str__(self) -> str:
        if self.exited:
            return f"exited {self.exit_code}"
        if self.signaled:
            core = " (core dumped)" if self.core_dumped else ""
            return f"killed by {_signal.Signals(self.signal).name}{core}"
        return f"status {self.raw:#x}"


@dataclass(frozen=True)
class Info:
    pid: int                # in our pid namespace; 0 if not visible
    state: int              # STATE_RUNNING, STATE_EXITED or STATE_DONE
    status: Optional[Status]  # None while running
    start_time_ns: int      # CLOCK_BOOTTIME ns

    @property
    def start_ticks(self) -> int:
        return self.start_time_ns // _TICK_NS

    @property
    def identity(self) -> str:
        """PID@START, as prochandle(1) prints and accepts it."""
        return f"{self.pid}@{self.start_ticks}"


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
        """Drop the handle; OSError(EBADF) if already released."""
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
        """Close the file: every handle in it is released."""
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
                start_ns: Optional[int] = None) -> Handle:
        """A handle on the process numbered pid now; with start_ticks (or
        start_ns), only if it started then (else ProcessLookupError: the
        number was reused)."""
        if start_ticks is not None and start_ns is not None:
            raise ValueError("start_ticks or start_ns, not both")
        if start_ticks is not None:
            return self._acquire(pid, U.ACQUIRE_STARTTIME_TICKS, start_ticks)
        if start_ns is not None:
            return self._acquire(pid, U.ACQUIRE_STARTTIME, start_ns)
        return self._acquire(pid, 0, 0)

    def acquire_identity(self, identity: str) -> Handle:
        """A handle from "PID" or "PID@START" (prochandle(1)'s identities)."""
        pid, sep, start = identity.partition("@")
        return self.acquire(int(pid), int(start) if sep else None)

    def acquire_pidfd(self, pidfd: int) -> Handle:
        """A handle on the process a pidfd refers to (no number involved)."""
        h = self._acquire(pidfd, U.ACQUIRE_PIDFD, 0)
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
