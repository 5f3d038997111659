package testenv

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// ProcSpec describes a child process to start.
type ProcSpec struct {
	// Name names the process in errors and logs.
	Name string
	// Argv is the binary and its arguments.
	Argv []string
	// Log is the path of the file that receives stdout and stderr; it is
	// created (or truncated).
	Log string
	// Credential, if not nil, runs the process as another user.
	Credential *syscall.Credential
	// Env, if not nil, is the process's whole environment (KEY=value);
	// nil inherits the caller's.
	Env []string
}

// Proc is one child process. It runs in its own process group and is
// killed if the test process dies; its stdout and stderr go to a log file.
// One goroutine owned by the Proc reaps it. Methods are safe for
// concurrent use.
type Proc struct {
	// Name names the process in errors.
	Name string
	// Log is the path of the combined stdout/stderr log.
	Log  string
	cmd  *exec.Cmd
	done chan struct{}
	code int   // exit code, -1 when killed by a signal; valid after done
	err  error // what Wait returned; valid after done
}

// Start starts the process of spec and returns at once; use WaitReady or
// WaitTCP to wait until it serves.
func Start(spec ProcSpec) (*Proc, error) {
	if len(spec.Argv) == 0 {
		return nil, fmt.Errorf("start %s: no command", spec.Name)
	}
	f, err := os.Create(spec.Log)
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", spec.Name, err)
	}
	defer f.Close()
	cmd := exec.Command(spec.Argv[0], spec.Argv[1:]...)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.Env = spec.Env
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL, Credential: spec.Credential}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", spec.Name, err)
	}
	p := &Proc{Name: spec.Name, Log: spec.Log, cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		p.code = cmd.ProcessState.ExitCode()
		var ee *exec.ExitError
		if p.err != nil && !errors.As(p.err, &ee) {
			p.code = -1
		}
		close(p.done)
	}()
	return p, nil
}

// PID returns the process ID.
func (p *Proc) PID() int { return p.cmd.Process.Pid }

// Signal sends sig to the process (not to its group); it does nothing once
// the process has exited.
func (p *Proc) Signal(sig syscall.Signal) error {
	select {
	case <-p.done:
		return nil
	default:
	}
	if err := p.cmd.Process.Signal(sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("signal %s (pid %d): %w", p.Name, p.PID(), err)
	}
	return nil
}

// Running reports whether the process has not exited yet.
func (p *Proc) Running() bool {
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// Done returns a channel closed when the process has exited.
func (p *Proc) Done() <-chan struct{} { return p.done }

// ExitErr returns how the process ended (nil for exit status 0); it is
// valid once Done is closed.
func (p *Proc) ExitErr() error {
	<-p.done
	return p.err
}

// Wait waits up to d for the process to exit and returns its exit code
// (-1 when a signal ended it).
func (p *Proc) Wait(d time.Duration) (int, error) {
	select {
	case <-p.done:
		return p.code, nil
	case <-time.After(d):
		return 0, fmt.Errorf("%w: %s (pid %d) still running after %s", ErrTimeout, p.Name, p.PID(), d)
	}
}

// Stop sends SIGTERM, waits up to d, then SIGKILLs; it returns the exit
// code (-1 when a signal ended the process).
func (p *Proc) Stop(d time.Duration) int {
	_ = p.Signal(syscall.SIGTERM)
	if code, err := p.Wait(d); err == nil {
		return code
	}
	p.Kill()
	return p.code
}

// Kill sends SIGKILL and waits for the process to be reaped.
func (p *Proc) Kill() {
	_ = p.Signal(syscall.SIGKILL)
	<-p.done
}

// RSS returns the process's resident set size in bytes (VmRSS).
func (p *Proc) RSS() (uint64, error) { return p.status("VmRSS") }

// PeakRSS returns the process's peak resident set size so far in bytes
// (VmHWM, the kernel's high-water mark); the process must be running.
func (p *Proc) PeakRSS() (uint64, error) { return p.status("VmHWM") }

// CPU returns the CPU time (user and system) the process has used so far,
// from /proc/PID/stat in the kernel's USER_HZ ticks (100 a second on
// Linux); the process must be running.
func (p *Proc) CPU() (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p.PID()))
	if err != nil {
		return 0, fmt.Errorf("CPU time of %s: %w", p.Name, err)
	}
	// The command name (field 2) may hold spaces: count from its ')'.
	i := strings.LastIndexByte(string(b), ')')
	f := strings.Fields(string(b[i+1:]))
	if i < 0 || len(f) < 13 {
		return 0, fmt.Errorf("CPU time of %s: unexpected /proc stat %q", p.Name, b)
	}
	var ticks uint64
	for _, v := range f[11:13] { // utime, stime: fields 14 and 15
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("CPU time of %s: %q: %w", p.Name, v, err)
		}
		ticks += n
	}
	return time.Duration(ticks) * (time.Second / userHZ), nil
}

// userHZ is the unit of the times in /proc/PID/stat on Linux.
const userHZ = 100

// status returns a size field of /proc/PID/status in bytes.
func (p *Proc) status(field string) (uint64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", p.PID()))
	if err != nil {
		return 0, fmt.Errorf("%s of %s: %w", field, p.Name, err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			kb, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("%s of %s: %q: %w", field, p.Name, v, err)
			}
			return kb << 10, nil
		}
	}
	return 0, fmt.Errorf("%s of %s: not in /proc status", field, p.Name)
}

// Output returns what the process wrote to its log so far (up to the
// last MiB).
func (p *Proc) Output() string {
	b, err := os.ReadFile(p.Log)
	if err != nil {
		return ""
	}
	return string(b[max(0, len(b)-1<<20):])
}

// Tail returns the last n lines of the process's log.
func (p *Proc) Tail(n int) string {
	lines := strings.Split(strings.TrimRight(p.Output(), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// WaitReady calls ready every interval until it reports true. It fails
// with ErrExited (and the log's tail) when the process exits first, and
// with ErrTimeout when ctx ends first.
func (p *Proc) WaitReady(ctx context.Context, interval time.Duration, ready func(context.Context) bool) error {
	for {
		if ready(ctx) {
			return nil
		}
		select {
		case <-p.done:
			return fmt.Errorf("%s: %w before it was ready (%v):\n%s", p.Name, ErrExited, p.err, p.Tail(10))
		case <-ctx.Done():
			return fmt.Errorf("%w: waiting for %s to be ready: %w\n%s", ErrTimeout, p.Name, ctx.Err(), p.Tail(10))
		case <-time.After(interval):
		}
	}
}
