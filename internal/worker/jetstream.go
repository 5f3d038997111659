package worker

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/ptrsweep/ptrsweep/internal/queue"
	"github.com/ptrsweep/ptrsweep/internal/sweep"
)

// JetStream adapts a *queue.Queue to the Queue the worker needs.
func JetStream(q *queue.Queue) Queue { return jsQueue{q} }

type jsQueue struct{ q *queue.Queue }

func (j jsQueue) Fetch(ctx context.Context, max int) ([]Delivery, error) {
	ds, err := j.q.Fetch(ctx, max)
	if err != nil {
		return nil, err
	}
	out := make([]Delivery, len(ds))
	for i, d := range ds {
		out[i] = d
	}
	return out, nil
}

func (j jsQueue) DeadLetter(ctx context.Context, d Delivery, reason string) error {
	qd, ok := d.(*queue.Delivery)
	if !ok {
		return fmt.Errorf("dead-letter unit %s: not a JetStream delivery", d.Unit().ID())
	}
	return j.q.DeadLetter(ctx, qd, reason)
}

func (j jsQueue) Idle(ctx context.Context) (bool, error) { return j.q.Idle(ctx) }

var _ interface {
	Nak(context.Context, time.Duration) error
} = (*queue.Delivery)(nil)

// WatchDead runs until ctx ends: units that exhausted their deliveries
// without anybody dead-lettering them (their last worker died) are moved to
// the dead-letter stream by the queue, and recorded here as failed in the
// unit log, so that status reports them and a sweep can finish.
func WatchDead(ctx context.Context, q *queue.Queue, st Store, log *slog.Logger) error {
	return q.WatchMaxDeliveries(ctx, func(u sweep.Unit, attempt uint32, reason string) error {
		now := time.Now().UTC()
		rec := sweep.UnitRecord{Scan: u.Scan, Unit: u.Prefix.String(), Seq: u.Seq, State: sweep.UnitFailed,
			Attempt: attempt, Error: reason, StartedAt: now, FinishedAt: now, Worker: "dead-letter watcher"}
		if err := st.InsertUnits(ctx, []sweep.UnitRecord{rec}); err != nil {
			log.Warn("record dead unit; the advisory will be handled again", "unit", u.ID(), "err", err)
			return err
		}
		return nil
	})
}
