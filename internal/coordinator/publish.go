package coordinator

import (
	"context"
	"fmt"
	"io"

	"github.com/ptrsweep/ptrsweep/internal/plan"
	"github.com/ptrsweep/ptrsweep/internal/queue"
	"github.com/ptrsweep/ptrsweep/internal/store"
)

// Publish plans nothing itself: it records the scan and publishes every unit
// of p. Units already queued (same scan and CIDR, within the stream's
// duplicate window) are not published again.
func Publish(ctx context.Context, conn Conn, p *plan.Plan, out io.Writer) error {
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
	return publish(ctx, st, q, p, out)
}

// publish saves the scan record, then publishes its units.
func publish(ctx context.Context, st scanSaver, q unitPublisher, p *plan.Plan, out io.Writer) error {
	rec := p.Record()
	if err := st.SaveScan(ctx, rec); err != nil {
		return fmt.Errorf("save scan %s: %w", rec.Name, err)
	}
	pub, dup, err := q.PublishAll(ctx, p.All(), nil)
	if err != nil {
		return fmt.Errorf("publish scan %s after %d units: %w", rec.Name, pub+dup, err)
	}
	fmt.Fprintf(out, "scan %s: %d units published, %d already queued, %d addresses\n", rec.Name, pub, dup, p.Addresses())
	return nil
}
