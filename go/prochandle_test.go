// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT

package prochandle

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// The test binary doubles as the processes it acts on (PH_HELPER=...).
func TestMain(m *testing.M) {
	switch os.Getenv("PH_HELPER") {
	case "":
	case "block": // exit with the code of the byte read from stdin
		b := make([]byte, 1)
		if n, _ := os.Stdin.Read(b); n == 1 {
			os.Exit(int(b[0]))
		}
		os.Exit(0)
	case "orphan": // start a "block" helper on fd 3, print its pid, exit
		c := exec.Command(os.Args[0])
		c.Env = append(os.Environ(), "PH_HELPER=block")
		c.Stdin = os.NewFile(3, "ctl")
		if err := c.Start(); err != nil {
			os.Exit(1)
		}
		fmt.Println(c.Process.Pid)
		os.Exit(0)
	case "catch", "holder": // lifetime_test.go
		lifetimeHelper(os.Getenv("PH_HELPER"))
	}
	if _, err := os.Stat(DevicePath); err != nil {
		fmt.Println("# SKIP", DevicePath, "missing (module not loaded)")
		os.Exit(4)
	}
	os.Exit(m.Run())
}

// kid is a child blocked until told to exit.
type kid struct {
	cmd *exec.Cmd
	ctl *os.File
	out *bufio.Reader // its stdout
	pid int
}

func spawn(t *testing.T) *kid {
	t.Helper()
	return spawnHelper(t, "block")
}

// spawnHelper starts the test binary as PH_HELPER=mode, with env added.
func spawnHelper(t *testing.T, mode string, env ...string) *kid {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	or, ow, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	c := exec.Command(os.Args[0])
	c.Env = append(append(os.Environ(), "PH_HELPER="+mode), env...)
	c.Stdin, c.Stdout = r, ow
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	r.Close()
	ow.Close()
	// A bounded read: bound at most for every line (readLine).
	or.SetReadDeadline(time.Now().Add(bound))
	k := &kid{cmd: c, ctl: w, out: bufio.NewReader(or), pid: c.Process.Pid}
	t.Cleanup(func() {
		k.ctl.Close()
		k.cmd.Process.Kill()
		k.cmd.Wait()
		or.Close()
	})
	return k
}

func (k *kid) exit(t *testing.T, code byte) {
	t.Helper()
	if _, err := k.ctl.Write([]byte{code}); err != nil {
		t.Fatal(err)
	}
}

