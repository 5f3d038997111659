package store

import (
	"cmp"
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/ptrsweep/ptrsweep/internal/sweep"
)

const insertRows = "INSERT INTO ptr (scan, rname, ip, ptr, status, ttl, fcrdns, unit, resolved_at, attempt, asn, country)"

// rowColumns are the columns Search and Export read, in scanRow's order.
const rowColumns = "scan, ip, ptr, status, ttl, fcrdns, unit, resolved_at, attempt, asn, country"

// currentRows is the FROM clause of every row read: table (ptr, or
// ptr_by_ip for reads by address) without the rows of superseded attempts;
// scan, when not empty, narrows the superseded subquery to one scan. The
// caller's WHERE must start with "attempt >= below AND". It returns the
// clause and its arguments, which come before the WHERE clause's.
//
// The superseded set is small (only redelivered units have entries), so the
// join costs a scan of it per query; the range predicates on ptr's sort key
// still select granules (measured on 18.16, see schema/README.md).
func currentRows(table, scan string) (string, []any) {
	sub, args := supersededQuery(scan)
	return table + " ANY LEFT JOIN (" + sub + ") USING (scan, unit)", args
}

// supersededQuery reads the attempt below which each unit's rows are
// stale (scan, unit, below), of one scan or of every scan ("").
func supersededQuery(scan string) (string, []any) {
	q := "SELECT scan, unit, max(below) AS below FROM superseded"
	var args []any
	if scan != "" {
		q += " WHERE scan = ?"
		args = append(args, scan)
	}
	return q + " GROUP BY scan, unit", args
}

// latestRows returns a query of rowColumns over table's current rows (see
// currentRows) that meet cond (" AND …" conditions, with condArgs),
// each row identity (key, the columns a re-inserted row repeats) once:
// the row of its highest attempt, the one ReplacingMergeTree(attempt)
// keeps. It dedupes with LIMIT 1 BY instead of FINAL: FINAL on 18.16 is
// single-threaded and merges every granule it reads in every part, which
// made one address 150 ms and a 10-address suffix 45 ms on 10M rows,
// against 25 ms and 15 ms this way (rows of an attempt that supersede
// filters out are removed before, so the result is FINAL's; and 18.16
// counts these reads against max_rows_to_read, which it does not for
// FINAL reads). Results are sorted by order ("": unsorted), at most limit
// (0: all).
func latestRows(table, scan, cond string, condArgs []any, key, order string, limit int) (string, []any) {
	from, args := currentRows(table, scan)
	return latest(from, " WHERE attempt >= below"+cond, key, order, limit), append(args, condArgs...)
}

// latestOf is latestRows without the superseded join: each row identity
// once, of its highest attempt, stale or not; the caller drops the rows
// of superseded attempts (a row kept here is stale only if every copy of
// it is, as the highest attempt wins).
func latestOf(table, cond string, condArgs []any, key, order string, limit int) (string, []any) {
	return latest(table, " WHERE 1"+cond, key, order, limit), condArgs
}

func latest(from, where, key, order string, limit int) string {
	q := "SELECT " + rowColumns + " FROM (SELECT " + rowColumns + " FROM " + from + where +
		" ORDER BY attempt DESC LIMIT 1 BY " + key + ")"
	if order != "" {
		q += " ORDER BY " + order
	}
	if limit > 0 {
		q += " LIMIT " + strconv.Itoa(limit)
	}
	return q
}

// InsertRows stores rows in one INSERT. The label-reversed name (rname) is
// computed from each row's PTR; ASN and Country are stored as given (the
// routing at resolve time). Every IP must be IPv4. Inserting a row again
// is harmless: (scan, ip, ptr) is the row's identity and reads deduplicate,
// keeping the row of the highest Attempt. It is safe for concurrent use;
// batches of 100k rows are efficient. An error that retrying cannot fix
// matches ErrPermanent (see Permanent).
func (s *Store) InsertRows(ctx context.Context, rows []sweep.Row) error {
	b, err := PrepareRows(rows)
	if err != nil {
		return err
	}
	return s.InsertBlock(ctx, b)
}

