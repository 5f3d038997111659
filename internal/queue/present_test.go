package queue

import (
	"context"
	"errors"
	"maps"
	"slices"
	"testing"

	"github.com/ptrsweep/ptrsweep/internal/sweep"
)

func TestPresentAndQueued(t *testing.T) {
	t.Parallel()
	q := connect(t, startServer(t), Config{})
	ctx := context.Background()
	// Units at positions 0..9 and 4094..4101, straddling a bucket border.
	all := testUnits("pres", 5000)
	var us []sweep.Unit
	us = append(us, all[:10]...)
	us = append(us, all[4094:4102]...)
	publish(t, q, us)
	publish(t, q, testUnits("other", 3))

	if got, err := q.Queued(ctx, "pres"); err != nil || got != len(us) {
		t.Errorf("Queued(pres) = %d, %v, want %d", got, err, len(us))
	}
	// Take the first two deliveries (positions 0 and 1) and acknowledge them.
	ds, err := q.Fetch(ctx, 2)
	if err != nil || len(ds) != 2 {
		t.Fatalf("Fetch(2) = %d, %v", len(ds), err)
	}
	for _, d := range ds {
		if err := d.Ack(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if got, err := q.Queued(ctx, "pres"); err != nil || got != len(us)-2 {
		t.Errorf("Queued(pres) after 2 acks = %d, %v, want %d", got, err, len(us)-2)
	}
	tests := []struct {
		from, to int
		want     []int
	}{
		{0, 5, []int{2, 3, 4}},
		{4090, 4100, []int{4094, 4095, 4096, 4097, 4098, 4099}},
		{8, 4096, []int{8, 9, 4094, 4095}},
		{20, 20, nil},
		{4200, 5000, nil},
	}
	for _, tt := range tests {
		got, err := q.Present(ctx, "pres", tt.from, tt.to)
		if err != nil {
			t.Fatalf("Present(%d, %d): %v", tt.from, tt.to, err)
		}
		if keys := slices.Sorted(maps.Keys(got)); !slices.Equal(keys, tt.want) {
			t.Errorf("Present(%d, %d) = %v, want %v", tt.from, tt.to, keys, tt.want)
		}
	}
	if _, err := q.Present(ctx, "a.b", 0, 1); !errors.Is(err, sweep.ErrScanName) {
		t.Errorf("Present(a.b) error = %v, want sweep.ErrScanName", err)
	}
	if _, err := q.Present(ctx, "pres", 5, 4); err == nil {
		t.Errorf("Present(5, 4) = nil error, want a bad range")
	}
}

func TestSubjectScan(t *testing.T) {
	tests := []struct{ subject, want string }{
		{workSubject(sweep.Unit{Scan: "s1", Seq: 9000}), "s1"},
		{"ptrsweep.units.s1.2", "s1"},
		{"ptrsweep.units.old-scan", "old-scan"},
	}
	for _, tt := range tests {
		if got := subjectScan(tt.subject); got != tt.want {
			t.Errorf("subjectScan(%q) = %q, want %q", tt.subject, got, tt.want)
		}
	}
	if got, want := workSubject(sweep.Unit{Scan: "s1", Seq: 9000}), "ptrsweep.units.s1.2"; got != want {
		t.Errorf("workSubject(seq 9000) = %q, want %q", got, want)
	}
}
