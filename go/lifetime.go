// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT

package prochandle

// Lifetime control (SPEC §11): kill on release and deadlines.

import (
	"math"
	"os"
	"syscall"
	"time"
	"unsafe"
)

// Options are the choices of FindWith, FromPidfdWith and Watch.AddWith.
// The zero Options acquire as Find does.
type Options struct {
	// Pinned: only the process that started at StartTicks (as
	// FindPinned); else ESRCH, the number was reused.  Not with a pidfd
	// (EINVAL).
	Pinned     bool
	StartTicks uint64

	// KillOnRelease: releasing the Process sends SIGKILL to the
	// process's whole thread group if it has not exited by then.  The
	// Process is released by Release, by the garbage collector's
	// finalizer once the Process is unreachable (keep it reachable, for
	// example with runtime.KeepAlive, as long as the process may live),
	// by a Watch's Close for those it has not delivered, and by the
	// program's death (the kernel closes the device file, whatever
	// killed the program).  A Wait that returned has released it
	// already: the process had exited, nothing is sent.  Acquiring
	// needs permission to send SIGKILL (EPERM otherwise); the kill is
	// judged with the program's credentials at acquisition, and skipped
	// if the process has since gained privileges those do not cover (a
	// set-user-ID program).
	KillOnRelease bool
}

func (o Options) flags() (uint32, uint64) {
	var f uint32
	var start uint64
	if o.Pinned {
		f, start = acquireStartTimeTicks, o.StartTicks
	}
	if o.KillOnRelease {
		f |= acquireKillOnRelease
	}
	return f, start
}

// FindWith acquires the process numbered pid as Find does, with the
// choices of o: pinned to a start time, killed on release.
func FindWith(pid int, o Options) (*Process, error) {
	if err := checkPid(pid); err != nil {
		return nil, &Error{Op: "find", Pid: pid, Err: err}
	}
	t, err := sharedTable()
	if err != nil {
		return nil, err
	}
	f, start := o.flags()
	return newProcess(t, "find", pid, f, start)
}

// FromPidfdWith acquires the process a pidfd refers to as FromPidfd
// does, with the choices of o (Pinned is refused: EINVAL).
func FromPidfdWith(pidfd int, o Options) (*Process, error) {
	t, err := sharedTable()
	if err != nil {
		return nil, err
	}
	if pidfd < 0 {
		return nil, &Error{Op: "from pidfd", Pid: pidfd, Err: syscall.EBADF}
	}
	f, start := o.flags()
	return newProcess(t, "from pidfd", pidfd, f|acquirePidfd, start)
}

// SetDeadline arms the Process's deadline, replacing any armed one:
// timeout from now, if the process still runs, the kernel sends it sig
// (0 means SIGKILL); if grace is not 0 and it still runs grace later,
// SIGKILL.  A timeout of 0 or less fires at once.  The kernel keeps the
// deadline (no goroutine, no timer in this program) and judges it with
// the program's credentials of now.  Release cancels it (a KillOnRelease
// process is then killed anyway); so does Wait, which releases.
//
// Errors: os.ErrProcessDone once the process has exited (ESRCH),
// ErrReleased after Release; else an *os.SyscallError: EINVAL for a bad
// signal or a negative grace, EPERM if the program may not send sig or
// SIGKILL to the process.
func (p *Process) SetDeadline(timeout time.Duration, sig syscall.Signal, grace time.Duration) error {
	if sig < 0 || sig > math.MaxInt32 || grace < 0 {
		return os.NewSyscallError("deadline", syscall.EINVAL)
	}
	if timeout <= 0 {
		timeout = 1 // 0 would cancel
	}
	return p.deadline(phDeadline{TimeoutNs: uint64(timeout), Sig: int32(sig),
		GraceNs: uint64(grace)})
}

// CancelDeadline disarms the Process's deadline; nothing happens if none
// is armed or it has fired.  Errors as SetDeadline's.
func (p *Process) CancelDeadline() error {
	return p.deadline(phDeadline{})
}

func (p *Process) deadline(d phDeadline) error {
	d.Handle = p.h.id
	return p.control("deadline", iocDeadline, unsafe.Pointer(&d))
}