// RowBlock is rows made ready for one INSERT by PrepareRows: checked, in
// columns, sorted by ptr's sort key. It is not safe for concurrent use.
type RowBlock struct {
	scans, rnames, ptrs, units []string
	ips, ttls                  []uint32
	statuses, fcrdns           []int8
	times                      []time.Time
	attempts                   []uint64
	asns                       []uint32
	countries                  []string
	// scratch: the rnames' bytes, where each ends, the rnames and
	// addresses in the rows' order, the sort permutation
	arena  []byte
	ends   []int
	rawR   []string
	rawIPs []uint32
	perm   []sortKey
}

// Len returns the number of rows in the block.
func (b *RowBlock) Len() int { return len(b.ips) }

// PrepareRows checks rows and puts them in columns for InsertBlock, sorted
// by ptr's sort key (rname, ip, scan), rows of equal keys in their order:
// ClickHouse then skips its own sort of the block (the costliest part of
// an insert into ptr). It may run in another goroutine than the insert.
func PrepareRows(rows []sweep.Row) (*RowBlock, error) {
	b := &RowBlock{}
	return b, b.Reset(rows, true)
}

// Reset makes b hold rows instead of what it held, reusing its memory;
// see PrepareRows. Without sorted, the rows stay in their order (for a
// RowInserter, whose server sorts what it squashes anyway). After an error
// b holds no rows.
func (b *RowBlock) Reset(rows []sweep.Row, sorted bool) error {
	n := len(rows)
	b.ips = b.ips[:0]
	ips, ends := grow(b.rawIPs, n), grow(b.ends, n)
	b.rawIPs, b.ends, b.arena = ips, ends, b.arena[:0]
	for i := range rows {
		r := &rows[i]
		ip := r.IP.Unmap()
		if !ip.Is4() {
			return fmt.Errorf("insert rows: row %d of scan %s: address %v is not IPv4", i, r.Scan, r.IP)
		}
		if r.Status < sweep.StatusOK || r.Status > sweep.StatusTimeout {
			return fmt.Errorf("insert rows: row %d (%v): invalid status %d", i, ip, uint8(r.Status))
		}
		if r.FCrDNS > sweep.FCrDNSNumeric {
			return fmt.Errorf("insert rows: row %d (%v): invalid fcrdns outcome %d", i, ip, uint8(r.FCrDNS))
		}
		a := ip.As4()
		ips[i] = uint32(a[0])<<24 | uint32(a[1])<<16 | uint32(a[2])<<8 | uint32(a[3])
		if r.PTR != "" {
			b.arena = sweep.AppendReverseLabels(b.arena, r.PTR)
		}
		ends[i] = len(b.arena)
	}
	arena := string(b.arena) // one allocation for every rname
	rnames := grow(b.rawR, n)
	b.rawR = rnames
	for i := range n {
		lo := 0
		if i > 0 {
			lo = ends[i-1]
		}
		rnames[i] = arena[lo:ends[i]]
	}
	b.perm = grow(b.perm, n)
	inOrder := true
	for i := range n {
		b.perm[i] = sortKey{idx: int32(i)}
		if i > 0 && sorted && inOrder && lessRow(rnames, ips, rows, i, i-1) {
			inOrder = false
		}
	}
	if sorted && !inOrder {
		sortRows(b.perm, rnames, ips, rows)
	}
	b.scans, b.rnames, b.ptrs, b.units = grow(b.scans, n), grow(b.rnames, n), grow(b.ptrs, n), grow(b.units, n)
	b.ttls, b.statuses, b.fcrdns = grow(b.ttls, n), grow(b.statuses, n), grow(b.fcrdns, n)
	b.times, b.attempts, b.ips = grow(b.times, n), grow(b.attempts, n), grow(b.ips, n)
	b.asns, b.countries = grow(b.asns, n), grow(b.countries, n)
	for i, k := range b.perm {
		j := k.idx
		r := &rows[j]
		b.scans[i], b.rnames[i], b.ptrs[i], b.units[i] = r.Scan, rnames[j], r.PTR, r.Unit
		b.ips[i], b.ttls[i], b.statuses[i], b.fcrdns[i] = ips[j], r.TTL, int8(r.Status), int8(r.FCrDNS)
		b.times[i], b.attempts[i] = r.ResolvedAt, r.Attempt
		b.asns[i], b.countries[i] = r.ASN, r.Country
	}
	return nil
}

// sortKey is a row's place in the sort: 16 bytes of its rname after the
// prefix every rname of the block shares, big-endian (integer compares
// decide most pairs), and its index.
type sortKey struct {
	k1, k2 uint64
	idx    int32
}