func startTicks(t *testing.T, pid int) uint64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Fatal(err)
	}
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	v, err := strconv.ParseUint(f[19], 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func counter(t *testing.T, name string) int {
	b, err := os.ReadFile("/sys/class/misc/prochandle/" + name)
	if err != nil {
		t.Fatal(err)
	}
	v, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	return v
}

func TestFindWaitExitCode(t *testing.T) {
	k := spawn(t)
	p, err := Find(k.pid)
	if err != nil {
		t.Fatal(err)
	}
	if p.Pid != k.pid {
		t.Errorf("Pid %d, want %d", p.Pid, k.pid)
	}
	if want := fmt.Sprintf("%d@%d", k.pid, startTicks(t, k.pid)); p.Identity() != want {
		t.Errorf("Identity %q, want %q", p.Identity(), want)
	}
	if err := p.Signal(syscall.Signal(0)); err != nil {
		t.Errorf("Signal(0): %v", err)
	}
	k.exit(t, 7)
	st, err := p.Wait()
	if err != nil {
		t.Fatal(err)
	}
	if !st.Exited() || st.ExitCode() != 7 || st.Success() || st.Pid() != k.pid ||
		st.String() != "exit status 7" {
		t.Errorf("state %v (exited %v code %d pid %d)", st, st.Exited(), st.ExitCode(), st.Pid())
	}
	if st.Sys().(syscall.WaitStatus).ExitStatus() != 7 {
		t.Errorf("Sys %v", st.Sys())
	}
	if st.Exit != nil && st.UserTime() < 0 {
		t.Errorf("exit record %+v", st.Exit)
	}
	// Done: everything refuses, without touching the kernel.
	if err := p.Signal(syscall.SIGTERM); err != os.ErrProcessDone {
		t.Errorf("Signal after Wait: %v", err)
	}
	if _, err := p.Wait(); err != os.ErrProcessDone {
		t.Errorf("Wait after Wait: %v", err)
	}
	if err := p.Release(); err != nil {
		t.Errorf("Release after Wait: %v", err)
	}
}

func TestKill(t *testing.T) {
	k := spawn(t)
	p, err := Find(k.pid)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Kill(); err != nil {
		t.Fatal(err)
	}
	st, err := p.Wait()
	if err != nil {
		t.Fatal(err)
	}
	ws := st.Sys().(syscall.WaitStatus)
	if !ws.Signaled() || ws.Signal() != syscall.SIGKILL || st.ExitCode() != -1 ||
		st.String() != "signal: killed" {
		t.Errorf("state %v", st)
	}
	if st.Exit != nil && (st.Exit.Flags&ExitValid == 0) {
		t.Errorf("exit record without ExitValid: %+v", st.Exit)
	}
}

// A signal number beyond 32 bits is refused, not cut to another signal:
// 1<<32|SIGKILL would otherwise be sent as SIGKILL.
func TestSignalOutOfRange(t *testing.T) {
	k := spawn(t)
	p, err := Find(k.pid)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Release()
	var se *os.SyscallError
	err = p.Signal(syscall.Signal(1<<32 | int(syscall.SIGKILL)))
	if !errors.As(err, &se) || se.Err != syscall.EINVAL {
		t.Errorf("Signal(1<<32|SIGKILL): %v, want EINVAL", err)
	}
	if i, err := p.Info(); err != nil || i.State != StateRunning {
		t.Errorf("after the refused signal: Info %+v, %v", i, err)
	}
	k.exit(t, 0)
	if st, err := p.Wait(); err != nil || st.ExitCode() != 0 {
		t.Errorf("Wait: %v, %v", st, err)
	}
}

func TestSignalExitedIsProcessDone(t *testing.T) {
	k := spawn(t)
	p, err := Find(k.pid)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Release()
	k.exit(t, 0)
	k.cmd.Wait() // reaped: the number is free for anyone now
	if err := p.Signal(syscall.SIGTERM); err != os.ErrProcessDone {
		t.Errorf("Signal to an exited process: %v, want os.ErrProcessDone", err)
	}
	i, err := p.Info()
	if err != nil || i.State != StateExited || i.Status.ExitStatus() != 0 {
		t.Errorf("Info %+v, %v", i, err)
	}
}

func TestRelease(t *testing.T) {
	k := spawn(t)
	p, err := Find(k.pid)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Release(); err != nil {
		t.Fatal(err)
	}
	if err := p.Release(); err != nil {
		t.Errorf("second Release: %v", err)
	}
	if err := p.Signal(syscall.SIGTERM); err != ErrReleased {
		t.Errorf("Signal after Release: %v", err)
	}
	if _, err := p.Wait(); err != ErrReleased {
		t.Errorf("Wait after Release: %v", err)
	}
	if _, err := p.Info(); err != ErrReleased {
		t.Errorf("Info after Release: %v", err)
	}
	if err := k.cmd.Process.Signal(syscall.Signal(0)); err != nil {
		t.Errorf("the process was harmed: %v", err)
	}
}

func TestFindErrors(t *testing.T) {
	for _, c := range []struct {
		pid  int
		want syscall.Errno
	}{{0, syscall.EINVAL}, {-1, syscall.EINVAL}, {1 << 40, syscall.EINVAL},
		{2147483647, syscall.ESRCH}} {
		p, err := Find(c.pid)
		var e *Error
		if p != nil || !errors.As(err, &e) || !errors.Is(err, c.want) || e.Pid != c.pid {
			t.Errorf("Find(%d) = %v, %v; want %v", c.pid, p, err, c.want)
		}
	}
	k := spawn(t)
	ticks := startTicks(t, k.pid)
	if _, err := FindPinned(k.pid, ticks+1); !errors.Is(err, syscall.ESRCH) {
		t.Errorf("FindPinned with another start time: %v, want ESRCH", err)
	}
	p, err := FindPinned(k.pid, ticks)
	if err != nil {
		t.Fatalf("FindPinned with its start time: %v", err)
	}
	p.Release()
}

func TestWaitNonChild(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	c := exec.Command(os.Args[0])
	c.Env = append(os.Environ(), "PH_HELPER=orphan")
	c.ExtraFiles = []*os.File{r}
	out, err := c.Output()
	r.Close()
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(out)))
	if err != nil {
		t.Fatal(err)
	}
	p, err := Find(pid)
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte{42})
	st, err := p.Wait()
	if err != nil || st.ExitCode() != 42 {
		t.Errorf("Wait on a non-child: %v, %v", st, err)
	}
}

func TestFromPidfdAndPidfd(t *testing.T) {
	k := spawn(t)
	pidfd, _, e := syscall.Syscall(sysPidfdOpen, uintptr(k.pid), 0, 0)
	if e != 0 {
		t.Fatalf("pidfd_open: %v", e)
	}
	defer syscall.Close(int(pidfd))
	p, err := FromPidfd(int(pidfd))
	if err != nil {
		t.Fatal(err)
	}
	if p.Pid != k.pid {
		t.Errorf("Pid %d, want %d", p.Pid, k.pid)
	}
	fd, err := p.Pidfd()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(fmt.Sprintf("/proc/self/fdinfo/%d", fd))
	if !strings.Contains(string(b), fmt.Sprintf("Pid:\t%d\n", k.pid)) {
		t.Errorf("Pidfd fdinfo: %q", b)
	}
	syscall.Close(fd)
	k.exit(t, 3)
	st, err := p.Wait()
	if err != nil || st.ExitCode() != 3 {
		t.Errorf("Wait: %v, %v", st, err)
	}
	if _, err := p.Pidfd(); err != os.ErrProcessDone {
		t.Errorf("Pidfd after Wait: %v", err)
	}
	// Not a pidfd at all: EBADF.
	f, _ := os.Open("/dev/null")
	defer f.Close()
	if _, err := FromPidfd(int(f.Fd())); !errors.Is(err, syscall.EBADF) {
		t.Errorf("FromPidfd(/dev/null): %v, want EBADF", err)
	}
	if _, err := FromPidfd(-1); !errors.Is(err, syscall.EBADF) {
		t.Errorf("FromPidfd(-1): %v, want EBADF", err)
	}
}

