package store

import (
	"cmp"
	"context"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/ptrsweep/ptrsweep/internal/sweep"
)

// referenceExport is what Export read before it read ptr_by_ip in chunks:
// ptr with FINAL, joined with the superseded entries, sorted by the server.
// TestExportMatchesFinal compares the two.
// With a filter, its condition applies to the rows FINAL collapsed.
func referenceExport(t *testing.T, s *Store, scan string, filter RowFilter) []sweep.Row {
	t.Helper()
	from, args := currentRows("ptr FINAL", scan)
	cond, condArgs := filter.where()
	query := "SELECT " + rowColumns + " FROM " + from + " WHERE attempt >= below AND scan = ?" + cond + " ORDER BY ip, ptr"
	return collect(t, func(emit func(sweep.Row) error) error {
		f := &oneOutcome{emit: emit}
		if err := s.stream(context.Background(), query, append(append(args, scan), condArgs...), f.add); err != nil {
			return err
		}
		return f.flush()
	})
}

// TestExportMatchesFinal checks that the chunked export without FINAL and
// without the superseded join gives exactly the rows of ptr FINAL joined
// with superseded, on a scan with what makes them differ: rows stored
// again by the same attempt (an insert retried), by a later attempt with
// other answers (a redelivery, with and without its superseded entry), by
// a late worker of an earlier attempt after the redelivery, an outcome
// that changed between two stores of one attempt, and several parts not
// yet merged. Chunks of 50 rows put chunk boundaries everywhere.
func TestExportMatchesFinal(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(1, 2))
	const scan = "s"
	var units []netip.Prefix
	for i := range 12 {
		units = append(units, netip.PrefixFrom(netip.AddrFrom4([4]byte{byte(10 + 20*i), byte(i), 7, 0}), 24))
	}
	statuses := []sweep.Status{sweep.StatusNoData, sweep.StatusServFail, sweep.StatusRefused, sweep.StatusTimeout}
	attemptRows := func(u netip.Prefix, attempt uint64, at time.Time, variant int) []sweep.Row {
		var rows []sweep.Row
		a := u.Addr()
		for range 40 {
			base := sweep.Row{Scan: scan, Unit: u.String(), IP: a, TTL: uint32(rng.IntN(3600)), ResolvedAt: at, Attempt: attempt}
			switch k := rng.IntN(4); k {
			case 0: // no PTR
				r := base
				r.Status = statuses[rng.IntN(len(statuses))]
				rows = append(rows, r)
			default: // k PTRs, some of them depending on the attempt
				for p := range k {
					r := base
					r.Status, r.FCrDNS = sweep.StatusOK, sweep.FCrDNS(rng.IntN(6))
					r.PTR = fmt.Sprintf("h%d-%d.v%d.example", a.As4()[3], p, variant*(p%2))
					rows = append(rows, r)
				}
			}
			a = a.Next()
		}
		return rows
	}
	insert := func(rows []sweep.Row) {
		t.Helper()
		if err := s.InsertRows(ctx, rows); err != nil {
			t.Fatal(err)
		}
	}
	var sup []Supersede
	for i, u := range units {
		att1, att2 := uint64(i+1)<<16|1, uint64(i+1)<<16|2
		first := attemptRows(u, att1, t0, 1)
		insert(first)
		switch i % 6 {
		case 1: // the same attempt stored again (a retried insert)
			insert(first)
		case 2: // a redelivery with other answers and its superseded entry
			insert(attemptRows(u, att2, t0.Add(time.Hour), 2))
			sup = append(sup, Supersede{Scan: scan, Unit: u.String(), Below: att2})
		case 3: // a redelivery, then a late worker of the first attempt
			insert(attemptRows(u, att2, t0.Add(time.Hour), 2))
			sup = append(sup, Supersede{Scan: scan, Unit: u.String(), Below: att2})
			insert(first)
		case 4: // a redelivery whose superseded entry is not stored yet
			insert(attemptRows(u, att2, t0.Add(time.Hour), 2))
		case 5: // one attempt stored twice with outcomes that changed
			again := slices.Clone(first)
			for j := range again {
				if again[j].Status != sweep.StatusOK {
					again[j].Status = sweep.StatusTimeout
				}
				again[j].ResolvedAt = t0.Add(time.Minute)
			}
			insert(again)
		}
	}
	// a stale entry of an older attempt changes nothing
	sup = append(sup, Supersede{Scan: scan, Unit: units[2].String(), Below: 1})
	if err := s.InsertSuperseded(ctx, sup); err != nil {
		t.Fatal(err)
	}
	// another scan over the same addresses is not exported
	other := attemptRows(units[0], 9, t0, 3)
	for i := range other {
		other[i].Scan = "other"
	}
	insert(other)

	want := referenceExport(t, s, scan, RowFilter{})
	if len(want) < 500 {
		t.Fatalf("reference export has %d rows, want a bigger test", len(want))
	}
	ranges, _, err := s.exportRanges(ctx, scan, 50)
	if err != nil {
		t.Fatal(err)
	}
	if len(ranges) < 5 {
		t.Errorf("exportRanges(50 rows a chunk) = %d ranges, want several", len(ranges))
	}
	for _, chunk := range []uint64{50, 333, exportChunkRows} {
		got := collect(t, func(emit func(sweep.Row) error) error { return s.exportRows(ctx, scan, RowFilter{}, chunk, true, emit) })
		if len(got) != len(want) {
			t.Errorf("chunks of %d rows: export = %d rows, want %d (as ptr FINAL with the superseded join)", chunk, len(got), len(want))
		}
		for i := range min(len(got), len(want)) {
			if got[i] != want[i] {
				t.Errorf("chunks of %d rows: export row %d = %+v, want %+v", chunk, i, got[i], want[i])
				break
			}
		}
	}
	// Without full rows: the same rows without unit and routing (the
	// unit still read to drop superseded attempts).
	got := collect(t, func(emit func(sweep.Row) error) error { return s.exportRows(ctx, scan, RowFilter{}, 333, false, emit) })
	if plain := withoutRouting(want); !slices.Equal(got, plain) {
		t.Errorf("export without unit and routing: %d rows, want %d, the same rows as the full export with Unit, ASN and Country empty", len(got), len(plain))
	}
	// A filter selects among the current rows, as a WHERE after FINAL did:
	// a stale copy of a row whose current copy it rejects stays out.
	for _, f := range []RowFilter{
		{Statuses: []sweep.Status{sweep.StatusTimeout}},
		{Statuses: []sweep.Status{sweep.StatusOK, sweep.StatusServFail}},
		{FCrDNS: []sweep.FCrDNS{sweep.FCrDNSNone}},
	} {
		want := referenceExport(t, s, scan, f)
		got := collect(t, func(emit func(sweep.Row) error) error { return s.exportRows(ctx, scan, f, 50, true, emit) })
		if len(want) == 0 || !slices.Equal(got, want) {
			t.Errorf("filter %+v: export = %d rows, want %d, the same as ptr FINAL with the superseded join and the filter", f, len(got), len(want))
		}
	}
	// After merges the two agree too.
	if err := s.Exec(ctx, "OPTIMIZE TABLE ptr_by_ip FINAL"); err != nil {
		t.Fatal(err)
	}
	got = collect(t, func(emit func(sweep.Row) error) error { return s.exportRows(ctx, scan, RowFilter{}, 50, true, emit) })
	if !slices.Equal(got, want) {
		t.Errorf("after OPTIMIZE: export differs from ptr FINAL with the superseded join (%d rows, want %d)", len(got), len(want))
	}
}

