package store

import (
	"context"
	"fmt"
	"time"
)

// Cursor is a scan's plan cursor: how far the feeder has published the
// scan's plan (its units in plan order, see internal/plan).
type Cursor struct {
	// Scan names the scan.
	Scan string
	// Planned is the number of units of the plan.
	Planned int
	// Published is the cursor: every unit at a plan position below it was
	// acknowledged by the work stream (and may have finished since).
	Published int
	// InFlight is how many units after Published the feeder may have
	// published without recording it: a resuming feeder checks each of
	// [Published, Published+InFlight) before publishing it again.
	InFlight int
	// UpdatedAt is when the cursor was saved; zero means now on save.
	UpdatedAt time.Time
}

// Done reports whether the whole plan is published.
func (c Cursor) Done() bool { return c.Published >= c.Planned }

const insertCursor = "INSERT INTO feed (scan, planned, published, in_flight, updated_at)"

// SaveCursor records c. The record with the highest Published is the
// scan's cursor, so saving an older one again changes nothing. It is safe
// for concurrent use.
func (s *Store) SaveCursor(ctx context.Context, c Cursor) error {
	if c.Scan == "" {
		return fmt.Errorf("save cursor: empty scan name")
	}
	if c.Planned < 0 || c.Published < 0 || c.Published > c.Planned || c.InFlight < 0 || int64(c.InFlight) > int64(^uint32(0)) {
		return fmt.Errorf("save cursor of scan %s: published %d, in flight %d of %d planned: out of range", c.Scan, c.Published, c.InFlight, c.Planned)
	}
	at := c.UpdatedAt
	if at.IsZero() {
		at = time.Now()
	}
	return s.sendColumns(ctx, insertCursor, "save cursor of scan "+c.Scan,
		[]string{c.Scan}, []uint64{uint64(c.Planned)}, []uint64{uint64(c.Published)}, []uint32{uint32(c.InFlight)}, []time.Time{at})
}

// Cursor returns the scan's cursor; found is false when none was saved. It
// is safe for concurrent use.
func (s *Store) Cursor(ctx context.Context, scan string) (c Cursor, found bool, err error) {
	rows, err := s.conn.Query(ctx, `SELECT planned, published, in_flight, updated_at FROM feed
		WHERE scan = ? ORDER BY published DESC, updated_at DESC LIMIT 1`, scan)
	if err != nil {
		return Cursor{}, false, fmt.Errorf("cursor of scan %s: %w", scan, err)
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return Cursor{}, false, fmt.Errorf("cursor of scan %s: %w", scan, err)
		}
		return Cursor{}, false, nil
	}
	var (
		planned, published uint64
		inFlight           uint32
	)
	c.Scan = scan
	if err := rows.Scan(&planned, &published, &inFlight, &c.UpdatedAt); err != nil {
		return Cursor{}, false, fmt.Errorf("cursor of scan %s: %w", scan, err)
	}
	c.Planned, c.Published, c.InFlight = int(planned), int(published), int(inFlight)
	c.UpdatedAt = c.UpdatedAt.UTC()
	return c, true, rows.Err()
}

// Logged returns the plan positions (Seq) in [from, to) of the scan's
// units that have a record in the unit log: done, failed or queued again,
// so published at some time. It is safe for concurrent use.
func (s *Store) Logged(ctx context.Context, scan string, from, to int) (map[int]bool, error) {
	out := map[int]bool{}
	if from < 0 || to <= from {
		return out, nil
	}
	rows, err := s.conn.Query(ctx, "SELECT DISTINCT seq FROM units WHERE scan = ? AND seq >= ? AND seq < ?", scan, uint32(from), uint32(min(int64(to), int64(^uint32(0)))))
	if err != nil {
		return nil, fmt.Errorf("logged units of scan %s: %w", scan, err)
	}
	defer rows.Close()
	for rows.Next() {
		var seq uint32
		if err := rows.Scan(&seq); err != nil {
			return nil, fmt.Errorf("logged units of scan %s: %w", scan, err)
		}
		out[int(seq)] = true
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("logged units of scan %s: %w", scan, err)
	}
	return out, nil
}
