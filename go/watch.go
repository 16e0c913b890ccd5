// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT

package prochandle

import (
	"os"
	"sync"
	"syscall"
	"unsafe"
)

// An Exit is one process's end, as a Watch delivers it.
type Exit struct {
	Process *Process      // as Add returned it
	State   *ProcessState // with the exit record when the module has it
}

// A Watch delivers the exits of the processes added to it on C, in the
// order they happen, from the device's event stream: one read() returns
// many exits, however many processes are watched.  It has its own device
// file (events belong to a file), polled by Go's runtime poller.
type Watch struct {
	C <-chan Exit

	c     chan Exit
	t     *table
	f     *os.File // a dup of t.fd, registered with the poller
	mu    sync.Mutex
	procs map[uint64]*Process
	done  chan struct{}
	ended chan struct{}
}

// NewWatch opens a watch with room for buffer undelivered exits on C
// (the reader blocks when C is full; no exit is lost).
func NewWatch(buffer int) (*Watch, error) {
	t, err := openTable(syscall.O_NONBLOCK)
	if err != nil {
		return nil, err
	}
	dup, err := syscall.Dup(t.fd)
	if err != nil {
		t.put()
		return nil, os.NewSyscallError("dup", err)
	}
	syscall.CloseOnExec(dup)
	c := make(chan Exit, buffer)
	w := &Watch{C: c, c: c, t: t, f: os.NewFile(uintptr(dup), DevicePath),
		procs: map[uint64]*Process{}, done: make(chan struct{}),
		ended: make(chan struct{})}
	go w.run()
	return w, nil
}

func (w *Watch) add(op string, pid int, flags uint32, start uint64) (*Process, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.procs == nil {
		return nil, &Error{Op: op, Pid: pid, Err: os.ErrClosed}
	}
	p, err := newProcess(w.t, op, pid, flags, start)
	if err == nil {
		// Under mu: run() cannot look the handle up before this.
		w.procs[p.h.id] = p
	}
	return p, err
}

// Add watches the process numbered pid now (as Find).
func (w *Watch) Add(pid int) (*Process, error) {
	return w.AddWith(pid, Options{})
}

// AddPinned watches pid only if it started at startTicks (as FindPinned).
func (w *Watch) AddPinned(pid int, startTicks uint64) (*Process, error) {
	return w.AddWith(pid, Options{Pinned: true, StartTicks: startTicks})
}

// AddWith watches pid with the choices of o (as FindWith).  Close
// releases, and so with KillOnRelease kills, those not delivered yet.
func (w *Watch) AddWith(pid int, o Options) (*Process, error) {
	if err := checkPid(pid); err != nil {
		return nil, &Error{Op: "watch", Pid: pid, Err: err}
	}
	f, start := o.flags()
	return w.add("watch", pid, f, start)
}

// AddPidfd watches the process a pidfd refers to (as FromPidfd).
func (w *Watch) AddPidfd(pidfd int) (*Process, error) {
	return w.add("watch pidfd", pidfd, acquirePidfd, 0)
}

func (w *Watch) run() {
	defer close(w.ended)
	var ev [64]phEvent
	buf := unsafe.Slice((*byte)(unsafe.Pointer(&ev[0])), len(ev)*int(unsafe.Sizeof(ev[0])))
	for {
		n, err := w.f.Read(buf)
		if err != nil {
			return // closed (or a broken file): no more exits
		}
		for i := 0; i < n/int(unsafe.Sizeof(ev[0])); i++ {
			w.mu.Lock()
			p := w.procs[ev[i].Handle]
			delete(w.procs, ev[i].Handle)
			w.mu.Unlock()
			if p == nil {
				continue
			}
			st := &ProcessState{pid: p.Pid, status: syscall.WaitStatus(ev[i].Status)}
			if p.h.acquire() == nil {
				if info, err := p.h.t.info(p.h.id); err == nil {
					st.setExit(&info.Exit)
				}
				p.h.put()
			}
			select {
			case w.c <- Exit{Process: p, State: st}:
			case <-w.done:
				return
			}
		}
	}
}

// Close stops the watch, releases every process added to it that has not
// yet been delivered, and closes C.  Delivered Processes stay usable until
// their own Release.
func (w *Watch) Close() error {
	w.mu.Lock()
	if w.procs == nil {
		w.mu.Unlock()
		return nil
	}
	procs := w.procs
	w.procs = nil
	w.mu.Unlock()
	close(w.done)
	err := w.f.Close() // wakes run() from its Read
	<-w.ended
	for _, p := range procs {
		p.Release()
	}
	close(w.c)
	w.t.put()
	return err
}