func TestCutRanges(t *testing.T) {
	tests := []struct {
		bounds []uint32
		want   []ipRange
	}{
		{nil, []ipRange{{0, 1 << 32}}},
		{[]uint32{10, 10, 20}, []ipRange{{0, 10}, {10, 20}, {20, 1 << 32}}},
		{[]uint32{0, 5}, []ipRange{{0, 5}, {5, 1 << 32}}},
		{[]uint32{1<<32 - 1}, []ipRange{{0, 1<<32 - 1}, {1<<32 - 1, 1 << 32}}},
	}
	for _, tt := range tests {
		if got := cutRanges(tt.bounds); !slices.Equal(got, tt.want) {
			t.Errorf("cutRanges(%v) = %v, want %v", tt.bounds, got, tt.want)
		}
	}
}

// TestPrepareRowsOrder checks that a prepared block is sorted by ptr's
// sort key (rname, ip, scan) with rows of equal keys in their order (the
// later one wins a ReplacingMergeTree tie), and that a reused block holds
// only its new rows.
func TestPrepareRowsOrder(t *testing.T) {
	row := func(scan, ip, ptr string, ttl uint32) sweep.Row {
		r := okRow(scan, ip, ptr)
		if ptr == "" {
			r.Status = sweep.StatusTimeout
		}
		r.TTL = ttl
		return r
	}
	rows := []sweep.Row{
		row("s", "10.0.0.2", "b.example", 1),
		row("s", "10.0.0.1", "b.example", 2),
		row("s", "10.0.0.9", "", 3),
		row("s", "10.0.0.1", "a.example", 4),
		row("r", "10.0.0.1", "b.example", 5),
		row("s", "10.0.0.1", "b.example", 6), // same key as ttl 2, later
		row("s", "10.0.0.3", "x.a.example", 7),
	}
	b, err := PrepareRows(rows)
	if err != nil {
		t.Fatal(err)
	}
	var got []uint32
	for i := range b.Len() {
		got = append(got, b.ttls[i])
	}
	// "" < example.a < example.a.x < example.b; then ip; then scan
	if want := []uint32{3, 4, 7, 5, 2, 6, 1}; !slices.Equal(got, want) {
		t.Errorf("PrepareRows order (by ttl) = %v, want %v", got, want)
	}
	for i := range b.Len() {
		if want := sweep.ReverseLabels(b.ptrs[i]); b.rnames[i] != want {
			t.Errorf("row %d: rname %q for ptr %q, want %q", i, b.rnames[i], b.ptrs[i], want)
		}
	}
	if err := b.Reset(rows, false); err != nil || !slices.Equal(b.ttls, []uint32{1, 2, 3, 4, 5, 6, 7}) || b.rnames[0] != "example.b" {
		t.Errorf("Reset(rows, unsorted) = %v: ttls %v, rnames %q; want the rows' order", err, b.ttls, b.rnames)
	}
	if err := b.Reset(rows[:2], true); err != nil || b.Len() != 2 || b.ttls[0] != 2 || b.rnames[1] != "example.b" {
		t.Errorf("Reset(2 rows) = %v: %d rows, ttls %v, rnames %q; want 2 rows, ttls [2 1]", err, b.Len(), b.ttls, b.rnames)
	}
	bad := rows[:1:1]
	bad[0].IP = netip.MustParseAddr("2001:db8::1")
	if err := b.Reset(bad, true); err == nil || b.Len() != 0 {
		t.Errorf("Reset(an IPv6 row) = %v with %d rows, want an error and no rows", err, b.Len())
	}
}

