package analytics

import (
	"context"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"strings"
	"sync"

	"github.com/ptrsweep/ptrsweep/internal/sweep"
)

// The kinds of Change.
const (
	Appeared    = "appeared"    // names in the new scan, none in the old
	Disappeared = "disappeared" // names in the old scan, none in the new
	Changed     = "changed"     // names in both, not the same set
)

// Change is one address whose PTR names differ between two scans.
type Change struct {
	IP     string   `json:"ip"`
	Change string   `json:"change"`
	From   []string `json:"from"`
	To     []string `json:"to"`
}

// DiffCounts counts the addresses of a diff.
type DiffCounts struct {
	Appeared    int `json:"appeared"`
	Disappeared int `json:"disappeared"`
	Changed     int `json:"changed"`
	Unchanged   int `json:"unchanged"`
	// Unresolved counts addresses that failed (servfail, refused,
	// timeout) in one scan while the other had names: nothing is known
	// about their names, so they are not reported as changes.
	Unresolved int `json:"unresolved"`
}

// addrNames is one address's PTR names in one scan.
type addrNames struct {
	ip     netip.Addr
	names  []string
	failed bool // only failure rows (no answer about the names)
}

// Diff compares the PTR names of two row streams, each ordered by address
// (store.Export or store.Search), and calls emit for each address whose
// names appeared, disappeared or changed, in address order. An address
// without rows in a scan has no names there (NXDOMAIN stores none): diff
// scans of the same address space. Each stream runs in its own goroutine;
// memory is one address per stream.
func Diff(ctx context.Context, from, to func(emit func(sweep.Row) error) error, emit func(Change) error) (DiffCounts, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg   sync.WaitGroup
		errs [2]error
		chs  = [2]chan addrNames{make(chan addrNames, 256), make(chan addrNames, 256)}
	)
	for i, stream := range []func(func(sweep.Row) error) error{from, to} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer close(chs[i])
			errs[i] = group(ctx, stream, chs[i])
		}()
	}
	counts, err := merge(chs[0], chs[1], emit)
	if err != nil {
		cancel()
	}
	for _, ch := range chs { // let the producers finish
		for range ch {
		}
	}
	wg.Wait()
	if err != nil {
		return counts, err
	}
	for _, e := range errs {
		if e != nil {
			return counts, e
		}
	}
	return counts, nil
}

// group sends the names of each address of stream, in stream order.
func group(ctx context.Context, stream func(func(sweep.Row) error) error, out chan<- addrNames) error {
	var cur addrNames
	send := func() error {
		if !cur.ip.IsValid() {
			return nil
		}
		slices.Sort(cur.names)
		cur.names = slices.Compact(cur.names)
		select {
		case out <- cur:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	err := stream(func(r sweep.Row) error {
		if r.IP != cur.ip {
			if err := send(); err != nil {
				return err
			}
			cur = addrNames{ip: r.IP, failed: true}
		}
		switch r.Status {
		case sweep.StatusOK:
			cur.names = append(cur.names, r.PTR)
			cur.failed = false
		case sweep.StatusNoData, sweep.StatusNXDomain:
			cur.failed = false
		}
		return nil
	})
	if err != nil {
		return err
	}
	return send()
}

// merge walks two address-ordered channels side by side.
func merge(a, b <-chan addrNames, emit func(Change) error) (DiffCounts, error) {
	var c DiffCounts
	x, okA := <-a
	y, okB := <-b
	for okA || okB {
		var from, to addrNames
		switch {
		case okA && (!okB || x.ip.Less(y.ip)):
			from, to = x, addrNames{ip: x.ip}
			x, okA = <-a
		case okB && (!okA || y.ip.Less(x.ip)):
			from, to = addrNames{ip: y.ip}, y
			y, okB = <-b
		default:
			from, to = x, y
			x, okA = <-a
			y, okB = <-b
		}
		ch := Change{IP: from.ip.String(), From: orEmpty(from.names), To: orEmpty(to.names)}
		switch {
		case slices.Equal(from.names, to.names):
			if len(from.names) > 0 {
				c.Unchanged++
			}
			continue
		case (from.failed && len(to.names) > 0) || (to.failed && len(from.names) > 0):
			c.Unresolved++
			continue
		case len(from.names) == 0:
			ch.Change = Appeared
			c.Appeared++
		case len(to.names) == 0:
			ch.Change = Disappeared
			c.Disappeared++
		default:
			ch.Change = Changed
			c.Changed++
		}
		if err := emit(ch); err != nil {
			return c, err
		}
	}
	return c, nil
}

func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// DiffWriter writes the changes of a diff and then its counts. Use
// NewDiffWriter; it is not safe for concurrent use.
type DiffWriter struct{ m multiWriter }

// NewDiffWriter returns a writer of table (aligned rows, then the counts),
// json (one Change object per line, then {"counts":{…}}) or csv (the
// rows; Close writes no counts, print them elsewhere).
func NewDiffWriter(w io.Writer, format string) (*DiffWriter, error) {
	m, err := newMultiWriter(w, format, []string{"ip", "change", "from", "to"})
	if err != nil {
		return nil, err
	}
	return &DiffWriter{m: m}, nil
}

// Write writes one change.
func (d *DiffWriter) Write(c Change) error {
	if d.m.enc != nil {
		return d.m.enc.Encode(c)
	}
	from, to := strings.Join(c.From, " "), strings.Join(c.To, " ")
	if d.m.tw != nil {
		from, to = dash(strings.Join(c.From, ",")), dash(strings.Join(c.To, ","))
	}
	return d.m.row(c.IP, c.Change, from, to)
}

// Close writes the counts (table and json) and flushes.
func (d *DiffWriter) Close(c DiffCounts) error {
	if d.m.enc != nil {
		if err := d.m.enc.Encode(struct {
			Counts DiffCounts `json:"counts"`
		}{c}); err != nil {
			return err
		}
	}
	if err := d.m.flushRows(); err != nil {
		return err
	}
	if d.m.tw != nil {
		fmt.Fprintf(d.m.w, "\n%s\n", c)
	}
	return d.m.flush()
}

// String returns "appeared 3, disappeared 2, changed 5, unchanged 100, unresolved 1".
func (c DiffCounts) String() string {
	return fmt.Sprintf("appeared %d, disappeared %d, changed %d, unchanged %d, unresolved %d", c.Appeared, c.Disappeared, c.Changed, c.Unchanged, c.Unresolved)
}
