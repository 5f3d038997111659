package testenv

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"time"
)

// FreePort returns a port on host (an IP literal such as "127.0.0.1") that
// was just free for both TCP and UDP: bound on port 0, then closed.
func FreePort(host string) (int, error) {
	for range 20 {
		l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
		if err != nil {
			return 0, fmt.Errorf("find a free port on %s: %w", host, err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		_ = l.Close()
		u, err := net.ListenPacket("udp", net.JoinHostPort(host, strconv.Itoa(port)))
		if err != nil {
			continue
		}
		_ = u.Close()
		return port, nil
	}
	return 0, fmt.Errorf("find a free port on %s: %w", host, ErrNoFreePort)
}

// FreeAddr returns "host:port" with a port of FreePort.
func FreeAddr(host string) (string, error) {
	port, err := FreePort(host)
	if err != nil {
		return "", err
	}
	return net.JoinHostPort(host, strconv.Itoa(port)), nil
}

// WaitTCP waits until addr accepts TCP connections. It fails as soon as p
// (the process that should listen) exits, and with ErrTimeout when ctx
// ends.
func WaitTCP(ctx context.Context, addr string, p *Proc) error {
	accepts := func(context.Context) bool {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err != nil {
			return false
		}
		_ = c.Close()
		return true
	}
	if err := p.WaitReady(ctx, 100*time.Millisecond, accepts); err != nil {
		return fmt.Errorf("listen on %s: %w", addr, err)
	}
	return nil
}
