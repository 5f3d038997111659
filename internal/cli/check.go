// The --check-config flag: parse flags, environment and files exactly as a
// run would, report "config ok: …" and exit 0 without connecting.

package cli

import (
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/ptrsweep/ptrsweep/internal/queue"
	"github.com/ptrsweep/ptrsweep/internal/resolve"
	"github.com/ptrsweep/ptrsweep/internal/store"
	"github.com/ptrsweep/ptrsweep/internal/sweep"
)

// EnvMetricsListen stands in for --metrics-listen, the address of the
// metrics and health server of the long-running commands.
const EnvMetricsListen = "PTRSWEEP_METRICS_LISTEN"

// CheckConfig holds the --check-config flag. Register it on a flag set,
// parse, check everything a run checks, then call Done before connecting.
// It is not safe for concurrent use.
type CheckConfig struct{ on bool }

// Register adds --check-config to fs.
func (c *CheckConfig) Register(fs *flag.FlagSet) {
	fs.BoolVar(&c.on, "check-config", false,
		"check flags, environment and the files they name as a run would, print \"config ok: …\" and exit 0 without connecting to anything (exit 2 on bad config)")
}

// Done reports whether --check-config was given; if so it first writes
// one line "config ok: " and the fields, space-separated, to w. Fields
// must hold no secret (see DescribeNATS, DescribeClickHouse).
func (c *CheckConfig) Done(w io.Writer, fields ...string) bool {
	if !c.on {
		return false
	}
	fmt.Fprintf(w, "config ok: %s\n", strings.Join(fields, " "))
	return true
}

// CheckScan checks a --scan name (sweep.ValidateScanName) as a usage
// error naming the flag.
func CheckScan(name string) error {
	if err := sweep.ValidateScanName(name); err != nil {
		return Usagef("--scan: %v", err)
	}
	return nil
}

// DescribeNATS returns "nats=URL,…" for a config-ok line: the servers
// without any user or password, the way of authenticating and whether TLS
// is on; "nats=none" without a URL.
func DescribeNATS(qc queue.Config) string {
	if qc.URL == "" {
		return "nats=none"
	}
	var urls []string
	tls, inURL := qc.Auth.TLS(), false
	for _, u := range strings.Split(qc.URL, ",") {
		u = strings.TrimSpace(u)
		scheme, rest, ok := strings.Cut(u, "://")
		if !ok {
			scheme, rest = "", u
		} else {
			scheme += "://"
			tls = tls || strings.EqualFold(scheme, "tls://")
		}
		host := rest // a path or query of a NATS URL means nothing: left out
		if i := strings.IndexAny(rest, "/?#"); i >= 0 {
			host = rest[:i]
		}
		if at := strings.LastIndexByte(host, '@'); at >= 0 {
			host, inURL = host[at+1:], true
		}
		urls = append(urls, scheme+host)
	}
	a := qc.Auth
	auth := "none"
	switch {
	case a.CredsFile != "":
		auth = "creds"
	case a.NKeyFile != "":
		auth = "nkey"
	case a.User != "":
		auth = "user"
	case a.Token != "":
		auth = "token"
	case inURL:
		auth = "url"
	}
	return fmt.Sprintf("nats=%s nats_auth=%s nats_tls=%t", strings.Join(urls, ","), auth, tls)
}

// DescribeClickHouse returns "clickhouse=user@host:port/db" for a
// config-ok line (never the password), and whether TLS is on.
func DescribeClickHouse(dsn string) string {
	o, err := store.ParseDSN(dsn)
	if err != nil {
		return "clickhouse=invalid" // callers check the DSN first
	}
	return fmt.Sprintf("clickhouse=%s@%s/%s clickhouse_tls=%t", o.User, o.Addr, o.Database, o.Secure)
}

// DescribeResolvers returns "resolvers=a,b qps=N" for a config-ok line.
func DescribeResolvers(rc resolve.Config) string {
	return "resolvers=" + strings.Join(rc.Servers, ",") + " qps=" + strconv.FormatFloat(rc.QPS, 'f', -1, 64)
}
