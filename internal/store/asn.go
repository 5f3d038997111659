package store

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/ptrsweep/ptrsweep/internal/cidr"
	"github.com/ptrsweep/ptrsweep/internal/enrich"
)

// ErrNoASNTable is returned by LoadASNTable when no complete version of an
// IP-to-ASN table is stored (or not the one asked for).
var ErrNoASNTable = errors.New("no IP-to-ASN table stored")

const insertASNRanges = "INSERT INTO asn_ranges (version, ip_start, ip_end, net, asn, as_name, country)"

const insertASNVersion = "INSERT INTO asn_versions (version, source, format, ranges, loaded_at)"

// asnBatch is the number of ranges per INSERT when saving a table.
const asnBatch = 100_000

// ASNVersion describes one stored version of an IP-to-ASN table.
type ASNVersion struct {
	// Version is the date of the data (UTC midnight).
	Version time.Time
	// Source is where the data came from, e.g. the file name given to
	// SaveASNTable.
	Source string
	// Format is the input format, e.g. "location" (see enrich.Format).
	Format string
	// Ranges is the number of ranges stored.
	Ranges uint64
	// LoadedAt is when the version was saved (UTC, whole seconds).
	LoadedAt time.Time
}

// SaveASNTable stores t as the version of the given date (its time of day
// is ignored), replacing any version of that date: it drops the version's
// partition of asn_ranges, inserts the ranges in batches of 100,000, and
// then records the version in asn_versions. Until that last step the
// version is not listed and LoadASNTable refuses it, so a failed or
// concurrent save never passes for a complete table. Saving the same
// version from two processes at once is not supported. It is safe for
// concurrent use otherwise.
func (s *Store) SaveASNTable(ctx context.Context, version time.Time, source, format string, t *enrich.Table) error {
	day := version.UTC().Truncate(24 * time.Hour)
	v := day.Format(time.DateOnly)
	if day.Year() < 1971 || day.Year() > 2105 {
		return fmt.Errorf("save IP-to-ASN table: version %s is outside ClickHouse's Date range (1970-2105)", v)
	}
	if err := s.conn.Exec(ctx, "ALTER TABLE asn_ranges DROP PARTITION '"+v+"'"); err != nil {
		return fmt.Errorf("save IP-to-ASN table %s: drop the old ranges: %w", v, err)
	}
	n := t.Len()
	for lo := 0; lo < n; lo += asnBatch {
		hi := min(lo+asnBatch, n)
		m := hi - lo
		var (
			versions  = make([]time.Time, m)
			starts    = make([]uint32, m)
			ends      = make([]uint32, m)
			nets      = make([]string, m)
			asns      = make([]uint32, m)
			names     = make([]string, m)
			countries = make([]string, m)
		)
		for i := range m {
			r := t.At(lo + i)
			versions[i] = day
			starts[i], ends[i] = cidr.AddrToUint32(r.First), cidr.AddrToUint32(r.Last)
			nets[i], asns[i], names[i], countries[i] = r.Net.String(), r.ASN, r.ASName, r.Country
		}
		if err := s.sendColumns(ctx, insertASNRanges, fmt.Sprintf("save IP-to-ASN table %s: insert ranges %d-%d of %d", v, lo, hi, n),
			versions, starts, ends, nets, asns, names, countries); err != nil {
			return err
		}
	}
	return s.sendColumns(ctx, insertASNVersion, fmt.Sprintf("save IP-to-ASN table %s: record the version", v),
		[]time.Time{day}, []string{source}, []string{format}, []uint64{uint64(n)}, []time.Time{time.Now().UTC().Truncate(time.Second)})
}

// ASNVersions lists the complete versions of the IP-to-ASN table, newest
// first.
func (s *Store) ASNVersions(ctx context.Context) ([]ASNVersion, error) {
	rows, err := s.conn.Query(ctx, "SELECT version, source, format, ranges, loaded_at FROM asn_versions FINAL ORDER BY version DESC")
	if err != nil {
		return nil, fmt.Errorf("list IP-to-ASN table versions: %w", err)
	}
	defer rows.Close()
	var out []ASNVersion
	for rows.Next() {
		var v ASNVersion
		if err := rows.Scan(&v.Version, &v.Source, &v.Format, &v.Ranges, &v.LoadedAt); err != nil {
			return nil, fmt.Errorf("list IP-to-ASN table versions: %w", err)
		}
		v.Version = time.Date(v.Version.Year(), v.Version.Month(), v.Version.Day(), 0, 0, 0, 0, time.UTC)
		v.LoadedAt = v.LoadedAt.UTC()
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list IP-to-ASN table versions: %w", err)
	}
	return out, nil
}

