package coordinator

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/ptrsweep/ptrsweep/internal/queue"
	"github.com/ptrsweep/ptrsweep/internal/store"
	"github.com/ptrsweep/ptrsweep/internal/sweep"
)

// unitRecorder writes unit-log records.
type unitRecorder interface {
	InsertUnits(ctx context.Context, recs []sweep.UnitRecord) error
}

// deadRetrier moves a scan's dead-lettered units back to the work queue.
type deadRetrier interface {
	Retry(ctx context.Context, scan string) ([]sweep.Unit, error)
}

// Retry moves the dead-lettered units of a scan back to the work queue and
// records them as queued in the unit log, so status counts them pending
// until a worker finishes them.
func Retry(ctx context.Context, conn Conn, scan string, out io.Writer) error {
	st, err := store.Open(ctx, conn.ClickHouse)
	if err != nil {
		return err
	}
	defer st.Close()
	q, err := queue.Connect(ctx, conn.queueConfig(clientCoordinator, true))
	if err != nil {
		return err
	}
	defer q.Close()
	return retry(ctx, st, q, scan, time.Now().UTC(), out)
}

// retry requeues the dead units and records every unit that was moved,
// even when the move stopped part-way, stamped now.
func retry(ctx context.Context, st unitRecorder, q deadRetrier, scan string, now time.Time, out io.Writer) error {
	units, err := q.Retry(ctx, scan)
	var recs []sweep.UnitRecord
	for _, u := range units {
		recs = append(recs, sweep.UnitRecord{Scan: u.Scan, Unit: u.Prefix.String(), Seq: u.Seq, State: sweep.UnitQueued,
			Worker: "coordinator retry", StartedAt: now, FinishedAt: now})
	}
	if len(recs) > 0 {
		if serr := st.InsertUnits(ctx, recs); serr != nil {
			return fmt.Errorf("%d units of scan %s queued again, but recording them failed (status shows them failed until they finish): %w", len(recs), scan, serr)
		}
	}
	if err != nil {
		return fmt.Errorf("retry dead units of scan %s after %d: %w", scan, len(units), err)
	}
	fmt.Fprintf(out, "scan %s: %d failed units queued again\n", scan, len(units))
	return nil
}
