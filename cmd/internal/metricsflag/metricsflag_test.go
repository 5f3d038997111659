package metricsflag

import (
	"context"
	"flag"
	"io"
	"net/http"
	"testing"

	"github.com/ptrsweep/ptrsweep/internal/cli"
	"github.com/ptrsweep/ptrsweep/internal/queue"
)

func parse(t *testing.T, args ...string) *Flag {
	t.Helper()
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	var f Flag
	f.Register(fs)
	if err := cli.Parse(fs, args); err != nil {
		t.Fatal(err)
	}
	return &f
}

func TestNew(t *testing.T) {
	tests := []struct {
		env, args []string
		wantDesc  string
		wantCode  int
	}{
		{nil, nil, "metrics=off", 0},
		{nil, []string{"--metrics-listen", ":9090"}, "metrics=:9090", 0},
		{[]string{"127.0.0.1:9464"}, nil, "metrics=127.0.0.1:9464", 0},
		{[]string{"127.0.0.1:9464"}, []string{"--metrics-listen", ""}, "metrics=off", 0},
		{nil, []string{"--metrics-listen", "localhost:9090"}, "", 2},
		{nil, []string{"--metrics-listen", "9090"}, "", 2},
	}
	for _, tt := range tests {
		env := ""
		if tt.env != nil {
			env = tt.env[0]
		}
		t.Setenv(cli.EnvMetricsListen, env)
		tel, err := parse(t, tt.args...).New(nil)
		if got := cli.ExitCode(err); got != tt.wantCode {
			t.Errorf("env %q, args %q: New error %v (exit %d), want exit %d", env, tt.args, err, got, tt.wantCode)
			continue
		}
		if err == nil && tel.Describe() != tt.wantDesc {
			t.Errorf("env %q, args %q: Describe() = %q, want %q", env, tt.args, tel.Describe(), tt.wantDesc)
		}
	}
}

type fakeQueue struct{ err error }

func (q fakeQueue) Lag(context.Context) (queue.Lag, error) { return queue.Lag{Pending: 3}, q.err }

type fakeStore struct{}

func (fakeStore) Ping(context.Context) error { return nil }

// TestPendingChecks checks that pending checks fail until Queue and Store
// replace them, and that Start without --metrics-listen serves nothing.
func TestPendingChecks(t *testing.T) {
	off, err := parse(t).New(nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := off.Start(context.Background(), CheckNATS); err != nil || off.Addr() != nil {
		t.Errorf("Start without --metrics-listen: %v, listening on %v; want nothing", err, off.Addr())
	}
	off.Close()

	tel, err := parse(t, "--metrics-listen", "127.0.0.1:0").New(nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := tel.Start(context.Background(), CheckNATS, CheckClickHouse); err != nil {
		t.Fatal(err)
	}
	defer tel.Close()
	readyz := func() int {
		resp, err := http.Get("http://" + tel.Addr().String() + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		io.Copy(io.Discard, resp.Body)
		return resp.StatusCode
	}
	if got := readyz(); got != http.StatusServiceUnavailable {
		t.Errorf("/readyz before connecting = %d, want 503", got)
	}
	if err := tel.Queue(fakeQueue{}); err != nil {
		t.Fatal(err)
	}
	if got := readyz(); got != http.StatusServiceUnavailable {
		t.Errorf("/readyz with clickhouse pending = %d, want 503", got)
	}
	if err := tel.Store(fakeStore{}); err != nil {
		t.Fatal(err)
	}
	if got := readyz(); got != http.StatusOK {
		t.Errorf("/readyz with both connected = %d, want 200", got)
	}
}
