# SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
"""What a handle reports: a wait status, the exit record, INFO's fields."""
import os
import signal as _signal
from dataclasses import dataclass
from typing import Optional

from . import _uapi as U

_TICK_NS = 1_000_000_000 // os.sysconf("SC_CLK_TCK")


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
