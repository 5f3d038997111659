package lab

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/miekg/dns"
)

// ZoneFile is one zone file written by WriteZones.
type ZoneFile struct {
	// Zone is the apex, fully qualified ("18.198.in-addr.arpa.").
	Zone string
	// Path is the file's path.
	Path string
}

// deadServers are where the servfail, refused and silent /24s are delegated
// in zone files: loopback addresses on which nothing listens on port 53, so
// a recursive resolver gets no answer and returns SERVFAIL.
var deadServers = map[Class]string{ClassServFail: "127.0.0.3", ClassRefused: "127.0.0.4", ClassSilent: "127.0.0.5"}

// WriteZones writes RFC 1035 zone files for Knot DNS into dir (created if
// missing): the reverse zone of the lab's /16 and the forward zones
// lab.example, fleet.example and evil.example. broken.example gets no file:
// an authoritative server that does not serve it answers REFUSED, so a
// recursive resolver stubbed to it returns SERVFAIL. The servfail, refused
// and silent /24s are delegations (NS and glue) to 127.0.0.3, .4 and .5,
// where nothing answers. Names are written with every byte other than
// letters, digits, '-' and '_' as \DDD.
func (l *Lab) WriteZones(dir string) ([]ZoneFile, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("write zones: %w", err)
	}
	byZone := make(map[*zone][]string)
	for key := range l.nodes {
		z := l.zoneOf(key)
		byZone[z] = append(byZone[z], key)
	}
	var out []ZoneFile
	for _, z := range l.zones {
		if z.broken {
			continue
		}
		keys := byZone[z]
		slices.Sort(keys)
		path := filepath.Join(dir, strings.TrimSuffix(z.fqdn, ".")+".zone")
		if err := l.writeZone(path, z, keys); err != nil {
			return nil, fmt.Errorf("write zone %s: %w", z.fqdn, err)
		}
		out = append(out, ZoneFile{Zone: z.fqdn, Path: path})
	}
	return out, nil
}

// writeFile creates path and fills it through a buffered writer.
func writeFile(path string, fill func(w *bufio.Writer) error) (err error) {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}()
	w := bufio.NewWriterSize(f, 1<<16)
	if err := fill(w); err != nil {
		return err
	}
	return w.Flush()
}

func (l *Lab) writeZone(path string, z *zone, keys []string) error {
	return writeFile(path, func(w *bufio.Writer) error { return l.fillZone(w, z, keys) })
}

func (l *Lab) fillZone(w *bufio.Writer, z *zone, keys []string) error {
	fmt.Fprintf(w, "$ORIGIN %s\n$TTL %d\n", z.fqdn, TTL)
	soa := z.soa
	fmt.Fprintf(w, "@ %d IN SOA %s %s %d %d %d %d %d\n", NegativeTTL, soa.Ns, soa.Mbox,
		soa.Serial, soa.Refresh, soa.Retry, soa.Expire, soa.Minttl)
	fmt.Fprintf(w, "@ %d IN NS %s\n", TTL, z.ns.Ns)
	if z.reverse {
		a := l.space.Addr().As4()
		for c := 0; c < 256; c++ {
			dead, ok := deadServers[classOf(byte(c))]
			if !ok {
				continue
			}
			owner := fmt.Sprintf("%d.%d.%d.in-addr.arpa.", c, a[1], a[0])
			fmt.Fprintf(w, "%s %d IN NS ns.%s\n", owner, TTL, owner)
			fmt.Fprintf(w, "ns.%s %d IN A %s\n", owner, TTL, dead)
		}
	}
	for _, key := range keys {
		n := l.nodes[key]
		owner, err := zoneName(key + ".")
		if err != nil {
			return err
		}
		if n.cname != "" {
			t, err := zoneName(n.cname)
			if err != nil {
				return err
			}
			fmt.Fprintf(w, "%s %d IN CNAME %s\n", owner, TTL, t)
		}
		for _, p := range n.ptrs {
			t, err := zoneName(p)
			if err != nil {
				return err
			}
			fmt.Fprintf(w, "%s %d IN PTR %s\n", owner, TTL, t)
		}
		for _, a := range n.a {
			fmt.Fprintf(w, "%s %d IN A %s\n", owner, TTL, a)
		}
		if n.txt {
			fmt.Fprintf(w, "%s %d IN TXT \"no PTR here\"\n", owner, TTL)
		}
	}
	return nil
}

// zoneName rewrites a presentation name (fully qualified) in the most
// portable zone-file form: letters, digits, '-' and '_' as they are, every
// other byte of a label as \DDD.
func zoneName(name string) (string, error) {
	buf := make([]byte, 256)
	n, err := dns.PackDomainName(name, buf, 0, nil, false)
	if err != nil {
		return "", fmt.Errorf("name %q: %w", name, err)
	}
	var b strings.Builder
	for i := 0; i < n && buf[i] != 0; {
		ln := int(buf[i])
		for _, c := range buf[i+1 : i+1+ln] {
			switch {
			case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '-', c == '_':
				b.WriteByte(c)
			default:
				fmt.Fprintf(&b, `\%03d`, c)
			}
		}
		b.WriteByte('.')
		i += 1 + ln
	}
	if b.Len() == 0 {
		return ".", nil
	}
	return b.String(), nil
}
