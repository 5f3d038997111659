package queue

import (
	"context"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/ptrsweep/ptrsweep/internal/sweep"
)

// Present returns the plan positions (Unit.Seq) in [from, to) whose units
// of scan the work stream holds, in any state short of acknowledged. It
// reads the messages of the buckets the range touches (at most 4096 per
// bucket, fewer once workers took some), so keep the range to a feeder's
// batch. A message of the range that does not decode counts as absent: it
// is on its way to the dead-letter stream. It is safe for concurrent use.
func (q *Queue) Present(ctx context.Context, scan string, from, to int) (map[int]bool, error) {
	if err := sweep.ValidateScanName(scan); err != nil {
		return nil, err
	}
	if from < 0 || to < from {
		return nil, fmt.Errorf("present units of scan %s: bad range [%d, %d)", scan, from, to)
	}
	out := map[int]bool{}
	if from == to {
		return out, nil
	}
	for b := from / unitBucket; b <= (to-1)/unitBucket; b++ {
		subject := bucketSubject(scan, b)
		for seq := uint64(1); ; {
			raw, err := q.work.GetMsg(ctx, seq, jetstream.WithGetMsgSubject(subject))
			if errors.Is(err, jetstream.ErrMsgNotFound) {
				break
			}
			if err != nil {
				return nil, fmt.Errorf("read queued units of scan %s on %s: %w", scan, subject, err)
			}
			if u, err := decodeUnit(raw.Data, scan); err == nil && u.Seq >= from && u.Seq < to {
				out[u.Seq] = true
			}
			seq = raw.Sequence + 1
		}
	}
	return out, nil
}
