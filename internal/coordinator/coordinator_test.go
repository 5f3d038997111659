package coordinator

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ptrsweep/ptrsweep/internal/analytics"
	"github.com/ptrsweep/ptrsweep/internal/enrich"
	"github.com/ptrsweep/ptrsweep/internal/plan"
	"github.com/ptrsweep/ptrsweep/internal/queue"
	"github.com/ptrsweep/ptrsweep/internal/store"
	"github.com/ptrsweep/ptrsweep/internal/sweep"
)

var errBoom = errors.New("boom")

func testPlan(t *testing.T, scan, cidr string) *plan.Plan {
	t.Helper()
	p, err := plan.New(plan.Request{Scan: scan, CIDRs: []netip.Prefix{netip.MustParsePrefix(cidr)}, Options: sweep.Options{AllowReserved: true}, UnitPrefix: 24})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestQueueConfigNamesEachClient(t *testing.T) {
	conn := Conn{Queue: queue.Config{URL: "nats://127.0.0.1:4222", AckWait: time.Minute, MaxDeliver: 3}, ClickHouse: "x"}
	got := conn.queueConfig(clientStatus, true)
	want := queue.Config{URL: "nats://127.0.0.1:4222", AckWait: time.Minute, MaxDeliver: 3, Name: clientStatus, Existing: true}
	if got != want {
		t.Errorf("queueConfig = %+v, want %+v", got, want)
	}
	if conn.Queue.Name != "" || conn.Queue.Existing {
		t.Errorf("queueConfig changed the Conn: %+v", conn.Queue)
	}
}

func TestReport(t *testing.T) {
	t0 := time.Date(2026, 11, 22, 2, 0, 0, 0, time.UTC)
	rec := sweep.ScanRecord{Name: "s", Units: 4, Addresses: 1024}
	tests := []struct {
		name string
		prog store.Progress
		q    pendingReader
		want Report
	}{
		{"nothing logged", store.Progress{}, nil,
			Report{Scan: rec, Pending: 4, ETA: -1}},
		{"half done in 10s", store.Progress{UnitsDone: 2, Counts: sweep.Counts{NXDomain: 512}, FirstStarted: t0, LastFinished: t0.Add(10 * time.Second)}, nil,
			Report{Scan: rec, Pending: 2, Rate: 51.2, ETA: 10 * time.Second}},
		{"complete with a failure", store.Progress{UnitsDone: 3, UnitsFailed: 1, Counts: sweep.Counts{OK: 768}, FirstStarted: t0, LastFinished: t0.Add(2 * time.Second)},
			&fakeQueue{pending: func(string) (queue.Pending, error) { return queue.Pending{Dead: 1}, nil }},
			Report{Scan: rec, Pending: 0, Rate: 384, ETA: -1, Complete: true, Queue: &queue.Pending{Dead: 1}}},
		{"queue unreachable", store.Progress{UnitsDone: 4}, &fakeQueue{pending: func(string) (queue.Pending, error) { return queue.Pending{}, errBoom }},
			Report{Scan: rec, ETA: -1, Complete: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := &fakeStore{scan: func(string) (sweep.ScanRecord, error) { return rec, nil },
				progress: func(string) (store.Progress, error) { return tt.prog, nil }, cursor: noCursor}
			got, err := report(context.Background(), st, tt.q, "s")
			if err != nil {
				t.Fatal(err)
			}
			tt.want.Progress = tt.prog
			if fmt.Sprintf("%+v", got.Queue) != fmt.Sprintf("%+v", tt.want.Queue) {
				t.Errorf("Queue = %+v, want %+v", got.Queue, tt.want.Queue)
			}
			got.Queue, tt.want.Queue = nil, nil
			if fmt.Sprintf("%+v", got) != fmt.Sprintf("%+v", tt.want) {
				t.Errorf("report =\n%+v\nwant\n%+v", got, tt.want)
			}
		})
	}
}

func TestReportScanNotFound(t *testing.T) {
	st := &fakeStore{scan: func(string) (sweep.ScanRecord, error) { return sweep.ScanRecord{}, store.ErrScanNotFound }}
	_, err := report(context.Background(), st, nil, "gone")
	if want := `scan "gone" not found in database fakedb (check --scan and --clickhouse)`; err == nil || err.Error() != want {
		t.Errorf("report = %v, want %q", err, want)
	}
}

func TestStatusPrints(t *testing.T) {
	rec := sweep.ScanRecord{Name: "s", Units: 2, Addresses: 512}
	prog := store.Progress{UnitsDone: 1, UnitsFailed: 1, Rows: 7, Counts: sweep.Counts{OK: 5, NXDomain: 251, PTRs: 7, Pruned: 200},
		FailedUnits: []sweep.UnitRecord{{Unit: "198.18.1.0/24", Attempt: 5, Error: "store down"}}}
	st := &fakeStore{scan: func(string) (sweep.ScanRecord, error) { return rec, nil },
		progress: func(string) (store.Progress, error) { return prog, nil },
		cursor: func(string) (store.Cursor, bool, error) {
			return store.Cursor{Scan: "s", Planned: 2, Published: 2}, true, nil
		}}
	var out bytes.Buffer
	if err := status(context.Background(), st, nil, StatusConfig{Scan: "s"}, &out); err != nil {
		t.Fatal(err)
	}
	want := `scan s: complete with failed units
  units: 2 total, 1 done, 0 pending, 1 failed
  published: 2 of 2 units (all published)
  addresses: 256 of 512, 7 PTRs, 7 rows
  outcomes: ok=5 nxdomain=251 nodata=0 servfail=0 refused=0 timeout=0 (pruned 200)
  rate: 0 addresses/s, ETA -
  failed unit 198.18.1.0/24 (attempt 5): store down
  retry failed units with: coordinator retry --scan s --nats URL
`
	if out.String() != want {
		t.Errorf("status printed\n%s\nwant\n%s", out.String(), want)
	}
}

func TestStatusWait(t *testing.T) {
	rec := sweep.ScanRecord{Name: "s", Units: 2}
	tests := []struct {
		name     string
		readings []store.Progress
		wantErr  error
		wantOut  string
	}{
		{"all done", []store.Progress{{}, {UnitsDone: 1}, {UnitsDone: 2}}, nil, "scan s: complete\n"},
		{"one failed", []store.Progress{{UnitsDone: 1}, {UnitsDone: 1, UnitsFailed: 1}}, ErrUnitsFailed, "scan s: complete with failed units\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reads := 0
			st := &fakeStore{scan: func(string) (sweep.ScanRecord, error) { return rec, nil },
				progress: func(string) (store.Progress, error) {
					p := tt.readings[min(reads, len(tt.readings)-1)]
					reads++
					return p, nil
				}, cursor: noCursor}
			var out bytes.Buffer
			err := status(context.Background(), st, nil, StatusConfig{Scan: "s", Wait: true, Interval: time.Millisecond}, &out)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Errorf("status --wait = %v, want %v", err, tt.wantErr)
			}
			if reads != len(tt.readings) {
				t.Errorf("status --wait read the unit log %d times, want %d", reads, len(tt.readings))
			}
			if first, _, _ := strings.Cut(out.String(), "\n"); first+"\n" != tt.wantOut {
				t.Errorf("status --wait printed %q first, want %q (and nothing while waiting)", first, tt.wantOut)
			}
		})
	}
}

