// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT

package prochandle

import (
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"unsafe"
)

// A table is one open file of /dev/prochandle.  Its fd stays open while
// anything may still use it: the owner (the shared table's owner is the
// package, forever; a Watch's is the Watch until Close) and every handle
// in it hold a reference, and the last one closes the fd.  So an fd
// number is never closed under a call, nor reused by another file while
// a Process could still name it.
type table struct {
	fd   int
	refs atomic.Int64
}

var shared struct {
	once sync.Once
	t    *table
	err  error
}

// sharedTable is the one device file that Find, FindPinned and FromPidfd
// use: handles cost no file descriptor each.
func sharedTable() (*table, error) {
	shared.once.Do(func() {
		shared.t, shared.err = openTable(0)
	})
	return shared.t, shared.err
}

func openTable(flags int) (*table, error) {
	fd, err := syscall.Open(DevicePath, syscall.O_RDWR|syscall.O_CLOEXEC|flags, 0)
	if err != nil {
		if err == syscall.ENXIO || err == syscall.ENODEV {
			err = syscall.ENOENT
		}
		return nil, &os.PathError{Op: "open", Path: DevicePath, Err: err}
	}
	t := &table{fd: fd}
	t.refs.Store(1)
	return t, nil
}

func (t *table) get() { t.refs.Add(1) }

func (t *table) put() {
	if t.refs.Add(-1) == 0 {
		syscall.Close(t.fd)
	}
}

func (t *table) acquire(pid int32, flags uint32, start uint64) (uint64, error) {
	a := phAcquire{Pid: pid, Flags: flags, StartTime: start}
	if err := ioctl(t.fd, iocAcquire, unsafe.Pointer(&a)); err != nil {
		return 0, err
	}
	return a.Handle, nil
}

func (t *table) info(id uint64) (phInfo, error) {
	i := phInfo{Handle: id}
	err := ioctl(t.fd, iocInfo, unsafe.Pointer(&i))
	return i, err
}
