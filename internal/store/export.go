package store

import (
	"cmp"
	"context"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"

	"github.com/ptrsweep/ptrsweep/internal/sweep"
)

// An export reads a scan from ptr_by_ip, whose sort key (ip, scan, ptr)
// is the export's order, in chunks of consecutive addresses, without FINAL
// and without the superseded join; the client does what those did:
//
//   - rows of superseded attempts are dropped by a map of the scan's
//     superseded entries (read once; the table holds only redelivered
//     units), as the join's attempt >= below;
//   - copies of one (ip, ptr) not yet merged by ClickHouse come next to
//     each other (ORDER BY ip, scan, ptr) and the one of the highest attempt
//     is kept, as ReplacingMergeTree(attempt) and FINAL keep it; of copies
//     of one attempt (ClickHouse keeps the last inserted) the latest
//     resolved_at, which is the last inserted wherever one attempt stored
//     the row twice with different contents (a unit's outcomes changing
//     between two stores of one delivery).
//
// FINAL on 18.16 merges in one thread and the join costs a hash lookup per
// row on the server; both cost more server CPU than the whole client side
// of an export. Chunks bound the memory a chunk takes and let the server
// read the next chunk while the client writes the current one.
//
// A chunk's query has no ORDER BY: read in one stream (max_threads=1), a
// partition of one part comes in its sort key's order, and one of several
// parts comes part after part. The client finds those ordered runs and
// merges them (sortExportRows). The server's sort of each chunk was
// more than half the server's CPU of an export (measured: 0.65 against
// 0.27 CPU-seconds a million rows on 18.16).

// exportChunkRows is about how many rows one export query reads; the
// client holds a chunk or two in memory.
const exportChunkRows = 1 << 18

// exportMaxChunks bounds the chunks of a scan (one quantiles query cuts
// them); a bigger scan gets bigger chunks.
const exportMaxChunks = 1024

// exportRow is one stored row as an export reads it.
type exportRow struct {
	ip      uint32
	ttl     uint32
	at      uint32 // resolved_at, Unix seconds
	status  int8
	fcrdns  int8
	attempt uint64
	ptr     string
	unit    string
	asn     uint32
	country string
}

// ipRange is the addresses [lo, hi) of one export chunk.
type ipRange struct{ lo, hi uint64 }

// exportRows calls emit for every current row of the scan that f
// selects, each (ip, ptr) once, ordered by ip and ptr, with one outcome per
// address (see oneOutcome). f is applied to the current rows, after the
// copies of a row are collapsed, as FINAL did before a WHERE clause: a
// filter in the SQL would drop the copy that wins and let a stale one
// through. chunkRows is the rows of one chunk (exportChunkRows). Without
// full, rows leave Unit, ASN and Country empty and the query does not read
// them (unit only to drop superseded attempts, when the scan has any): the
// export formats print none of them, and three string columns were about
// a quarter of an export's CPU (measured, BENCHMARKS.md).
func (s *Store) exportRows(ctx context.Context, scan string, f RowFilter, chunkRows uint64, full bool, emit func(sweep.Row) error) error {
	below, err := s.supersededBelow(ctx, scan)
	if err != nil {
		return err
	}
	cols := "unit, asn, country"
	if !full {
		cols = "'', toUInt32(0), ''"
		if len(below) > 0 {
			cols = "unit, toUInt32(0), ''"
		}
	}
	ranges, n, err := s.exportRanges(ctx, scan, chunkRows)
	if err != nil {
		return err
	}
	one := &oneOutcome{emit: emit}
	keep := one.add
	if !f.empty() {
		keep = func(r sweep.Row) error {
			if !f.match(r) {
				return nil
			}
			return one.add(r)
		}
	}
	c := exportCollapser{scan: scan, below: below, full: full, out: keep}
	if err := s.readChunks(ctx, scan, cols, ranges, n/uint64(len(ranges)), c.add); err != nil {
		return err
	}
	if err := c.flush(); err != nil {
		return err
	}
	return one.flush()
}

// supersededBelow returns the scan's superseded entries: unit -> the
// attempt below which its rows are stale.
func (s *Store) supersededBelow(ctx context.Context, scan string) (map[string]uint64, error) {
	below := map[string]uint64{}
	err := s.readSuperseded(ctx, scan, func(_, unit string, b uint64) { below[unit] = b })
	return below, err
}