func TestRetry(t *testing.T) {
	now := time.Date(2026, 11, 22, 2, 0, 0, 0, time.UTC)
	units := []sweep.Unit{{Scan: "s", Prefix: netip.MustParsePrefix("198.18.1.0/24"), Seq: 1},
		{Scan: "s", Prefix: netip.MustParsePrefix("198.18.3.0/24"), Seq: 3}}
	tests := []struct {
		name      string
		moved     []sweep.Unit
		retryErr  error
		insertErr error
		wantRecs  int
		wantErr   string
		wantOut   string
	}{
		{"two units", units, nil, nil, 2, "", "scan s: 2 failed units queued again\n"},
		{"none dead", nil, nil, nil, 0, "", "scan s: 0 failed units queued again\n"},
		{"stopped part-way: the moved unit is recorded", units[:1], errBoom, nil, 1, "retry dead units of scan s after 1: boom", ""},
		{"recording fails", units, nil, errBoom, 2, "2 units of scan s queued again, but recording them failed (status shows them failed until they finish): boom", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var recs []sweep.UnitRecord
			st := &fakeStore{insertUnits: func(r []sweep.UnitRecord) error { recs = append(recs, r...); return tt.insertErr }}
			q := &fakeQueue{retry: func(string) ([]sweep.Unit, error) { return tt.moved, tt.retryErr }}
			var out bytes.Buffer
			err := retry(context.Background(), st, q, "s", now, &out)
			if gotErr := fmt.Sprint(err); (tt.wantErr == "" && err != nil) || (tt.wantErr != "" && gotErr != tt.wantErr) {
				t.Errorf("retry = %v, want %q", err, tt.wantErr)
			}
			if len(recs) != tt.wantRecs {
				t.Fatalf("recorded %d units, want %d", len(recs), tt.wantRecs)
			}
			for i, r := range recs {
				want := sweep.UnitRecord{Scan: "s", Unit: tt.moved[i].Prefix.String(), Seq: tt.moved[i].Seq, State: sweep.UnitQueued,
					Worker: "coordinator retry", StartedAt: now, FinishedAt: now}
				if fmt.Sprintf("%+v", r) != fmt.Sprintf("%+v", want) {
					t.Errorf("record %d = %+v, want %+v", i, r, want)
				}
			}
			if out.String() != tt.wantOut {
				t.Errorf("retry printed %q, want %q", out.String(), tt.wantOut)
			}
		})
	}
}

