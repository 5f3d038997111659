package output

import (
	"bytes"
	"net/netip"
	"testing"
	"time"

	"github.com/ptrsweep/ptrsweep/internal/sweep"
)

func TestWriters(t *testing.T) {
	at := time.Date(2026, 11, 22, 1, 2, 3, 0, time.UTC)
	rows := []sweep.Row{
		{Scan: "s1", IP: netip.MustParseAddr("198.51.100.7"), PTR: "scan-30.security.ipip.net", Status: sweep.StatusOK, TTL: 3600, FCrDNS: sweep.FCrDNSConfirmed, ResolvedAt: at},
		{Scan: "s1", IP: netip.MustParseAddr("198.51.100.7"), PTR: "b\\ c.example", Status: sweep.StatusOK, TTL: 60, ResolvedAt: at},
		{Scan: "s1", IP: netip.MustParseAddr("198.51.100.9"), Status: sweep.StatusServFail, ResolvedAt: at},
	}
	tests := []struct{ format, want string }{
		{"jsonl", `{"ip":"198.51.100.7","ptr":"scan-30.security.ipip.net","status":"ok","ttl":3600,"scan":"s1","resolved_at":"2026-11-22T01:02:03Z","fcrdns":"confirmed"}
{"ip":"198.51.100.7","ptr":"b\\ c.example","status":"ok","ttl":60,"scan":"s1","resolved_at":"2026-11-22T01:02:03Z"}
{"ip":"198.51.100.9","ptr":"","status":"servfail","ttl":0,"scan":"s1","resolved_at":"2026-11-22T01:02:03Z"}
`},
		{"sonar", `{"timestamp":"1795309323","name":"198.51.100.7","type":"ptr","value":"scan-30.security.ipip.net"}
{"timestamp":"1795309323","name":"198.51.100.7","type":"ptr","value":"b\\ c.example"}
`},
		{"csv", `ip,ptr,status,ttl,fcrdns,scan,resolved_at
198.51.100.7,scan-30.security.ipip.net,ok,3600,confirmed,s1,2026-11-22T01:02:03Z
198.51.100.7,b\ c.example,ok,60,,s1,2026-11-22T01:02:03Z
198.51.100.9,,servfail,0,,s1,2026-11-22T01:02:03Z
`},
		{"ips", "198.51.100.7\n198.51.100.9\n"},
		{"massdns", "7.100.51.198.in-addr.arpa. PTR scan-30.security.ipip.net.\n7.100.51.198.in-addr.arpa. PTR b\\ c.example.\n"},
	}
	for _, tt := range tests {
		var buf bytes.Buffer
		w, err := NewWriter(&buf, tt.format)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			if err := w.Write(r); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		if got := buf.String(); got != tt.want {
			t.Errorf("format %s:\ngot  %s\nwant %s", tt.format, got, tt.want)
		}
	}
	for _, f := range Streaming {
		if _, err := NewWriter(&bytes.Buffer{}, f); err != nil {
			t.Errorf("streaming format %s: %v", f, err)
		}
	}
	if _, err := NewWriter(&bytes.Buffer{}, "xml"); err == nil {
		t.Error("NewWriter(xml) gave no error")
	}
}
