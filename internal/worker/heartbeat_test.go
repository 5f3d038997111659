package worker

import (
	"testing"
	"time"
)

func TestHeartbeatFor(t *testing.T) {
	tests := []struct{ ackWait, want time.Duration }{
		{60 * time.Second, 15 * time.Second},
		{2 * time.Second, time.Second},
		{0, time.Second},
	}
	for _, tt := range tests {
		if got := HeartbeatFor(tt.ackWait); got != tt.want {
			t.Errorf("HeartbeatFor(%s) = %s, want %s", tt.ackWait, got, tt.want)
		}
	}
}