// Release racing Wait and Signal (golang/go#67641): the kernel handle is
// released exactly once, after the last call that used it, and every call
// gets one of the results its ordering allows.  Run with -race.
func TestReleaseRacesWaitAndSignal(t *testing.T) {
	var mu sync.Mutex
	released := map[uint64]int{}
	releaseHook = func(tb *table, id uint64, err error) {
		mu.Lock()
		released[id]++
		mu.Unlock()
		if err != nil {
			t.Errorf("kernel RELEASE of %d: %v", id, err)
		}
	}
	defer func() { releaseHook = nil }()
	base := counter(t, "handles")
	for round := 0; round < 40; round++ {
		k := spawn(t)
		p, err := Find(k.pid)
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		var waited atomic.Int32
		for i := 0; i < 4; i++ {
			wg.Add(3)
			go func() {
				defer wg.Done()
				st, err := p.Wait()
				switch {
				case err == nil:
					waited.Add(1)
					if st.ExitCode() != 5 {
						t.Errorf("Wait: %v", st)
					}
				case err != ErrReleased && err != os.ErrProcessDone:
					t.Errorf("Wait: %v", err)
				}
			}()
			go func() {
				defer wg.Done()
				for j := 0; j < 20; j++ {
					err := p.Signal(syscall.Signal(0))
					if err != nil && err != ErrReleased && err != os.ErrProcessDone {
						t.Errorf("Signal: %v", err)
					}
				}
			}()
			go func() {
				defer wg.Done()
				if round%2 == 0 {
					p.Release()
				}
			}()
		}
		k.exit(t, 5)
		wg.Wait()
		p.Release()
		mu.Lock()
		if n := released[p.h.id]; n != 1 {
			t.Errorf("round %d: handle released %d times", round, n)
		}
		mu.Unlock()
		if round%2 == 1 && waited.Load() == 0 {
			t.Errorf("round %d: no Wait returned the status", round)
		}
	}
	if n := counter(t, "handles"); n != base {
		t.Errorf("handles %d after the rounds, %d before", n, base)
	}
}

func TestWatch(t *testing.T) {
	w, err := NewWatch(4)
	if err != nil {
		t.Fatal(err)
	}
	kids := []*kid{spawn(t), spawn(t), spawn(t)}
	procs := map[int]*Process{}
	for _, k := range kids {
		p, err := w.Add(k.pid)
		if err != nil {
			t.Fatal(err)
		}
		procs[k.pid] = p
	}
	if _, err := w.AddPinned(kids[0].pid, startTicks(t, kids[0].pid)+1); !errors.Is(err, syscall.ESRCH) {
		t.Errorf("AddPinned with another start time: %v", err)
	}
	for i, idx := range []int{1, 2, 0} {
		kids[idx].exit(t, byte(10+i))
		select {
		case e := <-w.C:
			if e.Process != procs[kids[idx].pid] || e.State.ExitCode() != 10+i {
				t.Errorf("exit %d: pid %d %v, want pid %d code %d", i,
					e.Process.Pid, e.State, kids[idx].pid, 10+i)
			}
			e.Process.Release()
		case <-time.After(60 * time.Second):
			t.Fatalf("exit %d not delivered", i)
		}
	}
	k := spawn(t)
	if _, err := w.Add(k.pid); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if _, ok := <-w.C; ok {
		t.Errorf("C still open after Close")
	}
	if _, err := w.Add(k.pid); !errors.Is(err, os.ErrClosed) {
		t.Errorf("Add after Close: %v", err)
	}
}

func TestWatchMany(t *testing.T) {
	w, err := NewWatch(0)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	const n = 50
	want := map[int]bool{}
	for i := 0; i < n; i++ {
		k := spawn(t)
		if _, err := w.Add(k.pid); err != nil {
			t.Fatal(err)
		}
		want[k.pid] = true
		k.exit(t, 0)
	}
	for len(want) > 0 {
		select {
		case e := <-w.C:
			if !want[e.Process.Pid] {
				t.Errorf("unexpected or repeated exit of %d", e.Process.Pid)
			}
			delete(want, e.Process.Pid)
			e.Process.Release()
		case <-time.After(60 * time.Second):
			t.Fatalf("%d exits not delivered", len(want))
		}
	}
}
