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

// TestUnsegment checks that the messages of packSegments, cut from any
// message on, give each query's packet once, in order, one a message.
func TestUnsegment(t *testing.T) {
	var b []*fastQuery
	for i, n := range []int{30, 30, 31, 33, 33, 33, 40} {
		fq := &fastQuery{qn: n}
		for j := range n {
			fq.q[j] = byte(i*50 + j)
		}
		b = append(b, fq)
	}
	for m := range 4 {
		sb := newSendBuf()
		msgs := sb.packSegments(b)
		if msgs != 4 {
			t.Fatalf("packSegments made %d messages, want 4 (one a length)", msgs)
		}
		first := 0
		if m > 0 {
			first = sb.upto[m-1]
		}
		n := sb.unsegment(m, msgs)
		if n != len(b)-first {
			t.Fatalf("unsegment(%d) = %d messages, want %d", m, n, len(b)-first)
		}
		for j := range n {
			want := b[first+j].q[:b[first+j].qn]
			if got := sb.msgs[j].Buffers[0]; string(got) != string(want) || sb.msgs[j].OOB != nil || sb.upto[j] != first+j+1 {
				t.Errorf("unsegment(%d): message %d = %d bytes (oob %v, upto %d), want query %d's %d bytes", m, j, len(got), sb.msgs[j].OOB != nil, sb.upto[j], first+j, len(want))
			}
		}
	}
}