// sortRows sorts keys by ptr's sort key (rname, ip, scan), equal keys in
// their order.
func sortRows(keys []sortKey, rnames []string, ips []uint32, rows []sweep.Row) {
	// lcp is the length of the prefix every non-empty rname shares; an
	// empty one (a row without a PTR) gets the key 0, below every other
	// but one equal to the prefix, which the full compare orders.
	first, lcp := "", -1
	for _, r := range rnames {
		if r == "" {
			continue
		}
		if lcp < 0 {
			first, lcp = r, len(r)
			continue
		}
		lcp = min(lcp, len(r))
		for i := 0; i < lcp; i++ {
			if r[i] != first[i] {
				lcp = i
				break
			}
		}
	}
	lcp = max(lcp, 0)
	for i := range keys {
		r := rnames[i]
		keys[i].k1, keys[i].k2 = bigEndian(r, lcp), bigEndian(r, lcp+8)
	}
	// A stable LSD radix sort by (k1, k2), a byte a pass (passes where
	// every key has the same byte are skipped), then a sort of each run of
	// equal keys by the full key and the index (the rows without a PTR are
	// one long run).
	tmp := make([]sortKey, len(keys))
	src, dst := keys, tmp
	for _, word := range []func(*sortKey) uint64{func(k *sortKey) uint64 { return k.k2 }, func(k *sortKey) uint64 { return k.k1 }} {
		for shift := uint(0); shift < 64; shift += 8 {
			var count [256]int
			for i := range src {
				count[byte(word(&src[i])>>shift)]++
			}
			if count[byte(word(&src[0])>>shift)] == len(src) {
				continue
			}
			pos := 0
			for b := range count {
				pos, count[b] = pos+count[b], pos
			}
			for i := range src {
				b := byte(word(&src[i]) >> shift)
				dst[count[b]] = src[i]
				count[b]++
			}
			src, dst = dst, src
		}
	}
	if &src[0] != &keys[0] {
		copy(keys, src)
	}
	for lo := 0; lo < len(keys); {
		hi := lo + 1
		for hi < len(keys) && keys[hi].k1 == keys[lo].k1 && keys[hi].k2 == keys[lo].k2 {
			hi++
		}
		if hi-lo > 1 {
			// 16 equal bytes (or fewer, padded with zero bytes, which
			// presentation-form names do not hold): compare the rest
			slices.SortFunc(keys[lo:hi], func(x, y sortKey) int {
				if c := strings.Compare(rnames[x.idx], rnames[y.idx]); c != 0 {
					return c
				}
				if c := cmp.Compare(ips[x.idx], ips[y.idx]); c != 0 {
					return c
				}
				if c := strings.Compare(rows[x.idx].Scan, rows[y.idx].Scan); c != 0 {
					return c
				}
				return cmp.Compare(x.idx, y.idx) // equal keys keep their order
			})
		}
		lo = hi
	}
}

// bigEndian returns the 8 bytes of s from off as a big-endian number,
// missing bytes as zero.
func bigEndian(s string, off int) uint64 {
	var v uint64
	for i := off; i < off+8; i++ {
		v <<= 8
		if i < len(s) {
			v |= uint64(s[i])
		}
	}
	return v
}

// lessRow reports whether row i sorts before row j in ptr's sort key.
func lessRow(rnames []string, ips []uint32, rows []sweep.Row, i, j int) bool {
	if rnames[i] != rnames[j] {
		return rnames[i] < rnames[j]
	}
	if ips[i] != ips[j] {
		return ips[i] < ips[j]
	}
	return rows[i].Scan < rows[j].Scan
}

// grow returns s resized to n, reusing its array when it is large enough.
func grow[T any](s []T, n int) []T {
	if cap(s) >= n {
		return s[:n]
	}
	return make([]T, n)
}

// InsertBlock stores a prepared block in one INSERT (see InsertRows). It
// is safe for concurrent use with other blocks.
func (s *Store) InsertBlock(ctx context.Context, b *RowBlock) error {
	if b.Len() == 0 {
		return nil
	}
	return s.sendColumns(ctx, insertRows, fmt.Sprintf("insert batch of %d rows", b.Len()), b.columns()...)
}

func (b *RowBlock) columns() []any {
	return []any{b.scans, b.rnames, b.ips, b.ptrs, b.statuses, b.ttls, b.fcrdns, b.units, b.times, b.attempts, b.asns, b.countries}
}

