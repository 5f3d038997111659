package resolve

import (
	"bufio"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"
)

// defaultPort is the DNS port added to servers given without one.
const defaultPort = "53"

// ParseServers parses a comma-separated list of resolvers such as
// "127.0.0.1:53,127.0.0.2,[::1]:5353,::1" into "host:port" strings. A server
// without a port gets port 53; IPv6 addresses with a port are bracketed.
// Every host must be an IP literal. It returns ErrNoServers for an empty
// list and an error wrapping ErrBadServer that names the first bad item.
func ParseServers(list string) ([]string, error) {
	if strings.TrimSpace(list) == "" {
		return nil, fmt.Errorf("parse servers: %w", ErrNoServers)
	}
	var out []string
	for i, item := range strings.Split(list, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			return nil, fmt.Errorf("parse servers: item %d is empty: %w", i+1, ErrBadServer)
		}
		s, err := parseServer(item)
		if err != nil {
			return nil, fmt.Errorf("parse servers: %w", err)
		}
		out = append(out, s)
	}
	return out, nil
}

// parseServer turns one item into "host:port", adding the default port.
func parseServer(item string) (string, error) {
	host := item
	if strings.HasPrefix(host, "[") && strings.HasSuffix(host, "]") {
		host = host[1 : len(host)-1]
	}
	if a, err := netip.ParseAddr(host); err == nil {
		return net.JoinHostPort(a.String(), defaultPort), nil
	}
	if _, err := checkServer(item); err != nil {
		return "", err
	}
	return item, nil
}

// checkServer parses s, a "host:port" with an IP-literal host and a port in
// 1–65535.
func checkServer(s string) (netip.AddrPort, error) {
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("%w %q: want host:port: %v", ErrBadServer, s, err)
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("%w %q: host %q is not an IP address", ErrBadServer, s, host)
	}
	n, err := strconv.ParseUint(port, 10, 16)
	if err != nil || n == 0 {
		return netip.AddrPort{}, fmt.Errorf("%w %q: port %q is not a number in 1-65535", ErrBadServer, s, port)
	}
	return netip.AddrPortFrom(a, uint16(n)), nil
}

// SystemServers returns the nameservers of a resolv.conf file (usually
// "/etc/resolv.conf") as "host:53" strings, in file order. It returns an
// error wrapping ErrNoServers when the file names none, and one wrapping
// ErrBadServer naming the line when a nameserver is not an IP address.
func SystemServers(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read resolv.conf: %w", err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		fields := strings.Fields(sc.Text())
		if len(fields) < 2 || fields[0] != "nameserver" {
			continue // comments (# or ;), other options, blank lines
		}
		a, err := netip.ParseAddr(fields[1])
		if err != nil {
			return nil, fmt.Errorf("%s:%d: nameserver %q is not an IP address: %w", path, n, fields[1], ErrBadServer)
		}
		out = append(out, net.JoinHostPort(a.String(), defaultPort))
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: %w", path, ErrNoServers)
	}
	return out, nil
}

// server is one resolver with its limits and health.
type server struct {
	addr    netip.AddrPort
	limiter *rate.Limiter // nil: unlimited
	rtt     rttEstimator
	fails   atomic.Int64 // consecutive tries without a valid answer
	ejected atomic.Int64 // unix nanoseconds until which it is skipped
	next    atomic.Uint32
}

// Ejection: a server that fails this many tries in a row while another
// server is usable is skipped for ejectFor.
const (
	ejectAfter = 200
	ejectFor   = 10 * time.Second
)

// pick returns the index of the server for round-robin position k: the
// first server from there that is not ejected, or k's own when all are.
func (r *Resolver) pick(k uint64) int {
	n := uint64(len(r.servers))
	if !r.anyEjected.Load() {
		return int(k % n)
	}
	now := time.Now().UnixNano()
	for j := range n {
		if i := (k + j) % n; r.servers[i].ejected.Load() <= now {
			return int(i)
		}
	}
	return int(k % n)
}

// failed records a try of server i that got no valid answer and ejects
// the server after ejectAfter in a row, when another server is usable.
func (r *Resolver) failed(i int) {
	srv := r.servers[i]
	if srv.fails.Add(1) < ejectAfter || len(r.servers) < 2 {
		return
	}
	now := time.Now().UnixNano()
	usable := 0
	for j, s := range r.servers {
		if j != i && s.ejected.Load() <= now {
			usable++
		}
	}
	if usable == 0 {
		return
	}
	srv.fails.Store(0)
	srv.ejected.Store(now + int64(ejectFor))
	r.anyEjected.Store(true)
	r.stats.ejected.Add(1)
	slog.Warn("resolve: DNS server ejected", "server", srv.addr.String(), "failed_tries", ejectAfter, "for", ejectFor)
}
