package lab

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"

	"github.com/miekg/dns"
)

// Server is the lab's in-process authoritative DNS server, listening on UDP
// and TCP on the same loopback address and answering from the truth model
// (see Lab.Answer). It runs until Close is called or the context given to
// Start is done; Close waits for every goroutine. Its methods are safe for
// concurrent use.
type Server struct {
	lab     *Lab // nil for the Internet world
	answer  func(req *dns.Msg, udp bool) (*dns.Msg, bool)
	addr    string
	udp     *dns.Server
	tcp     *dns.Server
	queries atomic.Uint64
	per24   [256]atomic.Uint64 // queries for names at or below each /24 of the space

	cancel    context.CancelFunc
	wg        sync.WaitGroup
	closeOnce sync.Once
	closeErr  error
}

// CheckLoopback returns an error wrapping ErrNotLoopback unless addr is
// "host:port" with host an IPv4 address in 127.0.0.0/8.
func CheckLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("address %q: %w", addr, err)
	}
	ip, err := netip.ParseAddr(host)
	if err != nil || !ip.Is4() || !ip.IsLoopback() {
		return fmt.Errorf("address %q: %w", addr, ErrNotLoopback)
	}
	return nil
}

// Start starts a server for l on addr ("127.0.0.1:0" picks a port free for
// both UDP and TCP), which must be in 127.0.0.0/8. The server is ready when
// Start returns.
func Start(ctx context.Context, l *Lab, addr string) (*Server, error) {
	return start(ctx, &Server{lab: l, answer: l.Answer}, addr)
}

// StartInternet starts a server of the Internet world (see InternetExpect)
// on addr, which must be in 127.0.0.0/8, as Start does.
func StartInternet(ctx context.Context, addr string) (*Server, error) {
	return start(ctx, &Server{answer: AnswerInternet}, addr)
}

func start(ctx context.Context, s *Server, addr string) (*Server, error) {
	if err := CheckLoopback(addr); err != nil {
		return nil, fmt.Errorf("start lab server: %w", err)
	}
	pc, ln, err := listenBoth(addr)
	if err != nil {
		return nil, fmt.Errorf("start lab server: %w", err)
	}
	s.addr = pc.LocalAddr().String()
	started := make(chan struct{}, 2)
	notify := func() { started <- struct{}{} }
	s.udp = &dns.Server{PacketConn: pc, UDPSize: dns.MaxMsgSize, NotifyStartedFunc: notify,
		Handler: dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) { s.serve(w, r, true) })}
	s.tcp = &dns.Server{Listener: ln, NotifyStartedFunc: notify,
		Handler: dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) { s.serve(w, r, false) })}

	errs := make(chan error, 2)
	for _, srv := range []*dns.Server{s.udp, s.tcp} {
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			errs <- srv.ActivateAndServe()
		}()
	}
	for range 2 {
		select {
		case <-started:
		case err := <-errs:
			// One side failed to start: stop the other and report.
			_ = pc.Close()
			_ = ln.Close()
			_ = s.udp.Shutdown()
			_ = s.tcp.Shutdown()
			s.wg.Wait()
			return nil, fmt.Errorf("start lab server on %s: %w", s.addr, err)
		}
	}

	ctx, s.cancel = context.WithCancel(ctx)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		<-ctx.Done()
		s.closeErr = errors.Join(s.udp.Shutdown(), s.tcp.Shutdown())
	}()
	return s, nil
}

// listenBoth listens on UDP and TCP on the same address; with port 0 it
// retries until a port free for both is found.
func listenBoth(addr string) (net.PacketConn, net.Listener, error) {
	_, port, _ := net.SplitHostPort(addr)
	var lastErr error
	for range 20 {
		pc, err := net.ListenPacket("udp", addr)
		if err != nil {
			return nil, nil, fmt.Errorf("listen udp %s: %w", addr, err)
		}
		ln, err := net.Listen("tcp", pc.LocalAddr().String())
		if err == nil {
			return pc, ln, nil
		}
		_ = pc.Close()
		lastErr = fmt.Errorf("listen tcp %s: %w", pc.LocalAddr(), err)
		if port != "0" {
			break
		}
	}
	return nil, nil, lastErr
}

func (s *Server) serve(w dns.ResponseWriter, r *dns.Msg, udp bool) {
	s.queries.Add(1)
	if len(r.Question) == 1 && s.lab != nil {
		if c, ok := s.lab.slash24(r.Question[0].Name); ok {
			s.per24[c].Add(1)
		}
	}
	resp, ok := s.answer(r, udp)
	if !ok {
		return // silent: the client times out
	}
	_ = w.WriteMsg(resp)
}

// Addr returns the "host:port" the server listens on (UDP and TCP).
func (s *Server) Addr() string { return s.addr }

// Queries returns the number of queries received so far, dropped ones
// included.
func (s *Server) Queries() uint64 { return s.queries.Load() }

// QueriesIn returns the number of queries received so far for names at or
// below the reverse zone of the /24 of the space that holds ip (PTR queries
// for its addresses, and its /24 name); 0 outside the space, and always 0 for
// the Internet world.
func (s *Server) QueriesIn(ip netip.Addr) uint64 {
	if s.lab == nil || !ip.Is4() || !s.lab.space.Contains(ip) {
		return 0
	}
	return s.per24[ip.As4()[2]].Load()
}

// Close stops the server and waits for its goroutines. It is safe to call
// more than once.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		s.cancel()
		s.wg.Wait()
	})
	return s.closeErr
}