// RowInserter stores blocks as the data blocks of one long INSERT on one
// connection: each Insert sends its block (ClickHouse stores them as they
// arrive, squashed into blocks of about a million rows), and the driver's
// column buffers are reused from block to block. Close ends the INSERT; the server's
// answer to the blocks (an error of any of them) comes then at the latest.
// Bulk loads use it; it is not safe for concurrent use.
type RowInserter struct {
	s     *Store
	batch driver.Batch
	rows  int
}

// NewRowInserter starts an INSERT into ptr. ctx bounds the whole INSERT.
// The server squashes the INSERT's blocks into blocks of about a million
// rows (min_insert_block_size_rows) and sorts those: sorting the blocks
// sent costs the client CPU for nothing, and the big parts save merges.
func (s *Store) NewRowInserter(ctx context.Context) (*RowInserter, error) {
	batch, err := s.conn.PrepareBatch(ctx, insertRows)
	if err != nil {
		return nil, classify(fmt.Errorf("start insert: %w", err))
	}
	return &RowInserter{s: s, batch: batch}, nil
}

// Insert sends b. After an error the INSERT is aborted (blocks sent
// before stay stored) and Close does nothing.
func (w *RowInserter) Insert(b *RowBlock) error {
	if b.Len() == 0 {
		return nil
	}
	what := fmt.Sprintf("insert rows %d-%d", w.rows, w.rows+b.Len())
	for i, c := range b.columns() {
		if err := w.batch.Column(i).Append(c); err != nil {
			_ = w.batch.Abort()
			return &permanentError{err: fmt.Errorf("%s: %s does not have the type the schema gives it (compare with schema/): %w", what, w.s.columnName(insertRows, i), err)}
		}
	}
	if err := w.batch.Flush(); err != nil {
		_ = w.batch.Abort()
		return classify(fmt.Errorf("%s: %w", what, err))
	}
	w.rows += b.Len()
	return nil
}

// Close ends the INSERT and returns the server's answer to it.
func (w *RowInserter) Close() error {
	if w.batch.IsSent() {
		return nil
	}
	if err := w.batch.Send(); err != nil {
		return classify(fmt.Errorf("insert of %d rows: %w", w.rows, err))
	}
	return nil
}

// sendColumns runs one INSERT with the column slices in the query's order.
// Errors are classified: those retrying cannot fix match ErrPermanent. A
// column the client cannot convert is permanent: the table's column type
// differs from the schema's.
func (s *Store) sendColumns(ctx context.Context, query, what string, cols ...any) error {
	batch, err := s.conn.PrepareBatch(ctx, query)
	if err != nil {
		return classify(fmt.Errorf("%s: %w", what, err))
	}
	for i, c := range cols {
		if err := batch.Column(i).Append(c); err != nil {
			_ = batch.Abort()
			return &permanentError{err: fmt.Errorf("%s: %s does not have the type the schema gives it (compare with schema/): %w", what, s.columnName(query, i), err)}
		}
	}
	if err := batch.Send(); err != nil {
		return classify(fmt.Errorf("%s: %w", what, err))
	}
	return nil
}

// columnName returns the i-th column of an INSERT's column list.
func (s *Store) columnName(query string, i int) string {
	_, list, _ := strings.Cut(query, "(")
	list, _, _ = strings.Cut(list, ")")
	names := strings.Split(list, ",")
	if i < 0 || i >= len(names) {
		return fmt.Sprintf("column %d of the table in database %s", i, s.opts.Database)
	}
	return "column " + strings.TrimSpace(names[i]) + " of the table in database " + s.opts.Database
}

// Query selects rows for Search.
type Query struct {
	// Suffix matches whole labels: "ipip.net" finds "ipip.net" and
	// "a.security.ipip.net", never "notipip.net". Surrounding spaces, one
	// leading dot and the trailing dot are ignored, ASCII letters are
	// lower-cased; every other byte is matched literally (stored names keep
	// DNS presentation escapes, e.g. "\ " for a space; see sweep.CanonicalName).
	Suffix string
	// Scan restricts the search to one scan; empty searches every scan.
	Scan string
	// Limit caps the number of rows; zero or less means no cap.
	Limit int
	// Filter keeps only the rows with its outcomes; Search reads only ok
	// rows, so a Statuses without StatusOK selects nothing.
	Filter RowFilter
}

