package lab_test

import (
	"context"
	"net/netip"
	"testing"

	"github.com/miekg/dns"

	"github.com/ptrsweep/ptrsweep/internal/sweep"
	"github.com/ptrsweep/ptrsweep/internal/testenv/lab"
)

func BenchmarkNew(b *testing.B) {
	for b.Loop() {
		if _, err := lab.New(lab.DefaultSpace); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAnswer measures the server's work per query, without sockets,
// over the addresses of the whole /16 in turn.
func BenchmarkAnswer(b *testing.B) {
	l := newLab(b)
	reqs := make([]*dns.Msg, 1<<16)
	i := 0
	for ip := l.Space().Addr(); l.Space().Contains(ip); ip = ip.Next() {
		m := new(dns.Msg)
		m.SetQuestion(sweep.ReverseName(ip), dns.TypePTR)
		m.SetEdns0(1232, false)
		reqs[i] = m
		i++
	}
	b.ReportAllocs()
	i = 0
	for b.Loop() {
		resp, ok := l.Answer(reqs[i&0xffff], true)
		if ok {
			if _, err := resp.Pack(); err != nil {
				b.Fatal(err)
			}
		}
		i++
	}
}

// BenchmarkServerUDP measures queries over loopback UDP, one client socket.
func BenchmarkServerUDP(b *testing.B) {
	l := newLab(b)
	s, err := lab.Start(context.Background(), l, "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	c := &dns.Client{Net: "udp"}
	conn, err := c.Dial(s.Addr())
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	ip := netip.MustParseAddr("198.18.0.1")
	m := new(dns.Msg)
	m.SetQuestion(sweep.ReverseName(ip), dns.TypePTR)
	for b.Loop() {
		if _, _, err := c.ExchangeWithConn(m, conn); err != nil {
			b.Fatal(err)
		}
	}
}