// readSuperseded calls put for each unit of the scan (of every scan when
// scan is "") that has superseded entries, with the attempt below which
// its rows are stale.
func (s *Store) readSuperseded(ctx context.Context, scan string, put func(scan, unit string, below uint64)) error {
	q, args := supersededQuery(scan)
	rows, err := s.conn.Query(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("read superseded attempts: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var sc, unit string
		var b uint64
		if err := rows.Scan(&sc, &unit, &b); err != nil {
			return fmt.Errorf("read superseded attempts: %w", err)
		}
		put(sc, unit, b)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read superseded attempts: %w", err)
	}
	return nil
}

// exportRanges cuts the address space into ranges of about chunkRows rows
// of the scan each (by approximate quantiles of its addresses; ranges
// at most exportMaxChunks). The ranges cover every address, so a row is in exactly one.
func (s *Store) exportRanges(ctx context.Context, scan string, chunkRows uint64) ([]ipRange, uint64, error) {
	where := " FROM ptr_by_ip WHERE scan = ?"
	qargs := []any{scan}
	var n uint64
	if err := s.conn.QueryRow(ctx, "SELECT count()"+where, qargs...).Scan(&n); err != nil {
		return nil, 0, fmt.Errorf("count rows: %w", err)
	}
	chunks := min((n+chunkRows-1)/chunkRows, exportMaxChunks)
	var bounds []uint32
	if chunks > 1 {
		levels := make([]string, chunks-1)
		for i := range levels {
			levels[i] = strconv.FormatFloat(float64(i+1)/float64(chunks), 'f', 6, 64)
		}
		if err := s.conn.QueryRow(ctx, "SELECT quantiles("+strings.Join(levels, ", ")+")(ip)"+where, qargs...).Scan(&bounds); err != nil {
			return nil, 0, fmt.Errorf("cut the scan into chunks: %w", err)
		}
	}
	return cutRanges(bounds), n, nil
}

// cutRanges returns the ranges [0, b1), [b1, b2), … [bn, 2^32) of the
// boundaries, skipping empty ones.
func cutRanges(bounds []uint32) []ipRange {
	out := make([]ipRange, 0, len(bounds)+1)
	lo := uint64(0)
	for _, b := range bounds {
		if uint64(b) > lo {
			out = append(out, ipRange{lo, uint64(b)})
			lo = uint64(b)
		}
	}
	return append(out, ipRange{lo, 1 << 32})
}

// readChunks reads the ranges in order and calls add for each row, in the
// order of the ranges. While add consumes one range, the next range's query
// runs: two queries at most are in flight (one with max_open_conns=1). It returns the first error of a
// query or of add; on either, it stops the queries and waits for them.
func (s *Store) readChunks(ctx context.Context, scan, cols string, ranges []ipRange, perChunk uint64, add func(*exportRow) error) error {
	ctx, cancel := context.WithCancel(ctx)
	ctx = readContext(ctx, clickhouse.Settings{"max_threads": 1})
	type chunk struct {
		r    ipRange
		rows chan []exportRow
		err  error // set before rows is closed
	}
	var wg sync.WaitGroup
	// Shutdown order: cancel stops the feeder and every reader (each
	// selects on ctx before a send), then Wait.
	defer wg.Wait()
	defer cancel()
	free := make(chan []exportRow, 3)
	chunks := make(chan *chunk)
	// slots bounds the queries in flight: two (one read ahead), or one
	// when the pool has a single connection.
	slots := make(chan struct{}, min(2, max(s.opts.MaxOpenConns, 1)))
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(chunks)
		for _, r := range ranges {
			select {
			case slots <- struct{}{}:
			case <-ctx.Done():
				return
			}
			c := &chunk{r: r, rows: make(chan []exportRow, 1)}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer close(c.rows)
				c.err = s.readChunk(ctx, scan, cols, c.r, perChunk, free, c.rows)
			}()
			select {
			case chunks <- c:
			case <-ctx.Done():
				return
			}
		}
	}()
	for c := range chunks {
		for batch := range c.rows {
			for i := range batch {
				if err := add(&batch[i]); err != nil {
					return err
				}
			}
			select {
			case free <- batch[:0]:
			default:
			}
		}
		if c.err != nil {
			return fmt.Errorf("addresses [%v, %v): %w", u32Addr(c.r.lo), u32Addr(c.r.hi), c.err)
		}
		<-slots // the chunk's query is done and its connection back in the pool
	}
	return ctx.Err()
}

