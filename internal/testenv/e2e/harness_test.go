package e2e

import (
	"context"
	"fmt"
	"net/netip"
	"sort"
	"strings"
	"testing"

	"github.com/ptrsweep/ptrsweep/internal/store"
	"github.com/ptrsweep/ptrsweep/internal/sweep"
	"github.com/ptrsweep/ptrsweep/internal/testenv/lab"
	"github.com/ptrsweep/ptrsweep/internal/testenv/storetest"
)

// testDSN returns the DSN of a fresh database for one test.
func testDSN(t *testing.T) string { return storetest.DSN(t) }

// line is one comparable stored or expected row.
type line struct {
	ip     netip.Addr
	ptr    string
	status sweep.Status
	fcrdns sweep.FCrDNS
}

func (l line) String() string {
	return fmt.Sprintf("%s %q %s %s", l.ip, l.ptr, l.status, l.fcrdns)
}

// expectedLines returns the rows a correct sweep of space stores, and the
// number of nxdomain addresses (counted, not stored).
func expectedLines(space netip.Prefix, expect func(netip.Addr) lab.Expected, confirm bool) (map[line]int, uint64) {
	want := map[line]int{}
	var nx uint64
	for a := space.Masked().Addr(); space.Contains(a); a = a.Next() {
		e := expect(a)
		switch e.Status {
		case sweep.StatusNXDomain:
			nx++
		case sweep.StatusOK:
			for _, p := range e.PTRs {
				f := p.FCrDNS
				if !confirm {
					f = sweep.FCrDNSNone
				}
				want[line{a, p.Name, sweep.StatusOK, f}]++
			}
		default:
			want[line{a, "", e.Status, sweep.FCrDNSNone}]++
		}
	}
	return want, nx
}

// storedLines exports a scan's rows.
func storedLines(t *testing.T, dsn, scan string) map[line]int {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	got := map[line]int{}
	err = st.Export(ctx, scan, func(r sweep.Row) error {
		got[line{r.IP, r.PTR, r.Status, r.FCrDNS}]++
		return nil
	})
	if err != nil {
		t.Fatalf("export %s: %v", scan, err)
	}
	return got
}

// compare reports missing, extra and duplicated rows, at most a few of each.
func compare(t *testing.T, got, want map[line]int) {
	t.Helper()
	var missing, extra, dup []string
	for l := range want {
		if got[l] == 0 {
			missing = append(missing, l.String())
		}
	}
	for l, n := range got {
		if want[l] == 0 {
			extra = append(extra, l.String())
		} else if n > 1 {
			dup = append(dup, fmt.Sprintf("%s ×%d", l, n))
		}
	}
	report := func(what string, s []string) {
		if len(s) == 0 {
			return
		}
		sort.Strings(s)
		t.Errorf("%d %s rows, e.g.:\n  %s", len(s), what, strings.Join(s[:min(len(s), 10)], "\n  "))
	}
	report("missing", missing)
	report("extra", extra)
	report("duplicated", dup)
	if len(missing)+len(extra)+len(dup) == 0 {
		t.Logf("stored rows match the lab's truth: %d rows", len(want))
	}
}
