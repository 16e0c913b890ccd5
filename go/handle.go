// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT

package prochandle

import (
	"errors"
	"os"
	"sync/atomic"
	"syscall"
	"unsafe"
)

// The handle protocol (os.Process's since Go 1.23, golang/go#67641).
//
// A Process owns one kernel handle id in a table.  Its state word packs a
// status (ok, done, released) in the top two bits and a reference count
// below:
//
//   - the Process itself holds one reference (the persistent one) from
//     creation until Wait succeeds (status done) or Release (released);
//   - every call that uses the handle (Signal, Wait, Info, Pidfd) holds a
//     transient reference for its duration, taken only while the status
//     is ok; a call that finds another status fails at once
//     (os.ErrProcessDone or ErrReleased) and never touches the kernel;
//   - whoever drops the count to zero issues the kernel RELEASE, so the
//     id is released exactly once and only after its last user returned.
//
// Release racing a blocked Wait therefore never releases the id under the
// Wait (the kernel would cope, but the id would be used after release).
// The kernel's own rule for in-flight calls is the same; this keeps the
// Go side from ever naming a released id.
//
// A kill-on-release handle is killed by the kernel RELEASE, which waits
// for the last reference; a Wait in flight holds one until the process
// exits, which the kill is to cause.  So its Release (releaseKilling)
// takes a transient reference, sets the status, and if other references
// remain then, sends SIGKILL through the handle itself (SIGNAL, with the
// program's credentials of now) before dropping its own.  Once the
// status is released no call can take a reference: a count of one is
// ours alone, and our put is the RELEASE that kills.

const (
	statusOK       = 0
	statusDone     = 1 << 62
	statusReleased = 2 << 62
	statusMask     = 3 << 62
	refMask        = 1<<62 - 1
)

// ErrReleased is returned by calls on a Process after Release.
var ErrReleased = errors.New("prochandle: process already released")

// releaseHook, when set (tests), sees every kernel RELEASE and its result.
var releaseHook func(t *table, id uint64, err error)

type handle struct {
	t     *table
	id    uint64
	state atomic.Uint64
}

func newHandle(t *table, id uint64) *handle {
	h := &handle{t: t, id: id}
	h.state.Store(1) // the persistent reference, status ok
	t.get()
	return h
}

// acquire takes a transient reference; it fails once the status is not ok.
func (h *handle) acquire() error {
	for {
		s := h.state.Load()
		switch s & statusMask {
		case statusDone:
			return os.ErrProcessDone
		case statusReleased:
			return ErrReleased
		}
		if s&refMask == refMask {
			panic("prochandle: handle reference count overflow")
		}
		if h.state.CompareAndSwap(s, s+1) {
			return nil
		}
	}
}

// put drops one reference; the last one releases the kernel handle.
func (h *handle) put() {
	s := h.state.Add(^uint64(0))
	if s&refMask != 0 {
		return
	}
	if s&statusMask == statusOK {
		panic("prochandle: last reference dropped with status ok")
	}
	id := h.id
	err := ioctl(h.t.fd, iocRelease, unsafe.Pointer(&id))
	if releaseHook != nil {
		releaseHook(h.t, h.id, err)
	}
	h.t.put()
}

// finish sets @status (done or released) and drops the persistent
// reference, the first time only; it reports whether it did.
func (h *handle) finish(status uint64) bool {
	for {
		s := h.state.Load()
		if s&statusMask != statusOK {
			return false
		}
		if h.state.CompareAndSwap(s, s&^statusMask|status) {
			h.put()
			return true
		}
	}
}

// releaseKilling is finish(statusReleased) for a kill-on-release handle
// (see the protocol above).
func (h *handle) releaseKilling() {
	if h.acquire() != nil {
		return // released or done (exited) already
	}
	if h.finish(statusReleased) && h.state.Load()&refMask > 1 {
		a := phSignal{Handle: h.id, Sig: int32(syscall.SIGKILL)}
		ioctl(h.t.fd, iocSignal, unsafe.Pointer(&a)) // ESRCH: it has exited
	}
	h.put()
}

// errno converts an ioctl error for a call on a live handle.
func errnoOf(err error) syscall.Errno {
	var e syscall.Errno
	if errors.As(err, &e) {
		return e
	}
	return 0
}
