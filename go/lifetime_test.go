// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT

package prochandle

// Lifetime control (SPEC §11): kill on release and deadlines.

import (
	"errors"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// bound is how long a test waits for what must happen (a kill, a line).
const bound = 60 * time.Second

// held keeps the "holder" helper's Process reachable: the garbage
// collector would release it, and kill its process, otherwise.
var held *Process

// lifetimeHelper is the test binary as PH_HELPER=catch (reports each
// SIGUSR1 as a line "usr1") or PH_HELPER=holder (holds PH_PID with
// KillOnRelease); it prints "ready", then blocks as "block" does.
func lifetimeHelper(mode string) {
	switch mode {
	case "catch":
		c := make(chan os.Signal, 4)
		signal.Notify(c, syscall.SIGUSR1)
		go func() {
			for range c {
				fmt.Println("usr1")
			}
		}()
	case "holder":
		pid, _ := strconv.Atoi(os.Getenv("PH_PID"))
		p, err := FindWith(pid, Options{KillOnRelease: true})
		if err != nil {
			fmt.Println(err)
			os.Exit(1)
		}
		held = p
	}
	fmt.Println("ready")
	b := make([]byte, 1)
	if n, _ := os.Stdin.Read(b); n == 1 {
		os.Exit(int(b[0]))
	}
	os.Exit(0)
}

// readLine is the kid's next line of output (bound at most: spawnHelper).
func readLine(t *testing.T, k *kid) string {
	t.Helper()
	l, err := k.out.ReadString('\n')
	if err != nil {
		t.Fatalf("reading from %d: %v", k.pid, err)
	}
	return strings.TrimSuffix(l, "\n")
}

type waited struct {
	st  *ProcessState
	err error
}

// waitAsync is p.Wait in a goroutine.
func waitAsync(p *Process) <-chan waited {
	c := make(chan waited, 1)
	go func() {
		st, err := p.Wait()
		c <- waited{st, err}
	}()
	return c
}

// waitWithin is p.Wait, failing the test if the process still runs after d.
func waitWithin(t *testing.T, p *Process, d time.Duration) *ProcessState {
	t.Helper()
	select {
	case r := <-waitAsync(p):
		if r.err != nil {
			t.Fatalf("Wait: %v", r.err)
		}
		return r.st
	case <-time.After(d):
		t.Fatalf("%d still runs after %v", p.Pid, d)
	}
	return nil
}

func wantSignaled(t *testing.T, st *ProcessState, sig syscall.Signal) {
	t.Helper()
	if ws := st.Sys().(syscall.WaitStatus); !ws.Signaled() || ws.Signal() != sig {
		t.Errorf("%v, want killed by %v", st, sig)
	}
}

func find(t *testing.T, pid int, o Options) *Process {
	t.Helper()
	p, err := FindWith(pid, o)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestKillOnRelease(t *testing.T) {
	k := spawn(t)
	watch := find(t, k.pid, Options{})
	kills := counter(t, "kills")
	p := find(t, k.pid, Options{KillOnRelease: true, Pinned: true,
		StartTicks: startTicks(t, k.pid)})
	if err := p.Release(); err != nil {
		t.Fatal(err)
	}
	wantSignaled(t, waitWithin(t, watch, bound), syscall.SIGKILL)
	if n := counter(t, "kills"); n != kills+1 {
		t.Errorf("kills %d, was %d", n, kills)
	}
	if err := p.Release(); err != nil {
		t.Errorf("second Release: %v", err)
	}
}

func TestKillOnReleaseSparesExited(t *testing.T) {
	k := spawn(t)
	p := find(t, k.pid, Options{KillOnRelease: true})
	k.exit(t, 7)
	k.cmd.Wait() // exited and reaped: its number may name another now
	kills, refused := counter(t, "kills"), counter(t, "kills_refused")
	p.Release()
	if n, r := counter(t, "kills"), counter(t, "kills_refused"); n != kills || r != refused {
		t.Errorf("kills %d, kills_refused %d after releasing an exited process; were %d, %d",
			n, r, kills, refused)
	}
	if c := k.cmd.ProcessState.ExitCode(); c != 7 {
		t.Errorf("exit code %d, want 7", c)
	}
}

// A Wait in flight holds the handle: Release must kill at once anyway.
func TestKillOnReleaseWaitInFlight(t *testing.T) {
	k := spawn(t)
	p := find(t, k.pid, Options{KillOnRelease: true})
	done := waitAsync(p)
	for i := 0; p.h.state.Load()&refMask < 2; i++ { // Wait holds its reference
		if i == 10000 {
			t.Fatal("Wait did not start within 10 s")
		}
		time.Sleep(time.Millisecond)
	}
	p.Release()
	select {
	case r := <-done:
		if r.err != nil {
			t.Fatalf("Wait: %v", r.err)
		}
		wantSignaled(t, r.st, syscall.SIGKILL)
	case <-time.After(bound):
		t.Fatalf("Wait still blocked %v after Release", bound)
	}
}

func TestKillOnReleaseFinalizer(t *testing.T) {
	k := spawn(t)
	watch := find(t, k.pid, Options{})
	find(t, k.pid, Options{KillOnRelease: true}) // unreachable at once
	done := waitAsync(watch)
	for i := 0; ; i++ {
		runtime.GC() // the finalizer releases the dropped Process
		select {
		case r := <-done:
			if r.err != nil {
				t.Fatal(r.err)
			}
			wantSignaled(t, r.st, syscall.SIGKILL)
			return
		case <-time.After(100 * time.Millisecond):
		}
		if i == int(bound/(100*time.Millisecond)) {
			t.Fatalf("not killed after %d collections in %v", i, bound)
		}
	}
}

// The holder is killed: closing its device file kills what it held.
func TestKillOnReleaseProgramDeath(t *testing.T) {
	k := spawn(t)
	watch := find(t, k.pid, Options{})
	h := spawnHelper(t, "holder", fmt.Sprintf("PH_PID=%d", k.pid))
	if l := readLine(t, h); l != "ready" {
		t.Fatalf("holder: %q", l)
	}
	h.cmd.Process.Kill()
	h.cmd.Wait()
	wantSignaled(t, waitWithin(t, watch, bound), syscall.SIGKILL)
}

func TestDeadlineFires(t *testing.T) {
	for _, c := range []struct{ sig, want syscall.Signal }{
		{syscall.SIGTERM, syscall.SIGTERM}, {0, syscall.SIGKILL}} {
		k := spawn(t)
		p := find(t, k.pid, Options{})
		kills := counter(t, "kills")
		if err := p.SetDeadline(20*time.Millisecond, c.sig, 0); err != nil {
			t.Fatal(err)
		}
		wantSignaled(t, waitWithin(t, p, bound), c.want)
		if n := counter(t, "kills"); n != kills+1 {
			t.Errorf("kills %d, was %d", n, kills)
		}
	}
}

func TestDeadlineGraceEscalates(t *testing.T) {
	k := spawnHelper(t, "catch")
	if l := readLine(t, k); l != "ready" {
		t.Fatalf("helper: %q", l)
	}
	p := find(t, k.pid, Options{})
	if err := p.SetDeadline(20*time.Millisecond, syscall.SIGUSR1, 100*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if l := readLine(t, k); l != "usr1" {
		t.Fatalf("helper: %q, want usr1 (the deadline's signal)", l)
	}
	wantSignaled(t, waitWithin(t, p, bound), syscall.SIGKILL)
}

func TestDeadlineCancel(t *testing.T) {
	k := spawnHelper(t, "catch")
	if l := readLine(t, k); l != "ready" {
		t.Fatalf("helper: %q", l)
	}
	p := find(t, k.pid, Options{})
	clock := find(t, k.pid, Options{})
	if err := p.SetDeadline(50*time.Millisecond, syscall.SIGKILL, 0); err != nil {
		t.Fatal(err)
	}
	if err := p.CancelDeadline(); err != nil {
		t.Fatal(err)
	}
	// A later deadline on another handle is the clock: once it has
	// fired, the cancelled one would have.
	if err := clock.SetDeadline(500*time.Millisecond, syscall.SIGUSR1, 0); err != nil {
		t.Fatal(err)
	}
	if l := readLine(t, k); l != "usr1" {
		t.Fatalf("helper: %q, want usr1 (killed by the cancelled deadline?)", l)
	}
	if err := p.Signal(syscall.Signal(0)); err != nil {
		t.Errorf("after the cancelled deadline: %v", err)
	}
	if err := p.CancelDeadline(); err != nil {
		t.Errorf("cancel with none armed: %v", err)
	}
}

func TestDeadlineErrors(t *testing.T) {
	k := spawn(t)
	p := find(t, k.pid, Options{})
	for _, c := range []struct {
		sig   syscall.Signal
		grace time.Duration
	}{{65, 0}, {-1, 0}, {syscall.SIGTERM, -time.Second}} {
		err := p.SetDeadline(time.Millisecond, c.sig, c.grace)
		if !errors.Is(err, syscall.EINVAL) {
			t.Errorf("SetDeadline(sig %d, grace %v): %v, want EINVAL", c.sig, c.grace, err)
		}
	}
	k.exit(t, 0)
	k.cmd.Wait()
	if err := p.SetDeadline(time.Second, syscall.SIGTERM, 0); err != os.ErrProcessDone {
		t.Errorf("SetDeadline after exit: %v, want os.ErrProcessDone (ESRCH)", err)
	}
	if err := p.CancelDeadline(); err != nil {
		t.Errorf("CancelDeadline after exit: %v", err)
	}
	p.Release()
	if err := p.SetDeadline(time.Second, syscall.SIGTERM, 0); err != ErrReleased {
		t.Errorf("SetDeadline after Release: %v, want ErrReleased", err)
	}
	if err := p.CancelDeadline(); err != ErrReleased {
		t.Errorf("CancelDeadline after Release: %v, want ErrReleased", err)
	}
}
