// Command ptrbench is ptrsweep's benchmark (`make bench`): it generates
// reverse zones for a synthetic space, serves them with Knot DNS on
// 127.0.0.1 (optionally Unbound in front), and measures dnsperf as the
// ceiling (-c 2 and -c 8), massdns as a peer when given one (--massdns or
// $MASSDNS), then the engine alone (worker resolve on a CIDR list, an
// address list and a mix of forms), then the whole pipeline (coordinator
// sweep: embedded NATS, in-process workers, ClickHouse; /24 and /28
// units), and prints one table of queries/s and ratios to dnsperf and
// massdns, every answer checked against the generated truth. See
// internal/testenv/bench for the space.
//
//	ptrbench [--bin bin] [--addresses 1048576] [--space 10.0.0.0/12] [--rounds 3]
//	         [--unbound] [--massdns PATH] [--clickhouse DSN] [--out FILE]
//
// No DNS packet leaves 127.0.0.0/8: the space's addresses are only names in
// the zones.
package main

import (
	"context"
	"os"

	"github.com/ptrsweep/ptrsweep/internal/cli"
)

func main() {
	ctx, cancel := cli.SignalContext(context.Background())
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	cancel()
	os.Exit(code)
}
