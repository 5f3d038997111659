package coordinator

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ptrsweep/ptrsweep/internal/ingest"
	"github.com/ptrsweep/ptrsweep/internal/store"
	"github.com/ptrsweep/ptrsweep/internal/sweep"
)

// jsonlLines returns n export lines: every 10th address times out, the
// others have two PTRs (two lines each), line numbers counted from 1.
func jsonlLines(n int) []byte {
	var b bytes.Buffer
	for i := 0; b.Len() == 0 || strings.Count(b.String(), "\n") < n; i++ {
		ip := fmt.Sprintf("10.%d.%d.%d", byte(i>>16), byte(i>>8), byte(i))
		if i%10 == 0 {
			fmt.Fprintf(&b, `{"ip":"%s","ptr":"","status":"timeout","ttl":0,"scan":"x","resolved_at":"2026-11-22T02:15:30Z"}`+"\n", ip)
			continue
		}
		for p := range 2 {
			fmt.Fprintf(&b, `{"ip":"%s","ptr":"h%d-%d.example","status":"ok","ttl":60,"scan":"x","resolved_at":"2026-11-22T02:15:3%dZ"}`+"\n", ip, i, p, i%10)
		}
	}
	return b.Bytes()
}

// fakeInserter is a blockInserter of func fields.
type fakeInserter struct {
	insert func(*store.RowBlock) error
	close  func() error
}

func (f fakeInserter) Insert(b *store.RowBlock) error { return f.insert(b) }
func (f fakeInserter) Close() error                   { return f.close() }

// importFake is a store that records what an import writes.
func importFake() (*fakeStore, *[]sweep.UnitRecord, *[]sweep.ScanRecord) {
	var (
		mu    sync.Mutex
		units []sweep.UnitRecord
		scans []sweep.ScanRecord
	)
	f := &fakeStore{
		scan: func(string) (sweep.ScanRecord, error) { return sweep.ScanRecord{}, store.ErrScanNotFound },
		insertUnits: func(r []sweep.UnitRecord) error {
			mu.Lock()
			defer mu.Unlock()
			units = append(units, r...)
			return nil
		},
		saveScan: func(r sweep.ScanRecord) error { mu.Lock(); defer mu.Unlock(); scans = append(scans, r); return nil },
	}
	return f, &units, &scans
}

// TestImportRowsStoresEveryRow checks that every decoded row reaches an
// insert, through small batches and concurrent inserters, and that the
// unit and scan records count them.
func TestImportRowsStoresEveryRow(t *testing.T) {
	data := jsonlLines(2501)
	lines := bytes.Count(data, []byte("\n"))
	var stored, inserters atomic.Int64
	st, units, scans := importFake()
	inserter := func(context.Context) (blockInserter, error) {
		inserters.Add(1)
		var n int64
		return fakeInserter{
			insert: func(b *store.RowBlock) error {
				n += int64(b.Len())
				time.Sleep(time.Millisecond) // let blocks overlap
				return nil
			},
			close: func() error { stored.Add(n); return nil },
		}, nil
	}
	cfg := ImportConfig{Scan: "imp", Format: ingest.FormatJSONL, File: "x.jsonl", Batch: 100}
	sum, err := importRows(context.Background(), st, inserter, importInserters, cfg, bytes.NewReader(data), time.Time{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := stored.Load(); got != int64(lines) || sum.Stats.Rows != lines {
		t.Errorf("stored %d rows, summary %d, want %d (every line)", got, sum.Stats.Rows, lines)
	}
	if got := inserters.Load(); got != importInserters {
		t.Errorf("%d inserters started, want %d", got, importInserters)
	}
	if len(*units) != 1 || len(*scans) != 1 {
		t.Fatalf("unit records %d, scan records %d, want 1 each", len(*units), len(*scans))
	}
	u := (*units)[0]
	if int(u.Counts.PTRs+u.Counts.Timeout) != lines || u.Rows != uint32(lines) || u.Counts.OK != u.Counts.PTRs/2 {
		t.Errorf("unit record counts %+v rows %d, want %d rows, two PTRs an ok address", u.Counts, u.Rows, lines)
	}
	if got, want := (*scans)[0].Addresses, uint64(u.Counts.OK+u.Counts.Timeout); got != want {
		t.Errorf("scan record addresses %d, want %d", got, want)
	}
}

// TestImportRowsErrors checks that a failing insert and a malformed line
// each stop the import with their error, and no scan record is written.
func TestImportRowsErrors(t *testing.T) {
	data := jsonlLines(3000)
	// line 1501 is bad: 15 batches are stored before it
	ls := bytes.SplitAfter(data, []byte("\n"))
	ls[1500] = []byte(`{"ip":"10.0.0.1","ptr":"","status":"late","ttl":0,"resolved_at":"2026-11-22T02:15:30Z"}` + "\n")
	bad := bytes.Join(ls, nil)
	refused := errors.New("refused by the server")
	tests := []struct {
		name   string
		data   []byte
		insert func(calls int) error
		close  error
		want   string
	}{
		{"insert fails", data, func(calls int) error {
			if calls == 3 {
				return refused
			}
			return nil
		}, nil, "refused by the server"},
		{"end of insert fails", data, func(int) error { return nil }, refused, "refused by the server"},
		{"malformed line", bad, func(int) error { return nil }, nil, `x.jsonl:1501: unknown status "late"`},
	}
	for _, tt := range tests {
		var calls atomic.Int64
		st, _, scans := importFake()
		inserter := func(context.Context) (blockInserter, error) {
			return fakeInserter{
				insert: func(*store.RowBlock) error { return tt.insert(int(calls.Add(1))) },
				close:  func() error { return tt.close },
			}, nil
		}
		cfg := ImportConfig{Scan: "imp", Format: ingest.FormatJSONL, File: "x.jsonl", Batch: 100}
		_, err := importRows(context.Background(), st, inserter, importInserters, cfg, bytes.NewReader(tt.data), time.Time{}, nil)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: importRows error = %v, want one containing %q", tt.name, err, tt.want)
		}
		if len(*scans) != 0 {
			t.Errorf("%s: a scan record was written after the error", tt.name)
		}
	}
}
