package output

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"net/netip"
	"strconv"
	"testing"
	"time"

	"github.com/ptrsweep/ptrsweep/internal/sweep"
)

// FuzzAppendJSONRow holds the hand-written encoder to encoding/json.
func FuzzAppendJSONRow(f *testing.F) {
	f.Add("scan-30.security.ipip.net", "s1", uint32(0xc6336407), uint8(1), uint8(1), uint32(3600), int64(1795309323))
	f.Add(`q\"uo\\te<>&`+"\u2028\xff\x01", "", uint32(0), uint8(4), uint8(0), uint32(0), int64(0))
	f.Add(".", "x", uint32(1), uint8(1), uint8(5), uint32(1), int64(-1))
	f.Fuzz(func(t *testing.T, ptr, scan string, ip uint32, status, fc uint8, ttl uint32, unix int64) {
		r := sweep.Row{Scan: scan, IP: netip.AddrFrom4([4]byte{byte(ip >> 24), byte(ip >> 16), byte(ip >> 8), byte(ip)}),
			PTR: ptr, Status: sweep.Statuses[int(status)%len(sweep.Statuses)], TTL: ttl,
			FCrDNS: sweep.FCrDNS(fc % 6), ResolvedAt: time.Unix(unix%(1<<33), 0)}
		var want bytes.Buffer
		if err := json.NewEncoder(&want).Encode(ToJSON(r)); err != nil {
			t.Skip(err)
		}
		if got := appendJSONRow(nil, r); !bytes.Equal(got, want.Bytes()) {
			t.Errorf("appendJSONRow = %s\nencoding/json = %s", got, want.Bytes())
		}
	})
}

// sonarRow is a Sonar rDNS line as encoding/json writes it.
type sonarRow struct {
	Timestamp string `json:"timestamp"`
	Name      string `json:"name"`
	Type      string `json:"type"`
	Value     string `json:"value"`
}

// FuzzAppendSonarRow holds the hand-written Sonar encoder to encoding/json.
func FuzzAppendSonarRow(f *testing.F) {
	f.Add("scan-30.security.ipip.net", uint32(0xc6336407), int64(1795309323))
	f.Add(`q\"uo\\te<>&`+"\u2028\xff\x01", uint32(0), int64(-5))
	f.Fuzz(func(t *testing.T, ptr string, ip uint32, unix int64) {
		r := sweep.Row{IP: netip.AddrFrom4([4]byte{byte(ip >> 24), byte(ip >> 16), byte(ip >> 8), byte(ip)}),
			PTR: ptr, Status: sweep.StatusOK, ResolvedAt: time.Unix(unix, 0)}
		var want bytes.Buffer
		if err := json.NewEncoder(&want).Encode(sonarRow{Timestamp: strconv.FormatInt(unix, 10), Name: r.IP.String(), Type: "ptr", Value: ptr}); err != nil {
			t.Fatal(err)
		}
		if got := appendSonarRow(nil, r); !bytes.Equal(got, want.Bytes()) {
			t.Errorf("appendSonarRow = %s\nencoding/json = %s", got, want.Bytes())
		}
	})
}

// TestTimeCache checks that the cached time text follows the row's time,
// also across seconds, sub-second times and zones.
func TestTimeCache(t *testing.T) {
	at := time.Date(2026, 11, 22, 1, 2, 3, 0, time.UTC)
	berlin := time.FixedZone("CET", 3600)
	var c timeCache
	times := []time.Time{at, at, at.Add(time.Second), at.Add(1500 * time.Millisecond), at.Add(time.Second), at.In(berlin), time.Unix(0, 0),
		at.Add(17 * time.Hour), at.Add(22*time.Hour + 57*time.Minute + 56*time.Second), at.Add(22*time.Hour + 57*time.Minute + 57*time.Second), // the day's last second, then the next day
		at.Add(-time.Hour), time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(10000, 1, 1, 0, 0, 1, 0, time.UTC), time.Unix(-1, 0), time.Unix(-2, 0)}
	rng := rand.New(rand.NewPCG(5, 6))
	for range 2000 { // rows of an export: seconds apart, now and then another day
		times = append(times, at.Add(time.Duration(rng.Int64N(3*86400))*time.Second))
	}
	for _, tm := range times {
		if got, want := string(c.rfc3339(tm)), tm.UTC().Format(time.RFC3339); got != want {
			t.Errorf("rfc3339(%v) = %s, want %s", tm, got, want)
		}
	}
}

func BenchmarkJSONRow(b *testing.B) {
	r := sweep.Row{Scan: "bench", IP: netip.MustParseAddr("198.51.100.7"), PTR: "scan-30.security.ipip.net",
		Status: sweep.StatusOK, TTL: 3600, FCrDNS: sweep.FCrDNSConfirmed, ResolvedAt: time.Unix(1795309323, 0)}
	b.Run("append", func(b *testing.B) {
		b.ReportAllocs()
		var buf []byte
		for b.Loop() {
			buf = appendJSONRow(buf[:0], r)
		}
	})
	b.Run("append-cached-time", func(b *testing.B) {
		b.ReportAllocs()
		var buf []byte
		var c timeCache
		for b.Loop() {
			buf = c.appendJSONRow(buf[:0], r)
		}
	})
	b.Run("sonar", func(b *testing.B) {
		b.ReportAllocs()
		var buf []byte
		for b.Loop() {
			buf = appendSonarRow(buf[:0], r)
		}
	})
	b.Run("encoding/json", func(b *testing.B) {
		b.ReportAllocs()
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		for b.Loop() {
			buf.Reset()
			_ = enc.Encode(ToJSON(r))
		}
	})
}
