package testenv

import (
	"bufio"
	"errors"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// Tripwire is a TCP listener on a loopback address that counts the
// connections made to it and closes each at once: point a client at it to
// prove that the client never connects. It owns one accepting goroutine,
// which Close stops and waits for.
type Tripwire struct {
	ln   net.Listener
	hits atomic.Int64
	wg   sync.WaitGroup
}

// NewTripwire listens on host (an IP literal such as "127.0.0.1"), port 0.
func NewTripwire(host string) (*Tripwire, error) {
	ln, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return nil, err
	}
	t := &Tripwire{ln: ln}
	t.wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				if errors.Is(err, net.ErrClosed) {
					return
				}
				continue
			}
			t.hits.Add(1)
			_ = c.Close()
		}
	})
	return t, nil
}

// Addr returns the listening address, host:port.
func (t *Tripwire) Addr() string { return t.ln.Addr().String() }

// Close stops listening and returns the number of connections accepted.
func (t *Tripwire) Close() int64 {
	_ = t.ln.Close()
	t.wg.Wait()
	return t.hits.Load()
}

// TripwireAddr returns the address of a Tripwire on 127.0.0.1 that fails
// t if anything connected to it by the end of the test.
func TripwireAddr(t testing.TB) string {
	t.Helper()
	tw, err := NewTripwire("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if n := tw.Close(); n != 0 {
			t.Errorf("%d connections to %s, want none", n, tw.Addr())
		}
	})
	return tw.Addr()
}

// MetricSum returns the sum of the samples of the metric name in a
// Prometheus text exposition (every label combination; a histogram's
// _bucket, _sum and _count are other names), and whether there was one.
func MetricSum(exposition, name string) (float64, bool) {
	var sum float64
	found := false
	sc := bufio.NewScanner(strings.NewReader(exposition))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, name) {
			continue
		}
		rest := line[len(name):]
		switch {
		case strings.HasPrefix(rest, "{"):
			end := strings.LastIndexByte(rest, '}')
			if end < 0 {
				continue
			}
			rest = rest[end+1:]
		case strings.HasPrefix(rest, " "):
		default:
			continue // a longer name
		}
		fields := strings.Fields(rest)
		if len(fields) == 0 {
			continue
		}
		v, err := strconv.ParseFloat(fields[0], 64)
		if err != nil {
			continue
		}
		sum += v
		found = true
	}
	return sum, found
}
