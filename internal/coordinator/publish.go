package coordinator

import (
	"context"
	"fmt"
	"io"

	"github.com/ptrsweep/ptrsweep/internal/plan"
	"github.com/ptrsweep/ptrsweep/internal/queue"
	"github.com/ptrsweep/ptrsweep/internal/store"
)

// Publish feeds the scan of p to the work queue: it records the scan (or
// checks that an existing one was planned alike), then publishes its units
// in plan order, at most fc.MaxPending queued at a time, until the plan is
// exhausted; with a bound below the plan's size it runs as long as the
// workers take to drain all but the last units. A re-run, or a restart
// after a crash, resumes from the scan's saved cursor and publishes no unit
// that is queued or finished. Progress lines go to fc.Progress, the
// summary to out.
func Publish(ctx context.Context, conn Conn, p *plan.Plan, fc FeedConfig, out io.Writer) error {
	st, err := store.Open(ctx, conn.ClickHouse)
	if err != nil {
		return err
	}
	defer st.Close()
	q, err := queue.Connect(ctx, conn.queueConfig(clientCoordinator, false))
	if err != nil {
		return err
	}
	defer q.Close()
	return publish(ctx, st, q, p, fc, out)
}

// publishStore is what publish needs of the store.
type publishStore interface {
	feedStore
	progressReader
}

// publish runs the feeder and prints what it did.
func publish(ctx context.Context, st publishStore, q feedQueue, p *plan.Plan, fc FeedConfig, out io.Writer) error {
	name := p.Record().Name
	f, err := newFeeder(ctx, st, q, p, fc)
	if err != nil {
		return err
	}
	if f.res.AlreadyPublished {
		prog, err := st.Progress(ctx, name)
		if err != nil {
			return err
		}
		finished := prog.UnitsDone + prog.UnitsFailed
		if finished >= p.Len() {
			fmt.Fprintf(out, "scan %s is complete: all %d units published and finished (%d done, %d failed); nothing to publish\n",
				name, p.Len(), prog.UnitsDone, prog.UnitsFailed)
		} else {
			fmt.Fprintf(out, "scan %s: all %d units were published before, %d not finished yet; nothing to publish (coordinator status --scan %s)\n",
				name, p.Len(), p.Len()-finished, name)
		}
		return nil
	}
	res, err := f.run(ctx)
	if err != nil {
		return fmt.Errorf("publish scan %s after %d units: %w", name, res.Published+res.Duplicates, err)
	}
	if res.ResumedAt >= 0 {
		fmt.Fprintf(out, "scan %s: resumed at unit %d of %d; %d units found queued or finished\n", name, res.ResumedAt, p.Len(), res.Skipped)
	}
	fmt.Fprintf(out, "scan %s: %d units published, %d already queued or done, %d addresses\n", name, res.Published, res.Duplicates+res.Skipped, p.Addresses())
	return nil
}
