package resolve

import (
	"bufio"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
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
