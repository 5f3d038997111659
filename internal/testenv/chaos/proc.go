package chaos

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Proc is one child process started by a Harness. Its stdout and stderr go
// to a log file in the harness directory. Methods are safe for concurrent
// use; the process is reaped by one goroutine owned by the Proc.
type Proc struct {
	Name string
	Log  string // path of the combined stdout/stderr log
	cmd  *exec.Cmd
	done chan struct{}
	code int // exit code, -1 when killed by a signal; valid after done
}

// PID returns the process ID.
func (p *Proc) PID() int { return p.cmd.Process.Pid }

// Signal sends sig to the process (not to its group).
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

// Stop sends SIGTERM, waits up to d, then SIGKILLs; it returns the exit code.
func (p *Proc) Stop(d time.Duration) int {
	_ = p.Signal(syscall.SIGTERM)
	if code, err := p.Wait(d); err == nil {
		return code
	}
	_ = p.Signal(syscall.SIGKILL)
	<-p.done
	return p.code
}

// Kill sends SIGKILL and waits for the process to be reaped.
func (p *Proc) Kill() {
	_ = p.Signal(syscall.SIGKILL)
	<-p.done
}

// RSS returns the process's resident set size in bytes (VmRSS).
func (p *Proc) RSS() (uint64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", p.PID()))
	if err != nil {
		return 0, fmt.Errorf("rss of %s: %w", p.Name, err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("rss of %s: %q: %w", p.Name, v, err)
			}
			return kb << 10, nil
		}
	}
	return 0, fmt.Errorf("rss of %s: no VmRSS", p.Name)
}

// Tail returns the last n lines of the process's log.
func (p *Proc) Tail(n int) string {
	b, err := os.ReadFile(p.Log)
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// procs is the registry of a harness's children.
type procs struct {
	mu  sync.Mutex
	all []*Proc
	dir string
	seq int
}

// start starts argv with its output in a fresh log file under dir.
func (ps *procs) start(name string, cred *syscall.Credential, argv ...string) (*Proc, error) {
	ps.mu.Lock()
	ps.seq++
	logPath := filepath.Join(ps.dir, fmt.Sprintf("%02d-%s.log", ps.seq, name))
	ps.mu.Unlock()
	f, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	defer f.Close()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL, Credential: cred}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &Proc{Name: name, Log: logPath, cmd: cmd, done: make(chan struct{})}
	go func() {
		err := cmd.Wait()
		p.code = cmd.ProcessState.ExitCode()
		var ee *exec.ExitError
		if err != nil && !errors.As(err, &ee) {
			p.code = -1
		}
		close(p.done)
	}()
	ps.mu.Lock()
	ps.all = append(ps.all, p)
	ps.mu.Unlock()
	return p, nil
}

// stopAll ends every child still running: SIGTERM, then SIGKILL after d.
func (ps *procs) stopAll(d time.Duration) {
	ps.mu.Lock()
	all := append([]*Proc(nil), ps.all...)
	ps.mu.Unlock()
	stopProcs(all, d)
}

// stopProcs ends the processes of all still running, at once.
func stopProcs(all []*Proc, d time.Duration) {
	var wg sync.WaitGroup
	for _, p := range all {
		if !p.Running() {
			continue
		}
		wg.Add(1)
		go func() { defer wg.Done(); p.Stop(d) }()
	}
	wg.Wait()
}

// freePort returns a TCP (and, usually, UDP) port free on host right now.
func freePort(host string) (int, error) {
	for range 20 {
		l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
		if err != nil {
			return 0, fmt.Errorf("find a free port on %s: %w", host, err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		l.Close()
		u, err := net.ListenPacket("udp", net.JoinHostPort(host, strconv.Itoa(port)))
		if err != nil {
			continue
		}
		u.Close()
		return port, nil
	}
	return 0, fmt.Errorf("find a free port on %s: none found", host)
}

// waitTCP waits until addr accepts TCP connections or ctx ends.
func waitTCP(ctx context.Context, addr string, p *Proc) error {
	for {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return nil
		}
		if p != nil && !p.Running() {
			return fmt.Errorf("%s exited before listening on %s:\n%s", p.Name, addr, p.Tail(10))
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w: waiting for %s: %w", ErrTimeout, addr, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}
