package cli

import (
	"bytes"
	"flag"
	"testing"

	"github.com/ptrsweep/ptrsweep/internal/queue"
)

func TestDescribeNATS(t *testing.T) {
	tests := []struct {
		qc   queue.Config
		want string
	}{
		{queue.Config{}, "nats=none"},
		{queue.Config{URL: "nats://127.0.0.1:4222"}, "nats=nats://127.0.0.1:4222 nats_auth=none nats_tls=false"},
		{queue.Config{URL: "nats://u:s3cret@10.0.0.1:4222/x?y=1, tls://tok@10.0.0.2"}, "nats=nats://10.0.0.1:4222,tls://10.0.0.2 nats_auth=url nats_tls=true"},
		{queue.Config{URL: "nats://10.0.0.1", Auth: queue.Auth{User: "w", Password: "s3cret", CAFile: "/ca.pem"}}, "nats=nats://10.0.0.1 nats_auth=user nats_tls=true"},
		{queue.Config{URL: "10.0.0.1:4222", Auth: queue.Auth{Token: "s3cret"}}, "nats=10.0.0.1:4222 nats_auth=token nats_tls=false"},
		{queue.Config{URL: "nats://10.0.0.1", Auth: queue.Auth{CredsFile: "/w.creds"}}, "nats=nats://10.0.0.1 nats_auth=creds nats_tls=false"},
	}
	for _, tt := range tests {
		if got := DescribeNATS(tt.qc); got != tt.want {
			t.Errorf("DescribeNATS(%q) = %q, want %q", tt.qc.URL, got, tt.want)
		}
	}
}

func TestDescribeClickHouse(t *testing.T) {
	tests := []struct{ dsn, want string }{
		{"clickhouse://127.0.0.1:9000/ptrsweep", "clickhouse=default@127.0.0.1:9000/ptrsweep clickhouse_tls=false"},
		{"clickhouse://w:s3cret@10.0.0.1/db?secure=true", "clickhouse=w@10.0.0.1:9440/db clickhouse_tls=true"},
		{"mysql://x", "clickhouse=invalid"},
	}
	for _, tt := range tests {
		if got := DescribeClickHouse(tt.dsn); got != tt.want {
			t.Errorf("DescribeClickHouse(%q) = %q, want %q", tt.dsn, got, tt.want)
		}
	}
}

func TestCheckConfigDone(t *testing.T) {
	for _, on := range []bool{false, true} {
		fs := flag.NewFlagSet("demo", flag.ContinueOnError)
		var c CheckConfig
		c.Register(fs)
		var args []string
		if on {
			args = []string{"--check-config"}
		}
		if err := Parse(fs, args); err != nil {
			t.Fatal(err)
		}
		var w bytes.Buffer
		got := c.Done(&w, "demo", "a=1")
		want := ""
		if on {
			want = "config ok: demo a=1\n"
		}
		if got != on || w.String() != want {
			t.Errorf("--check-config=%v: Done = %v writing %q, want %v writing %q", on, got, w.String(), on, want)
		}
	}
}
