package chaos

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"
)

// Hostile is a DNS server that never gives a usable answer. It forwards each
// query to an upstream server and mangles the reply: half are dropped, the
// rest answered with a wrong message ID, a wrong question (another
// address's PTR), a packet cut short, a truncated reply (TC=1, sending the
// client to TCP, where it answers with a wrong ID), the right answer from
// the wrong source port, random bytes, or the right answer 3 s late. A
// correct resolver must use none of these. It listens on UDP and TCP; Close
// stops it and waits for its goroutines.
type Hostile struct {
	Addr     string
	upstream string
	udp      *net.UDPConn
	tcp      net.Listener
	other    *net.UDPConn // the wrong source port
	n        atomic.Uint64
	ctx      context.Context
	cancel   context.CancelFunc
	wg       sync.WaitGroup
	// Modes counts the replies by mode, for the report.
	modes [hostileModes]atomic.Uint64
}

const hostileModes = 8

var hostileModeNames = [hostileModes]string{"drop", "wrong-id", "wrong-question", "cut-short", "tc-then-bad-tcp", "wrong-port", "random-bytes", "late"}

// StartHostile starts a hostile server on addr (a 127.0.0.0/8 host:port)
// in front of upstream.
func StartHostile(addr, upstream string) (*Hostile, error) {
	ua, err := net.ResolveUDPAddr("udp", addr)
	if err != nil || !ua.IP.IsLoopback() {
		return nil, fmt.Errorf("hostile server: %s is not a loopback address", addr)
	}
	h := &Hostile{Addr: addr, upstream: upstream}
	// The TCP listener takes the UDP port; with :0 that port may be taken
	// for TCP by another process, so try again with another.
	for try := 0; ; try++ {
		if h.udp, err = net.ListenUDP("udp", ua); err != nil {
			return nil, fmt.Errorf("hostile server: %w", err)
		}
		h.Addr = h.udp.LocalAddr().String()
		if h.tcp, err = net.Listen("tcp", h.Addr); err == nil {
			break
		}
		h.udp.Close()
		if ua.Port != 0 || try == 20 {
			return nil, fmt.Errorf("hostile server: %w", err)
		}
	}
	if h.other, err = net.ListenUDP("udp", &net.UDPAddr{IP: ua.IP}); err != nil {
		h.udp.Close()
		h.tcp.Close()
		return nil, fmt.Errorf("hostile server: %w", err)
	}
	h.ctx, h.cancel = context.WithCancel(context.Background())
	h.wg.Add(2)
	go h.serveUDP()
	go h.serveTCP()
	return h, nil
}

// Close stops the server and waits for its goroutines.
func (h *Hostile) Close() error {
	h.cancel()
	h.udp.Close()
	h.tcp.Close()
	h.other.Close()
	h.wg.Wait()
	return nil
}

// Stats returns the number of replies per mode.
func (h *Hostile) Stats() map[string]uint64 {
	out := map[string]uint64{}
	for i := range h.modes {
		out[hostileModeNames[i]] = h.modes[i].Load()
	}
	return out
}

func (h *Hostile) serveUDP() {
	defer h.wg.Done()
	buf := make([]byte, 65535)
	for {
		n, from, err := h.udp.ReadFromUDP(buf)
		if err != nil {
			return
		}
		q := new(dns.Msg)
		if q.Unpack(buf[:n]) != nil || len(q.Question) != 1 {
			continue
		}
		h.wg.Add(1)
		go func() {
			defer h.wg.Done()
			h.reply(q, from)
		}()
	}
}

// reply answers q from upstream, mangled by the query's mode.
func (h *Hostile) reply(q *dns.Msg, to *net.UDPAddr) {
	k := h.n.Add(1)
	mode := 0
	if k%2 == 1 {
		mode = 1 + int(k/2)%(hostileModes-1)
	}
	h.modes[mode].Add(1)
	if mode == 0 {
		return
	}
	c := dns.Client{Net: "udp", Timeout: time.Second, UDPSize: 4096}
	ans, _, err := c.ExchangeContext(h.ctx, q.Copy(), h.upstream)
	if err != nil {
		return
	}
	var wire []byte
	switch hostileModeNames[mode] {
	case "wrong-id":
		ans.Id++
		wire, _ = ans.Pack()
	case "wrong-question":
		// A forged PTR for the asked name, under another question.
		ans.Question[0].Name = "1." + q.Question[0].Name
		ans.Answer = append(ans.Answer, forged(q.Question[0].Name))
		wire, _ = ans.Pack()
	case "cut-short":
		full, _ := ans.Pack()
		wire = full[:max(12, len(full)/2)]
	case "tc-then-bad-tcp":
		tc := new(dns.Msg)
		tc.SetReply(q)
		tc.Truncated = true
		wire, _ = tc.Pack()
	case "wrong-port":
		full, _ := ans.Pack()
		_, _ = h.other.WriteToUDP(full, to)
		return
	case "random-bytes":
		wire = make([]byte, 40+int(k%200))
		binary.BigEndian.PutUint16(wire, q.Id)
		for i := 2; i < len(wire); i++ {
			wire[i] = byte(k*2654435761>>(i%24)) ^ byte(i*131)
		}
	case "late":
		select {
		case <-time.After(3 * time.Second):
		case <-h.ctx.Done():
			return
		}
		wire, _ = ans.Pack()
	}
	if wire != nil {
		_, _ = h.udp.WriteToUDP(wire, to)
	}
}

// serveTCP answers every TCP query with a wrong message ID.
func (h *Hostile) serveTCP() {
	defer h.wg.Done()
	for {
		c, err := h.tcp.Accept()
		if err != nil {
			return
		}
		h.wg.Add(1)
		go func() {
			defer h.wg.Done()
			defer c.Close()
			_ = c.SetDeadline(time.Now().Add(2 * time.Second))
			var l [2]byte
			if _, err := io.ReadFull(c, l[:]); err != nil {
				return
			}
			b := make([]byte, binary.BigEndian.Uint16(l[:]))
			if _, err := io.ReadFull(c, b); err != nil {
				return
			}
			q := new(dns.Msg)
			if q.Unpack(b) != nil {
				return
			}
			r := new(dns.Msg)
			r.SetReply(q)
			r.Id++
			r.Answer = append(r.Answer, forged(q.Question[0].Name))
			wire, _ := r.Pack()
			out := make([]byte, 2+len(wire))
			binary.BigEndian.PutUint16(out, uint16(len(wire)))
			copy(out[2:], wire)
			_, _ = c.Write(out)
		}()
	}
}

// forged is a PTR record that must never be stored.
func forged(name string) dns.RR {
	return &dns.PTR{Hdr: dns.RR_Header{Name: name, Rrtype: dns.TypePTR, Class: dns.ClassINET, Ttl: 60},
		Ptr: "forged.hostile.example."}
}
