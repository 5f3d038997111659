package k8srehearsal

import "testing"

func TestRewriter(t *testing.T) {
	rw := rewriter("nats:4222", "127.0.0.1:1000", "127.0.0.1:53", "127.0.0.1:2000", ":9090", "127.0.0.1:3000")
	for _, c := range []struct{ in, want string }{
		{"nats://nats:4222", "nats://127.0.0.1:1000"},
		{"nats://nats:42220", "nats://nats:42220"},
		{"nats://mynats:4222", "nats://mynats:4222"},
		{"--resolvers=127.0.0.1:53", "--resolvers=127.0.0.1:2000"},
		{"--resolvers=127.0.0.1:5353", "--resolvers=127.0.0.1:5353"},
		{"--metrics-listen=:9090", "--metrics-listen=127.0.0.1:3000"},
	} {
		if got := rw(c.in); got != c.want {
			t.Errorf("rewrite(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestSetLine(t *testing.T) {
	in := "server:\n    port: 53\n    control-port: 8953\nhttp_port: 8222\n"
	got := setLine(setLine(in, "port", "5300"), "control-port", "9000")
	want := "server:\n    port: 5300\n    control-port: 9000\nhttp_port: 8222\n"
	if got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}
