package ingest

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ptrsweep/ptrsweep/internal/sweep"
)

var fileTime = time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)

func decodeAll(t *testing.T, f Format, input string) ([]string, Stats, error) {
	t.Helper()
	var got []string
	st, err := Decode(context.Background(), strings.NewReader(input), Options{Format: f, Scan: "imp", Unit: "import", Name: "in.txt", Time: fileTime, Batch: 2},
		func(rows []sweep.Row) error {
			for _, r := range rows {
				if r.Scan != "imp" || r.Unit != "import" {
					t.Errorf("row %+v: want scan imp, unit import", r)
				}
				got = append(got, fmt.Sprintf("%s %s %s %d %s %s", r.IP, r.PTR, r.Status, r.TTL, r.FCrDNS, r.ResolvedAt.Format(time.RFC3339)))
			}
			return nil
		})
	return got, st, err
}

func TestDecode(t *testing.T) {
	tests := []struct {
		format  Format
		input   string
		want    []string
		skipped map[string]int
	}{
		{FormatSonar, `{"timestamp":"1582236213","name":"1.0.0.1","type":"ptr","value":"One.One.One.One."}
{"timestamp":"1582236213","name":"1.0.0.1","type":"ptr","value":"second.example"}

{"timestamp":"1582236214", "name":"2001:db8::1", "type":"ptr", "value":"v6.example"}
{"name":"8.8.8.8","value":"dns.google","type":"ptr","timestamp":"1582236215"}
{"timestamp":"1582236216","name":"9.9.9.9","type":"cname","value":"x.example"}
{"timestamp":"1582236217","name":"10.0.0.1","type":"ptr","value":"odd\u0041.example"}
`, []string{
			"1.0.0.1 one.one.one.one ok 0  2020-02-20T22:03:33Z",
			"1.0.0.1 second.example ok 0  2020-02-20T22:03:33Z",
			"8.8.8.8 dns.google ok 0  2020-02-20T22:03:35Z",
			"10.0.0.1 odda.example ok 0  2020-02-20T22:03:37Z",
		}, map[string]int{"ipv6": 1, "type cname": 1}},
		{FormatJSONL, `{"ip":"198.18.0.1","ptr":"a.example","status":"ok","ttl":300,"scan":"x","resolved_at":"2026-11-22T02:15:30Z","fcrdns":"mismatch"}
{"ip":"198.18.0.2","ptr":"","status":"servfail","ttl":0,"scan":"x","resolved_at":"2026-11-22T02:15:31Z"}
{"ip":"198.18.0.3","ptr":"","status":"nxdomain","ttl":0,"scan":"x","resolved_at":"2026-11-22T02:15:31Z"}
`, []string{
			"198.18.0.1 a.example ok 300 mismatch 2026-11-22T02:15:30Z",
			"198.18.0.2  servfail 0  2026-11-22T02:15:31Z",
		}, map[string]int{"nxdomain": 1}},
		{FormatMassDNS, `1.0.0.1.in-addr.arpa. PTR one.one.one.one.
4.4.8.8.IN-ADDR.ARPA. PTR dns.google.
5.0/25.2.0.192.in-addr.arpa. PTR classless.example.
1.0.0.1.in-addr.arpa. CNAME other.example.
{"name":"9.9.9.9.in-addr.arpa.","type":"PTR","class":"IN","status":"NOERROR","data":{"answers":[{"ttl":600,"type":"PTR","class":"IN","name":"9.9.9.9.in-addr.arpa.","data":"dns9.quad9.net."}]}}
{"name":"2.0.0.10.in-addr.arpa.","type":"PTR","class":"IN","status":"SERVFAIL","data":{}}
{"name":"3.0.0.10.in-addr.arpa.","type":"PTR","class":"IN","status":"NXDOMAIN","data":{}}
`, []string{
			"1.0.0.1 one.one.one.one ok 0  2026-11-20T12:00:00Z",
			"8.8.4.4 dns.google ok 0  2026-11-20T12:00:00Z",
			"9.9.9.9 dns9.quad9.net ok 600  2026-11-20T12:00:00Z",
			"10.0.0.2  servfail 0  2026-11-20T12:00:00Z",
		}, map[string]int{"classless name": 1, "type cname": 1, "nxdomain": 1}},
		{FormatZDNS, `{"name":"1.0.0.1","class":"IN","status":"NOERROR","timestamp":"2021-03-04T05:06:07Z","data":{"answers":[{"ttl":3600,"type":"PTR","class":"IN","name":"1.0.0.1.in-addr.arpa","answer":"one.one.one.one."}]}}
{"name":"10.0.0.9","results":{"PTR":{"status":"NOERROR","timestamp":"2024-01-02T03:04:05Z","data":{"answers":[]}}}}
{"name":"10.0.0.8","status":"TIMEOUT","timestamp":"2021-03-04T05:06:07Z"}
{"name":"10.0.0.7","status":"NXDOMAIN","timestamp":"2021-03-04T05:06:07Z"}
`, []string{
			"1.0.0.1 one.one.one.one ok 3600  2021-03-04T05:06:07Z",
			"10.0.0.9  nodata 0  2024-01-02T03:04:05Z",
			"10.0.0.8  timeout 0  2021-03-04T05:06:07Z",
		}, map[string]int{"nxdomain": 1}},
	}
	for _, tt := range tests {
		t.Run(string(tt.format), func(t *testing.T) {
			got, st, err := decodeAll(t, tt.format, tt.input)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("rows =\n%q\nwant\n%q", got, tt.want)
			}
			if st.Rows != len(tt.want) || !reflect.DeepEqual(st.Skipped, tt.skipped) || st.Lines != strings.Count(tt.input, "\n") {
				t.Errorf("stats = %+v, want %d rows, %d lines, skipped %v", st, len(tt.want), strings.Count(tt.input, "\n"), tt.skipped)
			}
		})
	}
}

