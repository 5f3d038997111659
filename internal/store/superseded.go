package store

import (
	"context"
	"fmt"
)

const insertSuperseded = "INSERT INTO superseded (scan, unit, below)"

// Supersede is one entry of the superseded table: every ptr row of the unit
// with an attempt below Below belongs to an earlier attempt and is stale.
type Supersede struct {
	Scan string
	// Unit is the unit's CIDR, as in sweep.Row.Unit.
	Unit string
	// Below is the attempt ID of the attempt whose rows are now the unit's.
	Below uint64
}

// InsertSuperseded stores entries in one INSERT. A worker calls it for a unit
// that may have been stored by an earlier attempt, after the unit's rows and
// before its unit-log record, so that from then on every read (Search,
// Export, the ptr_current view) shows only the rows of the latest stored
// attempt. Entries of one unit combine by max(Below), so storing one again
// is harmless. It is safe for concurrent use; errors that retrying cannot
// fix match ErrPermanent.
func (s *Store) InsertSuperseded(ctx context.Context, es []Supersede) error {
	if len(es) == 0 {
		return nil
	}
	scans, units, below := make([]string, len(es)), make([]string, len(es)), make([]uint64, len(es))
	for i, e := range es {
		if e.Scan == "" || e.Unit == "" {
			return fmt.Errorf("insert superseded: entry %d: empty scan or unit", i)
		}
		scans[i], units[i], below[i] = e.Scan, e.Unit, e.Below
	}
	return s.sendColumns(ctx, insertSuperseded, fmt.Sprintf("insert %d superseded entries", len(es)), scans, units, below)
}
