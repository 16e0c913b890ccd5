// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT

package prochandle

// The uapi of /dev/prochandle (uapi/linux/prochandle.h), as Go types.
// Every struct has the kernel's layout: fixed-width fields, naturally
// aligned, the same on 32- and 64-bit.

import (
	"syscall"
	"unsafe"
)

// DevicePath is where the module's misc device lives.
const DevicePath = "/dev/prochandle"

const (
	iocMagic = 0xB9

	acquireStartTime      = 1 << 0
	acquireStartTimeTicks = 1 << 1
	acquireKillOnRelease  = 1 << 2
	acquirePidfd          = 1 << 4

	waitNoHang  = 1 << 0
	waitTimeout = 1 << 1
)

// States of a handle, as INFO reports them.
const (
	StateRunning = 0 // has not exited
	StateExited  = 1 // has exited; not yet waited for through the handle
	StateDone    = 2 // a wait through the handle returned its status
)

// Bits of ExitRecord.Flags (PH_EXIT_F_*).
const (
	ExitValid  = 1 << 0 // the record is filled in
	ExitKiller = 1 << 1 // KillerPid, KillerUid and KillCode are known
	ExitOOM    = 1 << 2 // the OOM killer chose the process
	ExitCore   = 1 << 3 // it dumped core
)

type phAcquire struct {
	Pid       int32
	Flags     uint32
	StartTime uint64
	Handle    uint64
	Reserved  [2]uint64
}

type phSignal struct {
	Handle   uint64
	Sig      int32
	Flags    uint32
	Reserved uint64
}

type phWait struct {
	Handle    uint64
	Flags     uint32
	Status    int32
	TimeoutNs uint64
	Reserved  uint64
}

type phDeadline struct {
	Handle    uint64
	TimeoutNs uint64 // relative; 0 cancels
	Sig       int32  // 0 means SIGKILL
	Flags     uint32
	GraceNs   uint64 // then SIGKILL this much later; 0: no escalation
	Reserved  uint64
}

type phExit struct {
	ExitTime  uint64
	UtimeNs   uint64
	StimeNs   uint64
	MaxrssKB  uint64
	KillerPid int32
	KillerUid uint32
	KillCode  int32
	ExitFlags uint32
}

// phInfo is the v2 INFO argument: v1's 48 bytes, then the exit record.  A
// v1 module accepts it (the record stays zero: ExitValid unset).
type phInfo struct {
	Handle    uint64
	Pid       int32
	State     uint32
	Status    int32
	Pad       uint32
	StartTime uint64
	Reserved  [2]uint64
	Exit      phExit
}

type phEvent struct {
	Handle uint64
	Pid    int32
	Status int32
}

func ioc(dir, nr, size uintptr) uintptr {
	return dir<<30 | size<<16 | iocMagic<<8 | nr
}

const (
	iocWrite = 1
	iocRead  = 2
)

var (
	iocAcquire  = ioc(iocRead|iocWrite, 0x01, unsafe.Sizeof(phAcquire{}))
	iocRelease  = ioc(iocWrite, 0x02, 8)
	iocSignal   = ioc(iocWrite, 0x03, unsafe.Sizeof(phSignal{}))
	iocWait     = ioc(iocRead|iocWrite, 0x04, unsafe.Sizeof(phWait{}))
	iocInfo     = ioc(iocRead|iocWrite, 0x05, unsafe.Sizeof(phInfo{}))
	iocDeadline = ioc(iocWrite, 0x07, unsafe.Sizeof(phDeadline{}))
)

// ioctl on fd; the error is a syscall.Errno or nil.  Blocking commands
// (WAIT) tie up an OS thread, not the Go scheduler (syscall.Syscall).
func ioctl(fd int, cmd uintptr, arg unsafe.Pointer) error {
	for {
		_, _, e := syscall.Syscall(syscall.SYS_IOCTL, uintptr(fd), cmd, uintptr(arg))
		if e == 0 {
			return nil
		}
		if e != syscall.EINTR {
			return e
		}
	}
}