func TestDecodeErrors(t *testing.T) {
	tests := []struct {
		format Format
		input  string
		want   string
	}{
		{FormatSonar, "{\"name\":\"1.0.0.1\",\"value\":\"a.example\",\"timestamp\":\"1\"}\nnot json\n", "in.txt:2: want a Sonar rDNS object"},
		{FormatSonar, `{"timestamp":"x","name":"1.0.0.1","type":"ptr","value":"a.example"}`, `in.txt:1: timestamp "x"`},
		{FormatSonar, `{"timestamp":"1","name":"1.0.0.300","type":"ptr","value":"a.example"}`, `in.txt:1: address "1.0.0.300"`},
		{FormatSonar, `{"timestamp":"1","name":"1.0.0.1","type":"ptr","value":"a..example"}`, `in.txt:1: PTR name "a..example"`},
		{FormatSonar, `{"timestamp":"1","name":"1.0.0.1","nested":{"a":1},"value":"x"}`, "in.txt:1: want a Sonar"},
		{FormatJSONL, `{"ip":"1.0.0.1","status":"fine","resolved_at":"2026-11-22T02:15:30Z"}`, `in.txt:1: unknown status "fine"`},
		{FormatJSONL, `{"ip":"1.0.0.1","status":"ok","resolved_at":"2026-11-22T02:15:30Z"}`, "in.txt:1: status ok without a ptr"},
		{FormatMassDNS, "1.0.0.1.in-addr.arpa. PTR\n", "in.txt:1: want \"REVERSE-NAME TYPE DATA\""},
		{FormatMassDNS, "1.0.0.1.example. PTR a.example.\n", "in.txt:1: "},
		{FormatZDNS, `{"name":"1.0.0.1","status":"WEIRD","timestamp":"2021-03-04T05:06:07Z"}`, `in.txt:1: status "WEIRD"`},
	}
	for _, tt := range tests {
		_, _, err := decodeAll(t, tt.format, tt.input)
		var le *LineError
		if !errors.Is(err, ErrFormat) || !errors.As(err, &le) || !strings.HasPrefix(err.Error(), tt.want) {
			t.Errorf("Decode(%s, %q) error = %v, want a LineError starting %q", tt.format, tt.input, err, tt.want)
		}
	}
	if _, err := ParseFormat("csv"); !errors.Is(err, ErrUnknownFormat) {
		t.Errorf("ParseFormat(csv) = %v, want ErrUnknownFormat", err)
	}
}

func TestOpenGzip(t *testing.T) {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	io.WriteString(zw, `{"timestamp":"1","name":"1.0.0.1","type":"ptr","value":"a.example"}`+"\n")
	zw.Close()
	r, err := Open(&buf)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(r)
	if !strings.Contains(string(b), `"a.example"`) {
		t.Errorf("Open(gzip) read %q", b)
	}
}

// sonarLines returns n Sonar lines of a fleet-like data set.
func sonarLines(n int) []byte {
	var b bytes.Buffer
	for i := range n {
		a := netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
		fmt.Fprintf(&b, `{"timestamp":"1582236213","name":"%s","type":"ptr","value":"host-%d.dyn.example.net"}`+"\n", a, i)
	}
	return b.Bytes()
}

// cpuTime is the process's user+system CPU time: the machine's cores are
// shared, so rows per CPU second is the number to compare.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func BenchmarkDecodeSonar(b *testing.B) {
	benchDecode(b, FormatSonar, sonarLines(100_000), 100_000)
}

// benchDecode measures decoding data, rows rows of format.
func benchDecode(b *testing.B, format Format, data []byte, rows int) {
	b.SetBytes(int64(len(data)))
	cpu0 := cpuTime()
	for b.Loop() {
		_, err := Decode(context.Background(), bytes.NewReader(data), Options{Format: format, Scan: "s"}, func([]sweep.Row) error { return nil })
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)*float64(rows)/b.Elapsed().Seconds(), "rows/s")
	b.ReportMetric(float64(b.N)*float64(rows)/(cpuTime()-cpu0).Seconds(), "rows/cpu-s")
}

// BenchmarkDecodeJSONL measures decoding coordinator export's JSONL (the
// format import reads back), 100,000 rows of ISP-like names.
func BenchmarkDecodeJSONL(b *testing.B) {
	var buf bytes.Buffer
	for i := range 100_000 {
		a := netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
		fmt.Fprintf(&buf, `{"ip":"%s","ptr":"10-%d-%d-%d.dyn.isp%d.example.net","status":"ok","ttl":3600,"scan":"s","resolved_at":"2026-11-01T00:%02d:00Z","fcrdns":"confirmed"}`+"\n",
			a, byte(i>>16), byte(i>>8), byte(i), i%1000, i/2000)
	}
	benchDecode(b, FormatJSONL, buf.Bytes(), 100_000)
}

func TestParseIPv4(t *testing.T) {
	for _, in := range []string{"0.0.0.0", "1.2.3.4", "255.255.255.255", "10.0.0.1", "256.1.1.1", "1.2.3", "1.2.3.4.5", "01.2.3.4", "1..2.3", "1.2.3.", "a.b.c.d", "", "::1", "1.2.3.4 "} {
		got, ok := parseIPv4([]byte(in))
		want, err := netip.ParseAddr(in)
		wantOK := err == nil && want.Is4()
		if ok != wantOK || (ok && got != want) {
			t.Errorf("parseIPv4(%q) = %v, %v, want %v, %v", in, got, ok, want, wantOK)
		}
	}
}