// RowFilter selects rows by outcome (in SQL for search and lookup, on the
// current rows for an export). The zero RowFilter selects
// every row.
type RowFilter struct {
	// Statuses are the outcomes to keep; empty keeps every outcome.
	Statuses []sweep.Status
	// FCrDNS are the forward-confirmation outcomes to keep (FCrDNSNone is
	// the stored ''); empty keeps every outcome.
	FCrDNS []sweep.FCrDNS
}

// where returns " AND …" conditions for f with their arguments.
// empty reports whether f selects every row.
func (f RowFilter) empty() bool { return len(f.Statuses) == 0 && len(f.FCrDNS) == 0 }

// match reports whether f selects r.
func (f RowFilter) match(r sweep.Row) bool {
	return (len(f.Statuses) == 0 || slices.Contains(f.Statuses, r.Status)) &&
		(len(f.FCrDNS) == 0 || slices.Contains(f.FCrDNS, r.FCrDNS))
}

func (f RowFilter) where() (string, []any) {
	var (
		sql  string
		args []any
	)
	if len(f.Statuses) > 0 {
		sql += " AND status IN (" + placeholders(len(f.Statuses)) + ")"
		for _, st := range f.Statuses {
			args = append(args, st.String())
		}
	}
	if len(f.FCrDNS) > 0 {
		sql += " AND fcrdns IN (" + placeholders(len(f.FCrDNS)) + ")"
		for _, x := range f.FCrDNS {
			args = append(args, x.String())
		}
	}
	return sql, args
}

// NormalizeSuffix returns the suffix as Search matches it (see Query.Suffix),
// or an error wrapping ErrEmptySuffix or ErrBadSuffix.
func NormalizeSuffix(suffix string) (string, error) {
	s := strings.TrimSpace(suffix)
	s = strings.TrimPrefix(s, ".")
	s = sweep.CanonicalName(s)
	if s == "" || s == "." {
		return "", fmt.Errorf("%w: %q", ErrEmptySuffix, suffix)
	}
	if err := sweep.CheckName(s); err != nil {
		return "", fmt.Errorf("%w: %w", ErrBadSuffix, err)
	}
	return s, nil
}

// Search calls emit for every ok row whose PTR name is the suffix or ends in
// "."+suffix, each (scan, ip, ptr) once, ordered by ip, ptr and scan; rows of
// superseded attempts are left out. It
// stops at emit's first error and returns it. The suffix is a primary-key
// range on the label-reversed name, so a search reads only matching rows.
func (s *Store) Search(ctx context.Context, q Query, emit func(sweep.Row) error) error {
	suffix, err := NormalizeSuffix(q.Suffix)
	if err != nil {
		return err
	}
	ctx = readContext(ctx, nil)
	r := sweep.ReverseLabels(suffix)
	cond := " AND (rname = ? OR (rname >= ? AND rname < ?)) AND status = 'ok'"
	args := []any{r, r + ".", r + "/"}
	if q.Scan != "" {
		cond += " AND scan = ?"
		args = append(args, q.Scan)
	}
	fcond, fargs := q.Filter.where()
	cond, args = cond+fcond, append(args, fargs...)
	// The superseded entries are few (only redelivered units have them):
	// read them first and drop the stale rows here, which spares the
	// suffix's range read the join (a third of its time on 18.16). With a
	// LIMIT and entries to drop rows by, the join keeps the count exact.
	stale := map[[2]string]uint64{}
	if err := s.readSuperseded(ctx, q.Scan, func(scan, unit string, below uint64) { stale[[2]string{scan, unit}] = below }); err != nil {
		return fmt.Errorf("search suffix %q: %w", suffix, err)
	}
	var query string
	if q.Limit > 0 && len(stale) > 0 {
		query, args = latestRows("ptr", q.Scan, cond, args, "scan, ip, ptr", "ip, ptr, scan", q.Limit)
	} else {
		query, args = latestOf("ptr", cond, args, "scan, ip, ptr", "ip, ptr, scan", q.Limit)
		next := emit
		emit = func(r sweep.Row) error {
			if below, ok := stale[[2]string{r.Scan, r.Unit}]; ok && r.Attempt < below {
				return nil
			}
			return next(r)
		}
	}
	if err := s.stream(ctx, query, args, emit); err != nil {
		return fmt.Errorf("search suffix %q: %w", suffix, err)
	}
	return nil
}