// TestPrepareRowsSortRandom holds the block's sort to a plain stable sort
// by (rname, ip, scan) on names that share long prefixes, end inside the
// compared bytes, hold escapes and repeat.
func TestPrepareRowsSortRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	labels := []string{"a", "b", "example", "isp-12", "dyn", `x\000`, `\ `, "host-1-2-3-4", "net", "zz"}
	for round := range 50 {
		var rows []sweep.Row
		for i := range 1 + rng.IntN(300) {
			parts := []string{"net", "example"}[:rng.IntN(3)%3]
			for range rng.IntN(4) {
				parts = append(parts, labels[rng.IntN(len(labels))])
			}
			slices.Reverse(parts)
			ptr := ""
			for j, p := range parts {
				if j > 0 {
					ptr += "."
				}
				ptr += p
			}
			r := sweep.Row{Scan: []string{"s", "r"}[rng.IntN(2)], IP: netip.AddrFrom4([4]byte{10, 0, 0, byte(rng.IntN(4))}),
				PTR: ptr, Status: sweep.StatusOK, TTL: uint32(i), ResolvedAt: t0}
			if ptr == "" {
				r.Status = sweep.StatusTimeout
			}
			rows = append(rows, r)
		}
		want := slices.Clone(rows)
		slices.SortStableFunc(want, func(x, y sweep.Row) int {
			if c := cmp.Compare(sweep.ReverseLabels(x.PTR), sweep.ReverseLabels(y.PTR)); c != 0 {
				return c
			}
			if c := x.IP.Compare(y.IP); c != 0 {
				return c
			}
			return cmp.Compare(x.Scan, y.Scan)
		})
		b, err := PrepareRows(rows)
		if err != nil {
			t.Fatal(err)
		}
		for i := range want {
			if b.ttls[i] != want[i].TTL {
				t.Fatalf("round %d: row %d is input row %d (%q), want %d (%q)", round, i, b.ttls[i], b.ptrs[i], want[i].TTL, want[i].PTR)
			}
		}
	}
}

