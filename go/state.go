// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT

package prochandle

import (
	"fmt"
	"syscall"
	"time"
)

// ExitRecord is how a process ended and what it used (the module's v2
// exit record, struct ph_exit), captured when it exited.
type ExitRecord struct {
	ExitTime   uint64        // CLOCK_BOOTTIME ns when the thread group exited
	UserTime   time.Duration // as the parent's wait4() reports ru_utime
	SystemTime time.Duration // ru_stime
	MaxRSS     uint64        // peak resident set size, KiB (ru_maxrss)
	KillerPid  int           // with ExitKiller: who sent the fatal signal (0 if not visible)
	KillerUid  uint32        // with ExitKiller: the sender's uid
	KillCode   int32         // with ExitKiller: the si_code of the fatal signal
	Flags      uint32        // ExitValid, ExitKiller, ExitOOM, ExitCore
}

// KillerKnown reports whether KillerPid, KillerUid and KillCode are known.
func (r *ExitRecord) KillerKnown() bool { return r.Flags&ExitKiller != 0 }

// OOM reports whether the OOM killer chose the process.
func (r *ExitRecord) OOM() bool { return r.Flags&ExitOOM != 0 }

// exitRecord converts the kernel's record; nil when it is not filled in
// (running process, or a module without the v2 record).
func exitRecord(e *phExit) *ExitRecord {
	if e.ExitFlags&ExitValid == 0 {
		return nil
	}
	return &ExitRecord{
		ExitTime:   e.ExitTime,
		UserTime:   time.Duration(e.UtimeNs),
		SystemTime: time.Duration(e.StimeNs),
		MaxRSS:     e.MaxrssKB,
		KillerPid:  int(e.KillerPid),
		KillerUid:  e.KillerUid,
		KillCode:   e.KillCode,
		Flags:      e.ExitFlags,
	}
}

// ProcessState is how a process ended, shaped like os.ProcessState.
type ProcessState struct {
	pid    int
	status syscall.WaitStatus
	// Exit is the exit record, nil if the module does not report one.
	Exit *ExitRecord
}

func (s *ProcessState) setExit(e *phExit) { s.Exit = exitRecord(e) }

// Pid is the process id of the exited process.
func (s *ProcessState) Pid() int { return s.pid }

// Exited reports whether the program exited (rather than being killed).
func (s *ProcessState) Exited() bool { return s.status.Exited() }

// Success reports whether it exited with status 0.
func (s *ProcessState) Success() bool { return s.status.Exited() && s.status.ExitStatus() == 0 }

// ExitCode is the exit code, or -1 if a signal killed it.
func (s *ProcessState) ExitCode() int {
	if !s.status.Exited() {
		return -1
	}
	return s.status.ExitStatus()
}

// Sys is the syscall.WaitStatus, as os.ProcessState.Sys.
func (s *ProcessState) Sys() any { return s.status }

// SysUsage is a *syscall.Rusage with the CPU times and peak RSS of the
// exit record (nil without one), as os.ProcessState.SysUsage.
func (s *ProcessState) SysUsage() any {
	if s.Exit == nil {
		return nil
	}
	return &syscall.Rusage{
		Utime:  syscall.NsecToTimeval(int64(s.Exit.UserTime)),
		Stime:  syscall.NsecToTimeval(int64(s.Exit.SystemTime)),
		Maxrss: int64(s.Exit.MaxRSS),
	}
}

// UserTime is the user CPU time (0 without an exit record).
func (s *ProcessState) UserTime() time.Duration {
	if s.Exit == nil {
		return 0
	}
	return s.Exit.UserTime
}

// SystemTime is the system CPU time (0 without an exit record).
func (s *ProcessState) SystemTime() time.Duration {
	if s.Exit == nil {
		return 0
	}
	return s.Exit.SystemTime
}

// String is "exit status N" or "signal: NAME" (plus " (core dumped)"), as
// os.ProcessState prints it.
func (s *ProcessState) String() string {
	switch {
	case s.status.Exited():
		return fmt.Sprintf("exit status %d", s.status.ExitStatus())
	case s.status.Signaled():
		r := "signal: " + s.status.Signal().String()
		if s.status.CoreDump() {
			r += " (core dumped)"
		}
		return r
	}
	return fmt.Sprintf("status %#x", int(s.status))
}
