package analytics

import (
	"context"
	"errors"
	"reflect"
	"testing"

	"github.com/ptrsweep/ptrsweep/internal/cidr"
	"github.com/ptrsweep/ptrsweep/internal/sweep"
)

func rowsStream(rows []sweep.Row) func(func(sweep.Row) error) error {
	return func(emit func(sweep.Row) error) error {
		for _, r := range rows {
			if err := emit(r); err != nil {
				return err
			}
		}
		return nil
	}
}

func TestDiff(t *testing.T) {
	fail := func(ip string, st sweep.Status) sweep.Row {
		return sweep.Row{Scan: "x", IP: okRow("", ip, "").IP, Status: st}
	}
	from := []sweep.Row{
		okRow("a", "10.0.0.1", "same.example"),
		okRow("a", "10.0.0.2", "gone.example"),
		okRow("a", "10.0.0.3", "old.example"),
		okRow("a", "10.0.0.5", "was.example"),
		fail("10.0.0.6", sweep.StatusNoData),
		okRow("a", "10.0.0.7", "one.example"),
		okRow("a", "10.0.0.7", "two.example"),
	}
	to := []sweep.Row{
		okRow("b", "10.0.0.1", "same.example"),
		okRow("b", "10.0.0.3", "new.example"),
		okRow("b", "10.0.0.4", "fresh.example"),
		fail("10.0.0.5", sweep.StatusTimeout),
		okRow("b", "10.0.0.6", "named.example"),
		okRow("b", "10.0.0.7", "two.example"),
		okRow("b", "10.0.0.7", "one.example"),
	}
	var got []Change
	counts, err := Diff(context.Background(), rowsStream(from), rowsStream(to), func(c Change) error { got = append(got, c); return nil })
	if err != nil {
		t.Fatal(err)
	}
	want := []Change{
		{"10.0.0.2", Disappeared, []string{"gone.example"}, []string{}},
		{"10.0.0.3", Changed, []string{"old.example"}, []string{"new.example"}},
		{"10.0.0.4", Appeared, []string{}, []string{"fresh.example"}},
		{"10.0.0.6", Appeared, []string{}, []string{"named.example"}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Diff changes =\n%+v\nwant\n%+v", got, want)
	}
	if wantCounts := (DiffCounts{Appeared: 2, Disappeared: 1, Changed: 1, Unchanged: 2, Unresolved: 1}); counts != wantCounts {
		t.Errorf("Diff counts = %+v, want %+v", counts, wantCounts)
	}

	// an emit error stops both streams and comes back
	boom := errors.New("boom")
	big := make([]sweep.Row, 0, 5000)
	for i := range 5000 {
		r := okRow("a", "10.0.0.1", "x.example")
		r.IP = cidr.Uint32ToAddr(0x0a000000 + uint32(i))
		big = append(big, r)
	}
	if _, err := Diff(context.Background(), rowsStream(big), rowsStream(nil), func(Change) error { return boom }); !errors.Is(err, boom) {
		t.Errorf("Diff with a failing emit = %v, want boom", err)
	}
	if _, err := Diff(context.Background(), rowsStream(nil), func(func(sweep.Row) error) error { return boom }, func(Change) error { return nil }); !errors.Is(err, boom) {
		t.Errorf("Diff with a failing stream = %v, want boom", err)
	}
}
