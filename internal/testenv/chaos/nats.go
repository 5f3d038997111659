package chaos

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/ptrsweep/ptrsweep/internal/queue"
	"github.com/ptrsweep/ptrsweep/internal/testenv"
)

// NATS is a nats-server process with JetStream on disk and its HTTP
// monitoring port, on 127.0.0.1. Restart keeps the port and the store.
type NATS struct {
	bin     string
	dir     string
	Port    int
	MonPort int
	ps      *procs
	proc    *testenv.Proc
	onStart func(*testenv.Proc)
}

// URL returns the client URL.
func (n *NATS) URL() string { return "nats://127.0.0.1:" + strconv.Itoa(n.Port) }

// Start starts the server and waits until it accepts connections.
func (n *NATS) Start(ctx context.Context) error {
	p, err := n.ps.start("nats-server", nil, nil, n.bin, "-js", "-sd", n.dir, "-a", "127.0.0.1",
		"-p", strconv.Itoa(n.Port), "-m", strconv.Itoa(n.MonPort))
	if err != nil {
		return err
	}
	n.proc = p
	if n.onStart != nil {
		n.onStart(p)
	}
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if err := testenv.WaitTCP(ctx, "127.0.0.1:"+strconv.Itoa(n.Port), p); err != nil {
		return err
	}
	return testenv.WaitTCP(ctx, "127.0.0.1:"+strconv.Itoa(n.MonPort), p)
}

// Stop stops the server with SIGTERM (SIGKILL after 10 s) and waits.
func (n *NATS) Stop() {
	if n.proc != nil && n.proc.Running() {
		n.proc.Stop(10 * time.Second)
	}
}

// StreamState is what the monitoring endpoint says of a stream and of its
// consumer (queue.Consumer).
type StreamState struct {
	Messages, FirstSeq, LastSeq uint64
	// Consumer (zero when the stream has none yet).
	AckWait                     time.Duration
	MaxDeliver                  int
	NumAckPending, NumRedeliver int
	NumPending                  uint64
}

// Stream reads the state of stream name from /jsz.
func (n *NATS) Stream(ctx context.Context, name string) (StreamState, error) {
	u := fmt.Sprintf("http://127.0.0.1:%d/jsz?streams=true&consumers=true&config=true", n.MonPort)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return StreamState{}, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return StreamState{}, fmt.Errorf("nats /jsz: %w", err)
	}
	defer resp.Body.Close()
	var jsz struct {
		AccountDetails []struct {
			StreamDetail []struct {
				Name  string `json:"name"`
				State struct {
					Messages uint64 `json:"messages"`
					FirstSeq uint64 `json:"first_seq"`
					LastSeq  uint64 `json:"last_seq"`
				} `json:"state"`
				Consumers []struct {
					Name   string `json:"name"`
					Config struct {
						AckWait    int64 `json:"ack_wait"`
						MaxDeliver int   `json:"max_deliver"`
					} `json:"config"`
					NumAckPending  int    `json:"num_ack_pending"`
					NumRedelivered int    `json:"num_redelivered"`
					NumPending     uint64 `json:"num_pending"`
				} `json:"consumer_detail"`
			} `json:"stream_detail"`
		} `json:"account_details"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&jsz); err != nil {
		return StreamState{}, fmt.Errorf("nats /jsz: %w", err)
	}
	for _, a := range jsz.AccountDetails {
		for _, s := range a.StreamDetail {
			if s.Name != name {
				continue
			}
			st := StreamState{Messages: s.State.Messages, FirstSeq: s.State.FirstSeq, LastSeq: s.State.LastSeq}
			for _, c := range s.Consumers {
				if c.Name == queue.Consumer {
					st.AckWait = time.Duration(c.Config.AckWait)
					st.MaxDeliver = c.Config.MaxDeliver
					st.NumAckPending, st.NumRedeliver, st.NumPending = c.NumAckPending, c.NumRedelivered, c.NumPending
				}
			}
			return st, nil
		}
	}
	return StreamState{}, nil
}
