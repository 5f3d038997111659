package sweep

import (
	"context"
	"time"
)

// Sleep waits d, or until ctx is done and then returns ctx's error. The
// loops that back off or poll (queue publishing, the coordinator's feeder)
// share it.
func Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