// readChunk runs the query of one range and sends its rows, ordered by
// ip and ptr, as one batch (see above). cols reads unit, asn and country.
func (s *Store) readChunk(ctx context.Context, scan, cols string, r ipRange, size uint64, free chan []exportRow, out chan<- []exportRow) error {
	query := "SELECT ip, ptr, status, ttl, fcrdns, toUInt32(resolved_at), attempt, " + cols +
		" FROM ptr_by_ip WHERE scan = ? AND ip >= ? AND ip < ?"
	rows, err := s.conn.Query(ctx, query, scan, r.lo, r.hi)
	if err != nil {
		return err
	}
	defer rows.Close()
	var batch []exportRow
	select {
	case batch = <-free:
	default:
		batch = make([]exportRow, 0, size+size/4) // the ranges are cut by estimates
	}
	for rows.Next() {
		batch = append(batch, exportRow{})
		e := &batch[len(batch)-1]
		if err := rows.Scan(&e.ip, &e.ptr, &e.status, &e.ttl, &e.fcrdns, &e.at, &e.attempt, &e.unit, &e.asn, &e.country); err != nil {
			return fmt.Errorf("read row: %w", err)
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	sortExportRows(batch)
	select {
	case out <- batch:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// sortExportRows orders rows by ip and ptr. They come as runs in that
// order, one a part (one run when the scan's partition is one part):
// runs are merged pairwise, which costs a pass over the rows for every
// doubling of the runs instead of a sort.
func sortExportRows(rows []exportRow) {
	var bounds []int // where each run starts, and len(rows)
	for i := range rows {
		if i == 0 || compareExportRows(&rows[i-1], &rows[i]) > 0 {
			bounds = append(bounds, i)
		}
	}
	if len(bounds) <= 1 {
		return
	}
	bounds = append(bounds, len(rows))
	src, dst := rows, make([]exportRow, len(rows))
	for len(bounds) > 2 {
		next := []int{0}
		for i := 0; i+1 < len(bounds); i += 2 {
			lo, mid, hi := bounds[i], bounds[i+1], len(rows)
			if i+2 < len(bounds) {
				hi = bounds[i+2]
			}
			mergeExportRows(dst[lo:hi], src[lo:mid], src[mid:hi])
			next = append(next, hi)
		}
		bounds = next
		src, dst = dst, src
	}
	if &src[0] != &rows[0] {
		copy(rows, src)
	}
}

// mergeExportRows merges the ordered a and b into dst, a's rows first
// among equal ones.
func mergeExportRows(dst, a, b []exportRow) {
	k := 0
	for len(a) > 0 && len(b) > 0 {
		if compareExportRows(&b[0], &a[0]) < 0 {
			dst[k], b = b[0], b[1:]
		} else {
			dst[k], a = a[0], a[1:]
		}
		k++
	}
	k += copy(dst[k:], a)
	copy(dst[k:], b)
}

func compareExportRows(a, b *exportRow) int {
	if c := cmp.Compare(a.ip, b.ip); c != 0 {
		return c
	}
	return strings.Compare(a.ptr, b.ptr)
}

func u32Addr(v uint64) string {
	if v >= 1<<32 {
		return "256.0.0.0"
	}
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}).String()
}

// exportCollapser drops rows of superseded attempts and collapses copies
// of one (ip, ptr), keeping the highest attempt, and of one attempt the
// latest resolved_at; rows must come ordered by ip and ptr. It passes each remaining row on to out as a sweep.Row.
type exportCollapser struct {
	scan    string
	below   map[string]uint64
	full    bool // rows carry their unit
	out     func(sweep.Row) error
	pending exportRow
	have    bool
}

func (c *exportCollapser) add(r *exportRow) error {
	if len(c.below) > 0 {
		if b, ok := c.below[r.unit]; ok && r.attempt < b {
			return nil
		}
	}
	if c.have && r.ip == c.pending.ip && r.ptr == c.pending.ptr {
		if r.attempt > c.pending.attempt || r.attempt == c.pending.attempt && r.at >= c.pending.at {
			c.pending = *r
		}
		return nil
	}
	if err := c.flush(); err != nil {
		return err
	}
	c.pending, c.have = *r, true
	return nil
}

// flush passes on the pending row.
func (c *exportCollapser) flush() error {
	if !c.have {
		return nil
	}
	c.have = false
	p := &c.pending
	st, fc := sweep.Status(p.status), sweep.FCrDNS(p.fcrdns)
	if st < sweep.StatusOK || st > sweep.StatusTimeout || fc > sweep.FCrDNSNumeric || p.fcrdns < 0 {
		return fmt.Errorf("read row %v: status %d or fcrdns %d outside the schema's values (compare ptr_by_ip with schema/)",
			u32Addr(uint64(p.ip)), p.status, p.fcrdns)
	}
	unit := ""
	if c.full {
		unit = p.unit
	}
	return c.out(sweep.Row{
		Scan: c.scan, Unit: unit, IP: netip.AddrFrom4([4]byte{byte(p.ip >> 24), byte(p.ip >> 16), byte(p.ip >> 8), byte(p.ip)}),
		PTR: p.ptr, Status: st, TTL: p.ttl, FCrDNS: fc, ResolvedAt: time.Unix(int64(p.at), 0).UTC(), Attempt: p.attempt,
		ASN: p.asn, Country: p.country,
	})
}
