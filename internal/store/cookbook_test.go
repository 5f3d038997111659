package store

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ptrsweep/ptrsweep/internal/enrich"
	"github.com/ptrsweep/ptrsweep/internal/sweep"
	"github.com/ptrsweep/ptrsweep/internal/testenv/lab"
)

// sqlBlock is one query of the cookbook and the text one of its result
// rows must contain.
type sqlBlock struct {
	line      int
	sql, want string
}

// cookbookBlocks extracts the ```sql blocks of docs/sql.md.
func cookbookBlocks(t *testing.T) []sqlBlock {
	t.Helper()
	b, err := os.ReadFile("../../docs/sql.md")
	if err != nil {
		t.Fatal(err)
	}
	var (
		out []sqlBlock
		cur *sqlBlock
	)
	for i, l := range strings.Split(string(b), "\n") {
		switch {
		case cur == nil && strings.TrimSpace(l) == "```sql":
			cur = &sqlBlock{line: i + 1}
		case cur != nil && strings.TrimSpace(l) == "```":
			out = append(out, *cur)
			cur = nil
		case cur != nil:
			if w, ok := strings.CutPrefix(strings.TrimSpace(l), "-- expect-row:"); ok {
				cur.want = strings.TrimSpace(w)
				continue
			}
			cur.sql += l + "\n"
		}
	}
	if cur != nil {
		t.Fatalf("docs/sql.md:%d: unterminated sql block", cur.line)
	}
	return out
}

// fillLab stores what a sweep of four of the lab's /24s stores (the lab's
// expected answers, with forward confirmation) as scan "lab", and an older
// scan "lab-old" in which one fleet address had another name and a nodata
// address had a name; and the IP-to-ASN table.
func fillLab(t *testing.T, s *Store) {
	t.Helper()
	ctx := context.Background()
	l, err := lab.New(lab.DefaultSpace)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Second)
	old := now.Add(-30 * 24 * time.Hour)
	var rows []sweep.Row
	for _, c := range []byte{0, 9, 11, 27} {
		unit := sweep.Unit{Scan: "lab", Prefix: netip.PrefixFrom(netip.AddrFrom4([4]byte{198, 18, c, 0}), 24)}
		for d := range 256 {
			ip := netip.AddrFrom4([4]byte{198, 18, c, byte(d)})
			e := l.Expect(ip)
			res := sweep.Result{IP: ip, Status: e.Status, TTL: e.TTL, PTRs: e.PTRs, ResolvedAt: now}
			rows = sweep.Rows(rows, unit, res)
			oldUnit := unit
			oldUnit.Scan = "lab-old"
			switch {
			case c == 11 && d == 1:
				res.PTRs = []sweep.PTR{{Name: "renamed-1.security.fleet.example", TTL: 300, FCrDNS: sweep.FCrDNSConfirmed}}
			case c == 9 && d == 1:
				res.Status, res.PTRs = sweep.StatusOK, []sweep.PTR{{Name: "gone.lab.example", TTL: 300}}
			}
			res.ResolvedAt = old
			rows = sweep.Rows(rows, oldUnit, res)
		}
	}
	// the lab's /17 in AS64500 (JP), 198.18.16.0/20 in AS64501 (US); the
	// rows of "lab" carry them as a worker with the table stores them,
	// those of "lab-old" were stored before a table was loaded (0, '')
	tab, _, err := enrich.LoadFile("../enrich/testdata/lab-asn.txt", enrich.FormatLocation)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range rows {
		if in, ok := tab.Lookup(r.IP); ok && r.Scan == "lab" {
			rows[i].ASN, rows[i].Country = in.ASN, in.Country
		}
	}
	if err := s.InsertRows(ctx, rows); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveASNTable(ctx, now, "asn.txt", "location", tab); err != nil {
		t.Fatal(err)
	}
	recs := []sweep.UnitRecord{}
	for _, scan := range []string{"lab", "lab-old"} {
		var c sweep.Counts
		for _, r := range rows {
			if r.Scan == scan && r.Status == sweep.StatusOK {
				c.PTRs++
			}
		}
		recs = append(recs, sweep.UnitRecord{Scan: scan, Unit: "198.18.0.0/24", State: sweep.UnitDone, Counts: c, StartedAt: now, FinishedAt: now})
	}
	if err := s.InsertUnits(ctx, recs); err != nil {
		t.Fatal(err)
	}
}

// TestCookbook runs every query of docs/sql.md against the lab's data and
// checks that it returns rows, one of them holding the text its
// "-- expect-row:" line names.
func TestCookbook(t *testing.T) {
	blocks := cookbookBlocks(t)
	if len(blocks) < 10 {
		t.Fatalf("docs/sql.md has %d sql blocks, want the whole cookbook", len(blocks))
	}
	s := openTest(t)
	fillLab(t, s)
	ctx := context.Background()
	for _, b := range blocks {
		rows, err := s.conn.Query(ctx, b.sql)
		if err != nil {
			t.Errorf("docs/sql.md:%d: %v\n%s", b.line, err, b.sql)
			continue
		}
		var (
			n     int
			found = b.want == ""
			first string
		)
		cols := rows.ColumnTypes()
		for rows.Next() {
			vals := make([]any, len(cols))
			for i, c := range cols {
				vals[i] = reflect.New(c.ScanType()).Interface()
			}
			if err := rows.Scan(vals...); err != nil {
				t.Fatalf("docs/sql.md:%d: scan: %v", b.line, err)
			}
			var text []string
			for _, v := range vals {
				text = append(text, fmt.Sprint(reflect.ValueOf(v).Elem().Interface()))
			}
			line := strings.Join(text, "\t")
			if n == 0 {
				first = line
			}
			if strings.Contains(line, b.want) {
				found = true
			}
			n++
		}
		if err := rows.Err(); err != nil {
			t.Errorf("docs/sql.md:%d: %v", b.line, err)
		}
		rows.Close()
		if n == 0 || !found {
			t.Errorf("docs/sql.md:%d: %d rows (first %q), want rows with one containing %q", b.line, n, first, b.want)
		}
	}
}
