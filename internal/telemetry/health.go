package telemetry

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
)

// DefaultCheckTimeout bounds one readiness check.
const DefaultCheckTimeout = 2 * time.Second

// Check reports whether a dependency is usable: nil when it is. It is
// called for each /readyz request with a context bounded by the check
// timeout, concurrently with the other checks and with itself, so it must
// be safe for concurrent use and cheap (a ping, not a query).
type Check func(ctx context.Context) error

// checks is a set of named readiness checks. Safe for concurrent use.
type checks struct {
	mu      sync.Mutex
	byName  map[string]Check
	timeout time.Duration
}

// validCheckName reports whether name is 1–32 characters of a–z, 0–9, '-'
// and '_'.
func validCheckName(name string) bool {
	if len(name) == 0 || len(name) > 32 {
		return false
	}
	for _, r := range name {
		if !('a' <= r && r <= 'z' || '0' <= r && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

func (cs *checks) add(name string, c Check) error {
	if !validCheckName(name) {
		return fmt.Errorf("%w: name %q: use 1-32 characters of a-z, 0-9, '-' and '_', such as \"nats\"", ErrInvalidCheck, name)
	}
	if c == nil {
		return fmt.Errorf("%w: %s: the check function is nil", ErrInvalidCheck, name)
	}
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if cs.byName == nil {
		cs.byName = make(map[string]Check)
	}
	cs.byName[name] = c
	return nil
}

// checkResult is the outcome of one check.
type checkResult struct {
	name string
	err  error
}

// run runs every check concurrently, each bounded by the timeout, and
// returns the results sorted by name.
func (cs *checks) run(ctx context.Context) []checkResult {
	cs.mu.Lock()
	res := make([]checkResult, 0, len(cs.byName))
	fns := make([]Check, 0, len(cs.byName))
	for name, c := range cs.byName {
		res = append(res, checkResult{name: name})
		fns = append(fns, c)
	}
	cs.mu.Unlock()

	var wg sync.WaitGroup
	for i := range res {
		wg.Go(func() {
			cctx, cancel := context.WithTimeout(ctx, cs.timeout)
			defer cancel()
			res[i].err = runCheck(cctx, fns[i])
		})
	}
	wg.Wait()
	slices.SortFunc(res, func(a, b checkResult) int { return strings.Compare(a.name, b.name) })
	return res
}

// runCheck calls c, turning a panic into an error and making the check
// fail when it outlives its context.
func runCheck(ctx context.Context, c Check) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("check panicked: %v", r)
		}
	}()
	if err := c(ctx); err != nil {
		return err
	}
	return ctx.Err()
}

// handleHealthz answers liveness: the process serves HTTP.
func handleHealthz(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	fmt.Fprintln(w, "ok")
}

// handleReadyz answers readiness: 200 "ok" when every check passes, else
// 503 with one line per check ("[+]nats ok", "[-]clickhouse failed"). The
// body names checks only; their errors, which may hold addresses, go to the
// log.
func (s *Server) handleReadyz(w http.ResponseWriter, r *http.Request) {
	res := s.checks.run(r.Context())
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	var failed []string
	for _, c := range res {
		if c.err != nil {
			failed = append(failed, c.name)
			s.log.Warn("readiness check failed", "check", c.name, "err", c.err)
		}
	}
	if len(failed) == 0 {
		fmt.Fprintln(w, "ok")
		return
	}
	w.WriteHeader(http.StatusServiceUnavailable)
	for _, c := range res {
		if c.err != nil {
			fmt.Fprintf(w, "[-]%s failed\n", c.name)
		} else {
			fmt.Fprintf(w, "[+]%s ok\n", c.name)
		}
	}
	fmt.Fprintf(w, "not ready: %s\n", strings.Join(failed, ", "))
}
