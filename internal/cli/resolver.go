package cli

import (
	"flag"
	"time"

	"github.com/ptrsweep/ptrsweep/internal/resolve"
)

// Resolver holds the flags that say where to resolve and how fast: the
// resolvers, the hard rate limits and the retry policy. Register it on a flag
// set, parse, then call Config. It is not safe for concurrent use.
type Resolver struct {
	servers                 string
	qps, serverQPS, zoneQPS float64
	timeout                 time.Duration
	retries, concurrency    int
	gso                     bool
}

// Register adds --resolvers (env PTRSWEEP_RESOLVERS), --qps,
// --resolver-qps, --zone-qps, --timeout, --retries, --concurrency and
// --udp-gso to fs;
// qpsHelp describes what --qps limits.
func (r *Resolver) Register(fs *flag.FlagSet, qpsHelp string) {
	fs.StringVar(&r.servers, "resolvers", Env(EnvResolvers, ""), "DNS resolvers host[:port], comma-separated (env "+EnvResolvers+"; default: /etc/resolv.conf)")
	fs.Float64Var(&r.qps, "qps", 20000, "hard limit on "+qpsHelp+" DNS queries per second, retries and forward lookups included (0 = unlimited)")
	fs.Float64Var(&r.serverQPS, "resolver-qps", 0, "hard limit on the queries per second sent to each resolver (0 = unlimited)")
	fs.Float64Var(&r.zoneQPS, "zone-qps", 0, "hard limit on the queries per second for the addresses of one /16 reverse zone, so one network's name servers never see a burst (0 = unlimited)")
	fs.DurationVar(&r.timeout, "timeout", resolve.DefaultTimeout, "longest wait of one try of a query (earlier tries wait a retransmit timeout from the measured round-trip time)")
	fs.IntVar(&r.retries, "retries", resolve.DefaultRetries, "extra tries of a query, each on the next resolver")
	fs.IntVar(&r.concurrency, "concurrency", 0, "most addresses in flight at once; the window adapts below it (0 = the resolver's default)")
	fs.BoolVar(&r.gso, "udp-gso", true, "send queries of one length several to a send, cut into datagrams by the kernel (UDP GSO, Linux); false sends each on its own")
}

// Config returns the resolver configuration: the servers from --resolvers
// or /etc/resolv.conf, and the limits. Errors are usage errors naming the
// flag.
func (r *Resolver) Config() (resolve.Config, error) {
	var servers []string
	var err error
	if r.servers != "" {
		if servers, err = resolve.ParseServers(r.servers); err != nil {
			return resolve.Config{}, Usagef("--resolvers: %v", err)
		}
	} else if servers, err = resolve.SystemServers("/etc/resolv.conf"); err != nil {
		return resolve.Config{}, Usagef("no --resolvers given and /etc/resolv.conf is unusable: %v", err)
	}
	switch {
	case r.qps < 0 || r.serverQPS < 0 || r.zoneQPS < 0:
		return resolve.Config{}, Usagef("--qps, --resolver-qps and --zone-qps must be 0 (unlimited) or more")
	case r.timeout <= 0:
		return resolve.Config{}, Usagef("--timeout %s: must be positive", r.timeout)
	case r.retries < 0 || r.concurrency < 0:
		return resolve.Config{}, Usagef("--retries and --concurrency must not be negative")
	}
	retries := r.retries
	if retries == 0 {
		retries = -1 // resolve.Config: 0 means its default, negative means none
	}
	return resolve.Config{Servers: servers, QPS: r.qps, ServerQPS: r.serverQPS, ZoneQPS: r.zoneQPS,
		Timeout: r.timeout, Retries: retries, Concurrency: r.concurrency, NoGSO: !r.gso}, nil
}
