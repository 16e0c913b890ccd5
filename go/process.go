// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT

// Package prochandle gives Go programs process handles that are immune to
// pid reuse, through the prochandle kernel module (/dev/prochandle).
//
// Its Process is shaped like os.Process, but a Process can wait for any
// process the caller may signal (not only children), and it never signals
// or waits for another process that later got the same number.  All
// Processes made by Find, FindPinned and FromPidfd share one open device
// file: a handle costs no file descriptor.
package prochandle

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"syscall"
	"time"
	"unsafe"
)

// A Process is a handle on one process.
type Process struct {
	Pid   int // in the caller's pid namespace; 0 if not visible there
	start uint64
	h     *handle
	kor   bool // acquired with KillOnRelease
}

// Error describes a failed Find, FindPinned or FromPidfd.  Err is a
// syscall.Errno: ESRCH (no such process, or the start time differs),
// EPERM, EINVAL (a thread, not a process), EBADF (not a pidfd), EMFILE.
type Error struct {
	Op  string
	Pid int
	Err error
}

func (e *Error) Error() string {
	return fmt.Sprintf("prochandle: %s %d: %v", e.Op, e.Pid, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

func newProcess(t *table, op string, pid int, flags uint32, start uint64) (*Process, error) {
	id, err := t.acquire(int32(pid), flags, start)
	if err != nil {
		return nil, &Error{Op: op, Pid: pid, Err: err}
	}
	p := &Process{Pid: pid, h: newHandle(t, id), kor: flags&acquireKillOnRelease != 0}
	i, err := t.info(id)
	if err == nil {
		p.Pid, p.start = int(i.Pid), i.StartTime
	}
	runtime.SetFinalizer(p, (*Process).Release)
	return p, nil
}

func checkPid(pid int) error {
	if pid <= 0 || int(int32(pid)) != pid {
		return syscall.EINVAL
	}
	return nil
}

// Find acquires the process that has the number pid now.  Unlike
// os.FindProcess it fails (ESRCH) when there is none.
func Find(pid int) (*Process, error) {
	return FindWith(pid, Options{})
}

// FindPinned acquires the process numbered pid only if it started at
// startTicks clock ticks after boot (field 22 of /proc/PID/stat, the
// START of a PID@START identity); else ESRCH: the number was reused.
func FindPinned(pid int, startTicks uint64) (*Process, error) {
	return FindWith(pid, Options{Pinned: true, StartTicks: startTicks})
}

// FromPidfd acquires the process a pidfd refers to, with no number
// involved.  The pidfd stays the caller's.
func FromPidfd(pidfd int) (*Process, error) {
	return FromPidfdWith(pidfd, Options{})
}

// Identity is the process's PID@START: its pid and its start time in clock
// ticks since boot, as prochandle(1) prints and accepts it.
func (p *Process) Identity() string {
	return fmt.Sprintf("%d@%d", p.Pid, p.start/uint64(time.Second/clockTick))
}

// clockTick is the unit of /proc/PID/stat times (USER_HZ = 100 on Linux).
const clockTick = 100

// Signal sends sig to the process.  It returns os.ErrProcessDone once the
// process has exited (whatever its number names now), ErrReleased after
// Release.
func (p *Process) Signal(sig os.Signal) error {
	s, ok := sig.(syscall.Signal)
	if !ok {
		return errors.New("prochandle: unsupported signal type")
	}
	if int(s) != int(int32(s)) { // would wrap to another signal
		return os.NewSyscallError("signal", syscall.EINVAL)
	}
	a := phSignal{Handle: p.h.id, Sig: int32(s)}
	return p.control("signal", iocSignal, unsafe.Pointer(&a))
}

// control issues cmd on the handle while it is live (else os.ErrProcessDone
// or ErrReleased); ESRCH, the process has exited, is os.ErrProcessDone.
func (p *Process) control(op string, cmd uintptr, arg unsafe.Pointer) error {
	if err := p.h.acquire(); err != nil {
		return err
	}
	defer p.h.put()
	err := ioctl(p.h.t.fd, cmd, arg)
	if err == syscall.ESRCH {
		return os.ErrProcessDone
	}
	if err != nil {
		return os.NewSyscallError(op, err)
	}
	return nil
}

// Kill sends SIGKILL.
func (p *Process) Kill() error { return p.Signal(syscall.SIGKILL) }

// Wait waits for the process to exit and returns how it ended.  It need
// not be a child and it is not reaped.  Several goroutines may wait at
// once; all get the state.  After Wait the handle is released: later
// calls return os.ErrProcessDone.
func (p *Process) Wait() (*ProcessState, error) {
	if err := p.h.acquire(); err != nil {
		return nil, err
	}
	defer p.h.put()
	w := phWait{Handle: p.h.id}
	// EINTR (Go's own signals, such as preemption) restarts in ioctl().
	if err := ioctl(p.h.t.fd, iocWait, unsafe.Pointer(&w)); err != nil {
		return nil, os.NewSyscallError("wait", err)
	}
	st := &ProcessState{pid: p.Pid, status: syscall.WaitStatus(w.Status)}
	if i, err := p.h.t.info(p.h.id); err == nil {
		st.setExit(&i.Exit)
	}
	p.h.finish(statusDone)
	runtime.SetFinalizer(p, nil)
	return st, nil
}

// Release drops the handle: later calls return ErrReleased, calls in
// flight finish normally.  It never fails; releasing twice, or after
// Wait, does nothing.  A process acquired with KillOnRelease is sent
// SIGKILL before Release returns, if it has not exited: by the kernel
// when the handle goes, or through the handle at once when calls are
// still in flight (a Wait in another goroutine, which then returns).
func (p *Process) Release() error {
	if p.kor {
		p.h.releaseKilling()
	} else {
		p.h.finish(statusReleased)
	}
	runtime.SetFinalizer(p, nil)
	return nil
}

// Info is what a handle knows about its process, without blocking.
type Info struct {
	Pid       int                // 0 if not visible in the caller's pid namespace
	State     int                // StateRunning, StateExited or StateDone
	Status    syscall.WaitStatus // once not running
	StartTime uint64             // ns of CLOCK_BOOTTIME
	Exit      *ExitRecord        // once not running, if the module reports it
}

// Info describes the process.
func (p *Process) Info() (*Info, error) {
	if err := p.h.acquire(); err != nil {
		return nil, err
	}
	defer p.h.put()
	i, err := p.h.t.info(p.h.id)
	if err != nil {
		return nil, os.NewSyscallError("info", err)
	}
	r := &Info{Pid: int(i.Pid), State: int(i.State),
		Status: syscall.WaitStatus(i.Status), StartTime: i.StartTime}
	r.Exit = exitRecord(&i.Exit)
	return r, nil
}

// Pidfd opens a pidfd for the process: never one for another process
// that reused the number (it is opened by number, then the handle must
// still say the process runs: see ph_pidfd() in lib/prochandle.c for why
// that suffices).  ESRCH once the process has exited.  The caller closes it.
func (p *Process) Pidfd() (int, error) {
	if err := p.h.acquire(); err != nil {
		return -1, err
	}
	defer p.h.put()
	i, err := p.h.t.info(p.h.id)
	if err != nil {
		return -1, os.NewSyscallError("info", err)
	}
	if i.State != StateRunning || i.Pid <= 0 {
		return -1, syscall.ESRCH
	}
	r, _, e := syscall.Syscall(sysPidfdOpen, uintptr(i.Pid), 0, 0)
	if e != 0 {
		if e == syscall.EINVAL {
			e = syscall.ESRCH
		}
		return -1, os.NewSyscallError("pidfd_open", e)
	}
	fd := int(r)
	if i, err = p.h.t.info(p.h.id); err != nil || i.State != StateRunning {
		syscall.Close(fd)
		return -1, syscall.ESRCH
	}
	return fd, nil
}

const sysPidfdOpen = 434
