package queue

import (
	"context"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/ptrsweep/ptrsweep/internal/sweep"
)

// Pending counts the units of one scan that are not done.
type Pending struct {
	// Queued is the number of the scan's units in the work stream that are
	// not delivered right now: waiting for a first or a next delivery, or
	// (briefly) having reached MaxDeliver until WatchMaxDeliveries moves
	// them. Queued+InFlight is exact: the work stream's message count for
	// the scan's subjects (see Queue.Queued).
	Queued int
	// InFlight is the number of units delivered and not yet acknowledged.
	// The server counts these for the shared consumer, not per scan, so
	// InFlight is that count capped at the scan's stored units: exact while
	// one scan runs, an upper bound when several run at once.
	InFlight int
	// Dead is the number of the scan's units in the dead-letter stream.
	Dead int
}

// Pending returns the scan's queued, in-flight and dead unit counts.
func (q *Queue) Pending(ctx context.Context, scan string) (Pending, error) {
	if err := sweep.ValidateScanName(scan); err != nil {
		return Pending{}, err
	}
	stored, err := q.Queued(ctx, scan)
	if err != nil {
		return Pending{}, err
	}
	ci, err := q.cons.Info(ctx)
	if err != nil {
		return Pending{}, fmt.Errorf("consumer %s info: %w", Consumer, err)
	}
	dead, err := subjectCount(ctx, q.dead, deadSubject(scan))
	if err != nil {
		return Pending{}, err
	}
	inFlight := min(ci.NumAckPending, stored)
	return Pending{Queued: stored - inFlight, InFlight: inFlight, Dead: dead}, nil
}

// Queued returns how many of the scan's units the work stream holds: waiting
// for delivery, delivered and not yet acknowledged, or having reached
// MaxDeliver until WatchMaxDeliveries moves them. It costs one stream-info
// request listing the scan's work subjects, one per 4096 consecutive plan
// positions that still have a unit queued. It is safe for concurrent use.
func (q *Queue) Queued(ctx context.Context, scan string) (int, error) {
	if err := sweep.ValidateScanName(scan); err != nil {
		return 0, err
	}
	return subjectCount(ctx, q.work, scanWildcard(scan))
}

// subjectCount returns how many messages of stream s are on the subjects
// filter matches.
func subjectCount(ctx context.Context, s jetstream.Stream, filter string) (int, error) {
	info, err := s.Info(ctx, jetstream.WithSubjectFilter(filter))
	if err != nil {
		return 0, fmt.Errorf("stream info for %s: %w", filter, err)
	}
	n := 0
	for _, c := range info.State.Subjects {
		n += int(c)
	}
	return n, nil
}

// Idle reports whether the shared consumer has nothing left for anybody:
// no unit waiting for delivery and none delivered but unacknowledged, over
// all scans. Units that reached MaxDeliver and await WatchMaxDeliveries do
// not count.
func (q *Queue) Idle(ctx context.Context) (bool, error) {
	ci, err := q.cons.Info(ctx)
	if err != nil {
		return false, fmt.Errorf("consumer %s info: %w", Consumer, err)
	}
	return ci.NumPending == 0 && ci.NumAckPending == 0, nil
}
