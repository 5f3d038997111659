package resolve

import (
	"net"
	"net/netip"
	"sync"
	"time"
)

// tcpIdleMax is the number of idle TCP connections kept per server.
const tcpIdleMax = 4

// tcpPool keeps a few idle TCP connections per server for the answers that
// arrive truncated over UDP, so each does not pay a new handshake: a DNS
// TCP connection carries any number of queries, one after the other
// (RFC 7766). A connection goes back to the pool only after a complete,
// matching exchange, so nothing stale waits on it. The zero value is
// ready; it is safe for concurrent use.
type tcpPool struct {
	mu   sync.Mutex
	idle map[netip.AddrPort][]net.Conn
}

// get returns an idle connection to server, or nil.
func (p *tcpPool) get(server netip.AddrPort) net.Conn {
	p.mu.Lock()
	defer p.mu.Unlock()
	cs := p.idle[server]
	if len(cs) == 0 {
		return nil
	}
	c := cs[len(cs)-1]
	p.idle[server] = cs[:len(cs)-1]
	return c
}

// put returns a healthy connection to the pool, or closes it when the pool
// is full.
func (p *tcpPool) put(server netip.AddrPort, c net.Conn) {
	_ = c.SetDeadline(time.Time{})
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.idle == nil {
		p.idle = make(map[netip.AddrPort][]net.Conn)
	}
	if len(p.idle[server]) >= tcpIdleMax {
		c.Close()
		return
	}
	p.idle[server] = append(p.idle[server], c)
}

// closeAll closes every idle connection.
func (p *tcpPool) closeAll() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for s, cs := range p.idle {
		for _, c := range cs {
			c.Close()
		}
		delete(p.idle, s)
	}
}
