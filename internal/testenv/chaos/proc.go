package chaos

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/ptrsweep/ptrsweep/internal/testenv"
)

// procs is the registry of a harness's children.
type procs struct {
	mu  sync.Mutex
	all []*testenv.Proc
	dir string
	seq int
}

// start starts argv with its output in a fresh log file under dir.
func (ps *procs) start(name string, cred *syscall.Credential, env []string, argv ...string) (*testenv.Proc, error) {
	ps.mu.Lock()
	ps.seq++
	logPath := filepath.Join(ps.dir, fmt.Sprintf("%02d-%s.log", ps.seq, name))
	ps.mu.Unlock()
	p, err := testenv.Start(testenv.ProcSpec{Name: name, Argv: argv, Log: logPath, Credential: cred, Env: env})
	if err != nil {
		return nil, err
	}
	ps.mu.Lock()
	ps.all = append(ps.all, p)
	ps.mu.Unlock()
	return p, nil
}

// logSays returns a readiness check: the last n lines of p's log contain s.
func logSays(p *testenv.Proc, n int, s string) func(context.Context) bool {
	return func(context.Context) bool { return strings.Contains(p.Tail(n), s) }
}

// stopAll ends every child still running: SIGTERM, then SIGKILL after d.
func (ps *procs) stopAll(d time.Duration) {
	ps.mu.Lock()
	all := append([]*testenv.Proc(nil), ps.all...)
	ps.mu.Unlock()
	stopProcs(all, d)
}

// stopProcs ends the processes of all still running, at once.
func stopProcs(all []*testenv.Proc, d time.Duration) {
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
