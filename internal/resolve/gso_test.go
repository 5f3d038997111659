//go:build linux

package resolve

import (
	"testing"
	"time"

	"github.com/ptrsweep/ptrsweep/internal/sweep"
)

// TestSegmentedSends resolves scattered addresses with UDP GSO (the
// default on Linux), without it, and against a kernel that refuses the
// segmented send: the lab's truth every time, one query an address as the
// server counts them, and the stats say whether queries went several to a
// send. A refused socket falls back to one query a send.
func TestSegmentedSends(t *testing.T) {
	l, srv := startLab(t)
	addrs := scattered(t, l, oneQueryClasses, 2048, 40)
	for _, tc := range []struct {
		name           string
		noGSO, refused bool
		wantSegmented  bool
	}{
		{name: "gso", wantSegmented: true},
		{name: "no-gso", noGSO: true},
		{name: "refused", refused: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.refused {
				old := segmentCmsgType
				segmentCmsgType = 0x7fff // not a UDP control message: EINVAL
				t.Cleanup(func() { segmentCmsgType = old })
			}
			r := mustNew(t, Config{Servers: []string{srv.Addr()}, NoGSO: tc.noGSO, Retries: -1, Timeout: 10 * time.Second})
			before := srv.Queries()
			got := resolveAddrs(t, r, addrs, sweep.Options{})
			if len(got) != len(addrs) {
				t.Errorf("emitted %d results for %d addresses", len(got), len(addrs))
			}
			wantLab(t, l, got)
			st := r.Stats()
			if seen := srv.Queries() - before; st.Queries != uint64(len(addrs)) || seen != uint64(len(addrs)) {
				t.Errorf("resolver sent %d queries, server saw %d; want %d each", st.Queries, seen, len(addrs))
			}
			if (st.Segmented > 0) != tc.wantSegmented {
				t.Errorf("%d queries sent segmented, want some: %v", st.Segmented, tc.wantSegmented)
			}
			t.Logf("%d of %d queries sent several to a send", st.Segmented, st.Queries)
		})
	}
}
