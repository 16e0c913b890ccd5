# SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
"""The uapi of /dev/prochandle (uapi/linux/prochandle.h) as struct formats."""
import struct

DEVICE = "/dev/prochandle"
MAGIC = 0xB9

ACQUIRE_STARTTIME = 1 << 0
ACQUIRE_STARTTIME_TICKS = 1 << 1
ACQUIRE_KILL_ON_RELEASE = 1 << 2
ACQUIRE_PIDFD = 1 << 4

WAIT_NOHANG = 1 << 0
WAIT_TIMEOUT = 1 << 1

STATE_RUNNING = 0
STATE_EXITED = 1
STATE_DONE = 2

EXIT_F_VALID = 1 << 0
EXIT_F_KILLER = 1 << 1
EXIT_F_OOM = 1 << 2
EXIT_F_CORE = 1 << 3

# Native byte order, no implicit padding ("=" sizes), as the kernel's
# fixed-width, naturally aligned structs.
ACQUIRE = struct.Struct("=iIQQ2Q")       # pid flags start_time handle reserved[2]
SIGNAL = struct.Struct("=QiIQ")          # handle sig flags reserved
WAIT = struct.Struct("=QIiQQ")           # handle flags status timeout_ns reserved
EXIT = struct.Struct("=QQQQiIiI")        # struct ph_exit
INFO_V1 = struct.Struct("=QiIiIQ2Q")     # handle pid state status pad start_time reserved[2]
INFO = struct.Struct("=QiIiIQ2Q" + "QQQQiIiI")  # v2: ... then struct ph_exit
EVENT = struct.Struct("=Qii")
DEADLINE = struct.Struct("=QQiIQQ")      # handle timeout_ns sig flags grace_ns reserved
U64 = struct.Struct("=Q")


def _ioc(direction, nr, size):
    return (direction << 30) | (size << 16) | (MAGIC << 8) | nr


_W, _R = 1, 2
IOC_ACQUIRE = _ioc(_R | _W, 0x01, ACQUIRE.size)
IOC_RELEASE = _ioc(_W, 0x02, U64.size)
IOC_SIGNAL = _ioc(_W, 0x03, SIGNAL.size)
IOC_WAIT = _ioc(_R | _W, 0x04, WAIT.size)
IOC_INFO = _ioc(_R | _W, 0x05, INFO.size)
IOC_DEADLINE = _ioc(_W, 0x07, DEADLINE.size)

assert (ACQUIRE.size, SIGNAL.size, WAIT.size, INFO_V1.size, INFO.size,
        EVENT.size, DEADLINE.size) == (40, 24, 32, 48, 96, 16, 40)