// Export calls emit for every stored row of the scan, each (ip, ptr) once,
// ordered by ip and ptr, with one outcome per address (see oneOutcome); rows
// of superseded attempts are left out, and of copies of a row the one of the
// highest attempt is shown. Rows are streamed, never held all in memory. It
// stops at emit's first error and returns it. How it reads: see export.go.
func (s *Store) Export(ctx context.Context, scan string, emit func(sweep.Row) error) error {
	return s.export(ctx, scan, RowFilter{}, true, emit)
}

// ExportWhere is Export of the current rows f selects, as the export
// formats print them: without Unit, ASN and Country, which it does not
// read. An address that shows two outcomes (see oneOutcome) shows the one
// of those f selects. It is bounded by the limits of WithLimits, if any.
func (s *Store) ExportWhere(ctx context.Context, scan string, f RowFilter, emit func(sweep.Row) error) error {
	return s.export(ctx, scan, f, false, emit)
}

func (s *Store) export(ctx context.Context, scan string, f RowFilter, full bool, emit func(sweep.Row) error) error {
	if err := s.exportRows(readContext(ctx, nil), scan, f, exportChunkRows, full, emit); err != nil {
		return fmt.Errorf("export scan %s: %w", scan, err)
	}
	return nil
}

// oneOutcome passes on one outcome per address. Rows of a unit that was
// stored but not acked (its worker died) are stored again on redelivery, and
// the earlier attempt's rows are hidden once the redelivery's superseded
// entry is written; until then (or for rows of scans stored before attempts
// were tracked) both outcomes of an address can show (a timeout, then an
// answer). An address with PTRs shows its PTRs; otherwise the most recent of
// its outcomes. Rows must arrive grouped by address.
type oneOutcome struct {
	emit  func(sweep.Row) error
	ip    netip.Addr
	ok    []sweep.Row
	other *sweep.Row
}

func (f *oneOutcome) add(r sweep.Row) error {
	if r.IP != f.ip {
		if err := f.flush(); err != nil {
			return err
		}
		f.ip = r.IP
	}
	if r.Status == sweep.StatusOK {
		f.ok = append(f.ok, r)
	} else if f.other == nil || r.ResolvedAt.After(f.other.ResolvedAt) {
		f.other = &r
	}
	return nil
}

func (f *oneOutcome) flush() error {
	defer func() { f.ok, f.other = f.ok[:0], nil }()
	if len(f.ok) > 0 {
		for _, r := range f.ok {
			if err := f.emit(r); err != nil {
				return err
			}
		}
		return nil
	}
	if f.other != nil {
		return f.emit(*f.other)
	}
	return nil
}

// stream runs a row query and calls emit for each row.
func (s *Store) stream(ctx context.Context, query string, args []any, emit func(sweep.Row) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // stops the server side when emit gives up early
	rows, err := s.conn.Query(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		r, err := scanRow(rows)
		if err != nil {
			return err
		}
		if err := emit(r); err != nil {
			return err
		}
	}
	return rows.Err()
}

// scanRow reads one row of rowColumns, and into more the columns that
// follow them.
func scanRow(rows driver.Rows, more ...any) (sweep.Row, error) {
	var (
		r              sweep.Row
		ip             uint32
		status, fcrdns string
	)
	dest := append([]any{&r.Scan, &ip, &r.PTR, &status, &r.TTL, &fcrdns, &r.Unit, &r.ResolvedAt, &r.Attempt, &r.ASN, &r.Country}, more...)
	if err := rows.Scan(dest...); err != nil {
		return sweep.Row{}, fmt.Errorf("read row: %w", err)
	}
	r.IP = netip.AddrFrom4([4]byte{byte(ip >> 24), byte(ip >> 16), byte(ip >> 8), byte(ip)})
	var err error
	if r.Status, err = sweep.ParseStatus(status); err != nil {
		return sweep.Row{}, fmt.Errorf("read row %v: %w", r.IP, err)
	}
	if r.FCrDNS, err = sweep.ParseFCrDNS(fcrdns); err != nil {
		return sweep.Row{}, fmt.Errorf("read row %v: %w", r.IP, err)
	}
	r.ResolvedAt = r.ResolvedAt.UTC()
	return r, nil
}