func row(ip, ptr string) sweep.Row {
	return sweep.Row{IP: netip.MustParseAddr(ip), PTR: ptr, Status: sweep.StatusOK, TTL: 60, Scan: "s",
		ResolvedAt: time.Date(2026, 11, 22, 2, 15, 30, 0, time.UTC)}
}

func TestSearch(t *testing.T) {
	rows := []sweep.Row{row("198.18.0.1", "a.x.example"), row("198.18.0.1", "b.x.example"), row("198.18.0.2", "c.x.example"), row("198.18.1.9", "d.x.example")}
	tests := []struct {
		format, group string
		want          string
	}{
		{"ips", "", "198.18.0.1\n198.18.0.2\n198.18.1.9\n"},
		{"json", "", `{"ip":"198.18.0.1","ptr":"a.x.example","status":"ok","ttl":60,"scan":"s","resolved_at":"2026-11-22T02:15:30Z"}`},
		{"table", "netblock", "NETBLOCK       ASN  AS NAME  COUNTRY  ADDRESSES\n198.18.0.0/24  -    -        -        2\n198.18.1.0/24  -    -        -        1\n\n3 addresses\n"},
		{"json", "netblock", `{"netblock":"198.18.0.0/24","asn":0,"as_name":"","country":"","addresses":2}` + "\n" + `{"netblock":"198.18.1.0/24","asn":0,"as_name":"","country":"","addresses":1}` + "\n"},
		{"json", "asn", `{"asn":0,"as_name":"","addresses":3,"netblocks":["198.18.0.0/24","198.18.1.0/24"],"countries":[]}` + "\n"},
	}
	for _, tt := range tests {
		t.Run(tt.format+"/"+tt.group, func(t *testing.T) {
			var gotQuery store.Query
			st := &fakeStore{loadASN: func() (*enrich.Table, error) { return nil, store.ErrNoASNTable }, search: func(q store.Query, emit func(sweep.Row) error) error {
				gotQuery = q
				for _, r := range rows {
					if err := emit(r); err != nil {
						return err
					}
				}
				return nil
			}}
			var out bytes.Buffer
			confirmed := []sweep.FCrDNS{sweep.FCrDNSConfirmed}
			cfg := SearchConfig{Suffix: "x.example", Scan: "s", Format: tt.format, Group: tt.group, Filter: analytics.Filter{FCrDNS: confirmed}}
			if err := search(context.Background(), st, cfg, &out); err != nil {
				t.Fatal(err)
			}
			if want := (store.Query{Suffix: "x.example", Scan: "s", Filter: store.RowFilter{FCrDNS: confirmed}}); !reflect.DeepEqual(gotQuery, want) {
				t.Errorf("query = %+v, want %+v (the filter goes to the store)", gotQuery, want)
			}
			if got := out.String(); !strings.HasPrefix(got, tt.want) {
				t.Errorf("search --format %s --group %q printed\n%s\nwant it to start with\n%s", tt.format, tt.group, got, tt.want)
			}
		})
	}
}

