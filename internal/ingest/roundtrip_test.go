package ingest

import (
	"bytes"
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/ptrsweep/ptrsweep/internal/output"
	"github.com/ptrsweep/ptrsweep/internal/sweep"
)

// FuzzJSONLRoundTrip checks that what export writes (output's jsonl and
// sonar writers) imports as the same rows: two rows of one address, with
// the times, TTLs, outcomes and names the fuzzer picks.
func FuzzJSONLRoundTrip(f *testing.F) {
	f.Add(uint32(0xc6336407), "scan-30.security.ipip.net", "b\\ c.Example", uint8(1), uint8(3), uint32(3600), int64(1795309323), int64(0))
	f.Add(uint32(1), "x", "y", uint8(4), uint8(0), uint32(1<<32-1), int64(0), int64(1))
	f.Fuzz(func(t *testing.T, ip uint32, ptr1, ptr2 string, status, fc uint8, ttl uint32, unix, step int64) {
		addr := netip.AddrFrom4([4]byte{byte(ip >> 24), byte(ip >> 16), byte(ip >> 8), byte(ip)})
		at := time.Unix(unix%(1<<33), 0).UTC()
		var in []sweep.Row
		for i, p := range []string{ptr1, ptr2} {
			r := sweep.Row{Scan: "s", Unit: "u", IP: addr, Status: sweep.Statuses[int(status)%len(sweep.Statuses)], TTL: ttl,
				FCrDNS: sweep.FCrDNS(fc % 6), ResolvedAt: at.Add(time.Duration(int64(i)*(step%1000)) * time.Second)}
			if r.Status == sweep.StatusNXDomain {
				r.Status = sweep.StatusNoData
			}
			if r.Status == sweep.StatusOK {
				r.PTR = sweep.CanonicalName(p)
				if r.PTR == "" || r.PTR == "." || sweep.CheckName(r.PTR) != nil || !printable(r.PTR) || sweep.CanonicalName(r.PTR) != r.PTR {
					return // not a stored name (those escape other bytes as \DDD)
				}
			} else {
				r.FCrDNS = sweep.FCrDNSNone
			}
			in = append(in, r)
		}
		for _, format := range []Format{FormatJSONL, FormatSonar} {
			var buf bytes.Buffer
			w, err := output.NewWriter(&buf, string(format))
			if err != nil {
				t.Fatal(err)
			}
			var want []sweep.Row
			for _, r := range in {
				if err := w.Write(r); err != nil {
					t.Fatal(err)
				}
				if format == FormatSonar {
					if r.Status != sweep.StatusOK {
						continue
					}
					r.TTL, r.FCrDNS = 0, sweep.FCrDNSNone
				}
				want = append(want, r)
			}
			if err := w.Flush(); err != nil {
				t.Fatal(err)
			}
			var got []sweep.Row
			_, err = Decode(context.Background(), bytes.NewReader(buf.Bytes()), Options{Format: format, Scan: "s", Unit: "u", Batch: 1},
				func(rows []sweep.Row) error { got = append(got, rows...); return nil })
			if err != nil {
				t.Fatalf("%s: decode %q: %v", format, buf.String(), err)
			}
			if len(got) != len(want) {
				t.Fatalf("%s: decoded %d rows, want %d: %q", format, len(got), len(want), buf.String())
			}
			for i := range want {
				if got[i] != want[i] {
					t.Errorf("%s: row %d = %+v, want %+v", format, i, got[i], want[i])
				}
			}
		}
	})
}

// printable reports whether s is printable ASCII (0x20–0x7E), as every
// stored name is.
func printable(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}