// benchRows returns n rows of ISP-like names in address order, as an
// export writes them, 7% of them without a PTR.
func benchRows(n int) []sweep.Row {
	rows := make([]sweep.Row, n)
	for i := range rows {
		ip := netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
		rows[i] = sweep.Row{Scan: "bench", Unit: "import", IP: ip, PTR: fmt.Sprintf("10-%d-%d-%d.dyn.isp%d.example.net", byte(i>>16), byte(i>>8), byte(i), i*7919%1000),
			Status: sweep.StatusOK, TTL: 3600, ResolvedAt: t0}
		if i%20 == 1 || i%50 == 3 { // as the scale harness's data
			rows[i].PTR, rows[i].Status = "", sweep.StatusNoData
		}
	}
	return rows
}

// BenchmarkPrepareRows measures putting 100k rows in address order into
// a block sorted by ptr's key: the client's part of an insert before the
// driver's.
func BenchmarkPrepareRows(b *testing.B) {
	rows := benchRows(100_000)
	var blk RowBlock
	b.ReportAllocs()
	for b.Loop() {
		if err := blk.Reset(rows, true); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(rows))*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

// TestRowInserter checks that blocks sent as one INSERT are all stored,
// each sorted and read back like rows of InsertRows.
func TestRowInserter(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	rows := benchRows(3000)
	ins, err := s.NewRowInserter(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var b RowBlock
	for i := 0; i < len(rows); i += 1000 {
		if err := b.Reset(rows[i:i+1000], false); err != nil {
			t.Fatal(err)
		}
		if err := ins.Insert(&b); err != nil {
			t.Fatal(err)
		}
	}
	if err := ins.Close(); err != nil {
		t.Fatal(err)
	}
	got := collect(t, func(emit func(sweep.Row) error) error { return s.Export(ctx, "bench", emit) })
	if len(got) != len(rows) {
		t.Fatalf("Export after 3 blocks of one INSERT = %d rows, want %d", len(got), len(rows))
	}
	for i := range rows {
		if got[i] != rows[i] {
			t.Fatalf("row %d = %+v, want %+v", i, got[i], rows[i])
		}
	}
}

// TestExportOneConnection checks that an export through a pool of one
// connection (max_open_conns=1), whose chunks then run one after the
// other, reads every row, also with a slow writer.
func TestExportOneConnection(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	const rows = 2000
	if err := s.InsertRows(ctx, benchRows(rows)); err != nil {
		t.Fatal(err)
	}
	o := s.opts
	o.MaxOpenConns, o.DialTimeout = 1, 500*time.Millisecond
	one, err := OpenOptions(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	defer one.Close()
	n := 0
	err = one.exportRows(ctx, "bench", RowFilter{}, rows/4, true, func(sweep.Row) error {
		if n == 0 {
			time.Sleep(time.Second) // a slow writer
		}
		n++
		return nil
	})
	if err != nil || n != rows {
		t.Errorf("export through one connection: %d rows, error %v; want %d rows", n, err, rows)
	}
}

// TestExportBatchesKeepAddresses checks an export whose chunk comes from
// two parts, so out of order (the client sorts it): every address's rows,
// stored out of ptr order and some in two copies, come out once each,
// sorted by ptr, as from ptr FINAL.
func TestExportBatchesKeepAddresses(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	at := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	var rows []sweep.Row
	for i := range 5000 {
		ip := netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
		for _, p := range []string{"z", "m", "a"}[:1+i%3] {
			rows = append(rows, sweep.Row{Scan: "b", Unit: "10.0.0.0/16", IP: ip, PTR: fmt.Sprintf("%s%d.example", p, i),
				Status: sweep.StatusOK, TTL: 60, ResolvedAt: at, Attempt: 1})
		}
	}
	if err := s.InsertRows(ctx, rows); err != nil {
		t.Fatal(err)
	}
	if err := s.InsertRows(ctx, rows[:3000]); err != nil { // copies in another part
		t.Fatal(err)
	}
	want := referenceExport(t, s, "b", RowFilter{})
	if len(want) != len(rows) {
		t.Fatalf("reference export has %d rows, want %d", len(want), len(rows))
	}
	got := collect(t, func(emit func(sweep.Row) error) error {
		return s.exportRows(ctx, "b", RowFilter{}, exportChunkRows, true, emit)
	})
	if !slices.Equal(got, want) {
		t.Errorf("export of %d rows in one chunk differs from ptr FINAL (%d rows, want %d)", len(rows), len(got), len(want))
	}
	got = collect(t, func(emit func(sweep.Row) error) error {
		return s.exportRows(ctx, "b", RowFilter{}, exportChunkRows, false, emit)
	})
	if plain := withoutRouting(want); !slices.Equal(got, plain) {
		t.Errorf("export without unit and routing: %d rows, want %d as the full export with Unit, ASN and Country empty", len(got), len(plain))
	}
}

// withoutRouting returns rows with Unit, ASN and Country empty, as
// ExportWhere reads them.
func withoutRouting(rows []sweep.Row) []sweep.Row {
	out := slices.Clone(rows)
	for i := range out {
		out[i].Unit, out[i].ASN, out[i].Country = "", 0, ""
	}
	return out
}

// TestSortExportRows holds the merge of runs to a plain sort by (ip, ptr),
// for any number of runs, equal rows and an empty chunk.
func TestSortExportRows(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for round := range 200 {
		n := rng.IntN(300)
		rows := make([]exportRow, n)
		for i := range rows {
			rows[i] = exportRow{ip: uint32(rng.IntN(40)), ptr: fmt.Sprintf("h%d", rng.IntN(3)), ttl: uint32(i)}
		}
		// cut into runs, each sorted, as parts come
		for lo := 0; lo < n; {
			hi := min(n, lo+1+rng.IntN(1+n/(1+round%7)))
			slices.SortStableFunc(rows[lo:hi], func(a, b exportRow) int { return compareExportRows(&a, &b) })
			lo = hi
		}
		want := slices.Clone(rows)
		slices.SortStableFunc(want, func(a, b exportRow) int { return compareExportRows(&a, &b) })
		sortExportRows(rows)
		if !slices.Equal(rows, want) {
			t.Fatalf("round %d: %d rows merged to %v, want %v", round, n, rows, want)
		}
	}
}