// LoadASNTable reads a stored version back into a Table: the newest
// complete version when version is the zero time, else the version of that
// date. It returns an error wrapping ErrNoASNTable when there is none, and
// an error when the stored ranges do not add up to the recorded count (a
// save of that version is under way or failed: save it again). AS names are
// read once per AS, not once per range.
func (s *Store) LoadASNTable(ctx context.Context, version time.Time) (*enrich.Table, ASNVersion, error) {
	vs, err := s.ASNVersions(ctx)
	if err != nil {
		return nil, ASNVersion{}, err
	}
	var v ASNVersion
	switch {
	case len(vs) == 0:
		return nil, ASNVersion{}, fmt.Errorf("%w in database %s: load one with `coordinator asn load FILE`", ErrNoASNTable, s.opts.Database)
	case version.IsZero():
		v = vs[0]
	default:
		want := version.UTC().Truncate(24 * time.Hour)
		found := false
		for _, c := range vs {
			if c.Version.Equal(want) {
				v, found = c, true
				break
			}
		}
		if !found {
			return nil, ASNVersion{}, fmt.Errorf("%w for %s in database %s (newest: %s)", ErrNoASNTable, want.Format(time.DateOnly), s.opts.Database, vs[0].Version.Format(time.DateOnly))
		}
	}
	day := v.Version.Format(time.DateOnly)
	names, err := s.asnNames(ctx, day)
	if err != nil {
		return nil, v, err
	}
	rows, err := s.conn.Query(ctx, "SELECT ip_start, ip_end, net, asn, country FROM asn_ranges WHERE version = toDate(?) ORDER BY ip_start", day)
	if err != nil {
		return nil, v, fmt.Errorf("load IP-to-ASN table %s: %w", day, err)
	}
	defer rows.Close()
	a := enrich.NewRangeAppender(int(v.Ranges))
	var (
		start, end, asn uint32
		netStr, country string
		n               uint64
	)
	for rows.Next() {
		if err := rows.Scan(&start, &end, &netStr, &asn, &country); err != nil {
			return nil, v, fmt.Errorf("load IP-to-ASN table %s: %w", day, err)
		}
		p, err := netip.ParsePrefix(netStr)
		if err != nil {
			return nil, v, fmt.Errorf("load IP-to-ASN table %s: range %d: network %q: %w", day, n, netStr, err)
		}
		r := enrich.Range{First: cidr.Uint32ToAddr(start), Last: cidr.Uint32ToAddr(end),
			Info: enrich.Info{Net: p, ASN: asn, ASName: names[asn], Country: country}}
		if err := a.Append(r); err != nil {
			return nil, v, fmt.Errorf("load IP-to-ASN table %s: range %d: %w", day, n, err)
		}
		n++
	}
	if err := rows.Err(); err != nil {
		return nil, v, fmt.Errorf("load IP-to-ASN table %s: %w", day, err)
	}
	if n != v.Ranges {
		return nil, v, fmt.Errorf("load IP-to-ASN table %s: %d ranges stored, %d recorded: a save of this version is under way or failed; save it again", day, n, v.Ranges)
	}
	return a.Table(), v, nil
}

// asnNames reads one name per AS of a version.
func (s *Store) asnNames(ctx context.Context, day string) (map[uint32]string, error) {
	rows, err := s.conn.Query(ctx, "SELECT asn, any(as_name) FROM asn_ranges WHERE version = toDate(?) AND as_name != '' GROUP BY asn", day)
	if err != nil {
		return nil, fmt.Errorf("load IP-to-ASN table %s: AS names: %w", day, err)
	}
	defer rows.Close()
	names := make(map[uint32]string)
	for rows.Next() {
		var (
			asn  uint32
			name string
		)
		if err := rows.Scan(&asn, &name); err != nil {
			return nil, fmt.Errorf("load IP-to-ASN table %s: AS names: %w", day, err)
		}
		names[asn] = name
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("load IP-to-ASN table %s: AS names: %w", day, err)
	}
	return names, nil
}