func TestSearchErrorStops(t *testing.T) {
	st := &fakeStore{search: func(store.Query, func(sweep.Row) error) error { return errBoom }}
	if err := search(context.Background(), st, SearchConfig{Suffix: "x", Format: "csv"}, &bytes.Buffer{}); !errors.Is(err, errBoom) {
		t.Errorf("search = %v, want the store's error", err)
	}
}

func TestValidateFormats(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"search table", SearchConfig{Format: "table"}.Validate(), "<nil>"},
		{"search json netblock", SearchConfig{Format: "json", Group: "netblock"}.Validate(), "<nil>"},
		{"search xml", SearchConfig{Format: "xml"}.Validate(), `--format "xml": want ips, table, csv or json`},
		{"search jsonl", SearchConfig{Format: "jsonl"}.Validate(), `--format "jsonl": want ips, table, csv or json`},
		{"search group asn", SearchConfig{Format: "ips", Group: "asn"}.Validate(), "<nil>"},
		{"search group", SearchConfig{Format: "ips", Group: "city"}.Validate(), `bad grouping: --group "city": want netblock, asn or country`},
		{"export sonar", ValidateExportFormat("sonar"), "<nil>"},
		{"export csv", ValidateExportFormat("csv"), `--format "csv": want jsonl or sonar`},
		{"export empty", ValidateExportFormat(""), `--format "": want jsonl or sonar`},
	}
	for _, tt := range tests {
		if got := fmt.Sprint(tt.err); got != tt.want {
			t.Errorf("%s: %s, want %s", tt.name, got, tt.want)
		}
	}
}

func TestExport(t *testing.T) {
	rows := []sweep.Row{row("198.18.0.1", "a.x.example")}
	found := func(string) (sweep.ScanRecord, error) { return sweep.ScanRecord{Name: "s"}, nil }
	emitAll := func(scan string, emit func(sweep.Row) error) error {
		for _, r := range rows {
			if err := emit(r); err != nil {
				return err
			}
		}
		return nil
	}
	tests := []struct {
		name, format string
		st           *fakeStore
		want         string
	}{
		{"jsonl", "jsonl", &fakeStore{scan: found, export: emitAll},
			`{"ip":"198.18.0.1","ptr":"a.x.example","status":"ok","ttl":60,"scan":"s","resolved_at":"2026-11-22T02:15:30Z"}` + "\n"},
		{"sonar", "sonar", &fakeStore{scan: found, export: emitAll},
			`{"timestamp":"1795313730","name":"198.18.0.1","type":"ptr","value":"a.x.example"}` + "\n"},
		{"not found", "jsonl", &fakeStore{scan: func(string) (sweep.ScanRecord, error) { return sweep.ScanRecord{}, store.ErrScanNotFound }},
			`error: scan "s" not found in fakedb`},
		{"export fails", "jsonl", &fakeStore{scan: found, export: func(string, func(sweep.Row) error) error { return errBoom }}, "error: boom"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			got := ""
			if err := export(context.Background(), tt.st, "s", tt.format, analytics.Filter{}, &out); err != nil {
				got = "error: " + err.Error()
			} else {
				got = out.String()
			}
			if got != tt.want {
				t.Errorf("export --format %s = %q, want %q", tt.format, got, tt.want)
			}
		})
	}
}

// TestReportWaitsForFeeder: workers may finish a scan's last batch before
// the feeder saved its cursor; the scan is complete only once both are.
func TestReportWaitsForFeeder(t *testing.T) {
	rec := sweep.ScanRecord{Name: "s", Units: 4}
	for _, tt := range []struct {
		published int
		want      bool
	}{{2, false}, {4, true}} {
		st := &fakeStore{scan: func(string) (sweep.ScanRecord, error) { return rec, nil },
			progress: func(string) (store.Progress, error) { return store.Progress{UnitsDone: 4}, nil },
			cursor: func(string) (store.Cursor, bool, error) {
				return store.Cursor{Scan: "s", Planned: 4, Published: tt.published}, true, nil
			}}
		r, err := report(context.Background(), st, nil, "s")
		if err != nil {
			t.Fatal(err)
		}
		if r.Complete != tt.want || r.Feed == nil || r.Feed.Published != tt.published {
			t.Errorf("report with the cursor at %d of 4: Complete %v, Feed %+v; want Complete %v", tt.published, r.Complete, r.Feed, tt.want)
		}
	}
}
