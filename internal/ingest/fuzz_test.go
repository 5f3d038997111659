package ingest

import (
	"context"
	"strings"
	"testing"

	"github.com/ptrsweep/ptrsweep/internal/sweep"
)

// FuzzDecode feeds arbitrary lines to every format: no panic, and every
// row is an IPv4 address with a stored outcome and, when ok, a checked name.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{
		`{"timestamp":"1582236213","name":"1.0.0.1","type":"ptr","value":"one.one.one.one"}`,
		`{"ip":"198.18.0.1","ptr":"a.example","status":"ok","ttl":300,"resolved_at":"2026-11-22T02:15:30Z","fcrdns":"mismatch"}`,
		"1.0.0.1.in-addr.arpa. PTR one.one.one.one.",
		`{"name":"1.0.0.1","status":"NOERROR","timestamp":"2021-03-04T05:06:07Z","data":{"answers":[{"type":"PTR","answer":"x."}]}}`,
		`{"name":"a\"b","value":"\u00e9"}`, "{", "", "\x00",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		for _, format := range Formats {
			_, _ = Decode(context.Background(), strings.NewReader(line+"\n"), Options{Format: format, Scan: "f", Name: "fuzz", Time: fileTime, Batch: 4},
				func(rows []sweep.Row) error {
					for _, r := range rows {
						if !r.IP.Is4() || r.Status < sweep.StatusOK || r.Status > sweep.StatusTimeout || r.Status == sweep.StatusNXDomain {
							t.Fatalf("%s %q: row %+v", format, line, r)
						}
						if r.Status == sweep.StatusOK {
							if err := sweep.CheckName(r.PTR); err != nil || r.PTR == "" {
								t.Fatalf("%s %q: name %q: %v", format, line, r.PTR, err)
							}
						}
					}
					return nil
				})
		}
	})
}
