package store

import (
	"context"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/ptrsweep/ptrsweep/internal/sweep"
)

func TestCursor(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	if _, found, err := s.Cursor(ctx, "c"); err != nil || found {
		t.Fatalf("Cursor of an unknown scan = found %v, %v; want not found, nil", found, err)
	}
	t0 := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	saves := []Cursor{
		{Scan: "c", Planned: 100, Published: 0, InFlight: 16, UpdatedAt: t0},
		{Scan: "c", Planned: 100, Published: 48, InFlight: 16, UpdatedAt: t0.Add(time.Second)},
		{Scan: "c", Planned: 100, Published: 32, InFlight: 16, UpdatedAt: t0.Add(2 * time.Second)}, // older, saved late
		{Scan: "other", Planned: 7, Published: 7, UpdatedAt: t0},
	}
	for _, c := range saves {
		if err := s.SaveCursor(ctx, c); err != nil {
			t.Fatalf("SaveCursor(%+v): %v", c, err)
		}
	}
	got, found, err := s.Cursor(ctx, "c")
	if err != nil || !found {
		t.Fatalf("Cursor(c) = found %v, %v", found, err)
	}
	if want := saves[1]; got != want {
		t.Errorf("Cursor(c) = %+v, want the highest %+v", got, want)
	}
	if got.Done() {
		t.Errorf("Cursor(c).Done() = true at 48 of 100")
	}
	if got, _, _ := s.Cursor(ctx, "other"); !got.Done() {
		t.Errorf("Cursor(other) = %+v, want Done", got)
	}
	bad := []Cursor{{Planned: 1}, {Scan: "x", Planned: 1, Published: 2}, {Scan: "x", Planned: 1, InFlight: -1}}
	for _, c := range bad {
		if err := s.SaveCursor(ctx, c); err == nil {
			t.Errorf("SaveCursor(%+v) = nil, want an error", c)
		}
	}
}

func TestLogged(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Second)
	recs := []sweep.UnitRecord{
		{Scan: "l", Unit: "198.18.0.0/24", Seq: 3, State: sweep.UnitDone, StartedAt: now, FinishedAt: now},
		{Scan: "l", Unit: "198.18.1.0/24", Seq: 5, State: sweep.UnitFailed, StartedAt: now, FinishedAt: now},
		{Scan: "l", Unit: "198.18.1.0/24", Seq: 5, State: sweep.UnitQueued, StartedAt: now, FinishedAt: now.Add(time.Second)},
		{Scan: "l", Unit: "198.18.2.0/24", Seq: 9, State: sweep.UnitDone, StartedAt: now, FinishedAt: now},
		{Scan: "m", Unit: "198.18.3.0/24", Seq: 4, State: sweep.UnitDone, StartedAt: now, FinishedAt: now},
	}
	if err := s.InsertUnits(ctx, recs); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		from, to int
		want     []int
	}{
		{0, 9, []int{3, 5}},
		{0, 10, []int{3, 5, 9}},
		{4, 5, nil},
		{6, 6, nil},
	}
	for _, tt := range tests {
		got, err := s.Logged(ctx, "l", tt.from, tt.to)
		if err != nil {
			t.Fatalf("Logged(%d, %d): %v", tt.from, tt.to, err)
		}
		if keys := slices.Sorted(maps.Keys(got)); !slices.Equal(keys, tt.want) {
			t.Errorf("Logged(l, %d, %d) = %v, want %v", tt.from, tt.to, keys, tt.want)
		}
	}
}
