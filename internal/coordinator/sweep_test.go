package coordinator

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ptrsweep/ptrsweep/internal/resolve"
	"github.com/ptrsweep/ptrsweep/internal/store"
	"github.com/ptrsweep/ptrsweep/internal/sweep"
)

func TestSummarise(t *testing.T) {
	p := testPlan(t, "sm", "198.18.0.0/22")
	failed := []sweep.UnitRecord{{Unit: "198.18.2.0/24", Error: "refused by exclude"}}
	tests := []struct {
		name    string
		prog    *store.Progress
		waitErr error
		want    Summary
		wantErr string
	}{
		{"no reading, interrupted", nil, context.Canceled,
			Summary{Scan: "sm", Units: 4, Addresses: 1024, Elapsed: time.Second}, "context canceled"},
		{"all done", &store.Progress{UnitsDone: 4, Rows: 9, Counts: sweep.Counts{OK: 9, NXDomain: 1015, Queries: 1100}},
			nil, Summary{Scan: "sm", Units: 4, Addresses: 1024, Rows: 9, Counts: sweep.Counts{OK: 9, NXDomain: 1015, Queries: 1100}, Elapsed: time.Second}, ""},
		{"one failed", &store.Progress{UnitsDone: 3, UnitsFailed: 1, FailedUnits: failed}, nil,
			Summary{Scan: "sm", Units: 4, Addresses: 1024, UnitsFailed: 1, Failed: failed, Elapsed: time.Second}, "scan finished with failed units: 1 of 4 units"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := summarise(p, tt.prog, time.Second, resolve.Stats{}, tt.waitErr)
			if (err == nil) != (tt.wantErr == "") || (err != nil && err.Error() != tt.wantErr) {
				t.Errorf("summarise error = %v, want %q", err, tt.wantErr)
			}
			if got.Scan != tt.want.Scan || got.Units != tt.want.Units || got.Addresses != tt.want.Addresses || got.UnitsFailed != tt.want.UnitsFailed ||
				got.Rows != tt.want.Rows || got.Counts != tt.want.Counts || got.Elapsed != tt.want.Elapsed || len(got.Failed) != len(tt.want.Failed) {
				t.Errorf("summarise = %+v, want %+v", got, tt.want)
			}
		})
	}
	if _, err := summarise(p, &store.Progress{UnitsFailed: 1}, time.Second, resolve.Stats{}, nil); !errors.Is(err, ErrUnitsFailed) {
		t.Errorf("summarise with a failed unit = %v, want ErrUnitsFailed", err)
	}
}

func TestSummaryPrint(t *testing.T) {
	s := Summary{Scan: "sm", Units: 4, Addresses: 1024, Rows: 9, UnitsFailed: 1, Elapsed: 2 * time.Second,
		Counts: sweep.Counts{OK: 9, NXDomain: 1014, Timeout: 1, PTRs: 9, Pruned: 768, Queries: 300},
		Failed: []sweep.UnitRecord{{Unit: "198.18.2.0/24", Error: "store down"}}}
	var out bytes.Buffer
	s.Print(&out)
	want := `scan sm: 1024 addresses in 4 units, 9 PTRs on 9 addresses, 9 rows stored
outcomes: ok=9 nxdomain=1014 nodata=0 servfail=0 refused=0 timeout=1 (pruned 768)
300 queries in 2s: 150 qps, 512 addresses/s
1 units FAILED (kept in the dead-letter stream; retry with: coordinator retry --scan sm):
  198.18.2.0/24: store down
`
	if out.String() != want {
		t.Errorf("Print wrote\n%s\nwant\n%s", out.String(), want)
	}
}

func TestWait(t *testing.T) {
	readings := []store.Progress{{UnitsDone: 1}, {UnitsDone: 3, UnitsFailed: 1, Counts: sweep.Counts{OK: 2, NXDomain: 766, PTRs: 2}}}
	reads := 0
	st := &fakeStore{progress: func(string) (store.Progress, error) {
		if reads == 0 {
			reads++
			return store.Progress{}, errBoom
		}
		p := readings[min(reads-1, len(readings)-1)]
		reads++
		return p, nil
	}}
	var out bytes.Buffer
	got, err := wait(context.Background(), st, "w", 4, 1024, waitOptions{out: &out, poll: time.Millisecond, interval: time.Hour})
	if err != nil || got == nil || got.UnitsDone != 3 || got.UnitsFailed != 1 {
		t.Fatalf("wait = %+v, %v; want the last reading (3 done, 1 failed)", got, err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 2 || lines[0] != "progress: boom (retrying)" ||
		!strings.HasPrefix(lines[1], "scan w: 4/4 units (100.0%), 1 failed, 768 addresses, 2 PTRs, ") || !strings.HasSuffix(lines[1], "ETA -") {
		t.Errorf("wait printed %q, want the read error, then one final line", lines)
	}
}

func TestWaitEndsOnComponentError(t *testing.T) {
	st := &fakeStore{progress: func(string) (store.Progress, error) { return store.Progress{UnitsDone: 1}, nil }}
	errs := make(chan error, 1)
	errs <- errBoom
	got, err := wait(context.Background(), st, "w", 4, 1024, waitOptions{poll: time.Millisecond, errs: errs})
	if !errors.Is(err, errBoom) || got == nil || got.UnitsDone != 1 {
		t.Errorf("wait = %+v, %v; want the first reading and the component's error", got, err)
	}
}
