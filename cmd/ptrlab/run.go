package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"strings"

	"github.com/ptrsweep/ptrsweep/internal/sweep"
	"github.com/ptrsweep/ptrsweep/internal/testenv/lab"
)

// Exit codes.
const (
	exitOK    = 0
	exitError = 1
	exitUsage = 2
)

const usage = `usage:
  ptrlab serve --listen 127.0.0.1:5353 [--space 198.18.0.0/16 | --internet]
      serve the lab over UDP and TCP until SIGINT or SIGTERM (loopback only);
      --internet serves the synthetic Internet: every IPv4 address's reverse name
  ptrlab zones --dir DIR [--space 198.18.0.0/16]
      write the lab's zone files for Knot DNS into DIR
  ptrlab truth [--space 198.18.0.0/16] [--confirm] [--recursive]
      write the expected rows as JSON lines (ip, ptr, status, ttl, fcrdns)
`

// errUsage marks errors in the command line (exit code 2).
var errUsage = errors.New("bad command line")

// run runs ptrlab with args (without the program name) and returns the exit
// code: 0 on success, 1 on failure, 2 on a bad command line.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	var err error
	switch args[0] {
	case "serve":
		err = serve(ctx, args[1:], stdout, stderr)
	case "zones":
		err = zones(args[1:], stdout, stderr)
	case "truth":
		err = truth(args[1:], stdout, stderr)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return exitOK
	default:
		err = fmt.Errorf("%w: unknown command %q", errUsage, args[0])
	}
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, flag.ErrHelp):
		return exitOK
	case errors.Is(err, errUsage):
		fmt.Fprintf(stderr, "ptrlab: %v\n%s", err, usage)
		return exitUsage
	}
	fmt.Fprintf(stderr, "ptrlab: %v\n", err)
	return exitError
}

// spaceFlag is a --space flag value.
type spaceFlag struct{ p netip.Prefix }

func (s *spaceFlag) String() string { return s.p.String() }

func (s *spaceFlag) Set(v string) error {
	p, err := netip.ParsePrefix(v)
	if err != nil {
		return err
	}
	s.p = p
	return nil
}

// parse parses a subcommand's flags and builds its lab.
func parse(fs *flag.FlagSet, space *spaceFlag, args []string) (*lab.Lab, error) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, err
		}
		return nil, fmt.Errorf("%w: %v", errUsage, err)
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("%w: unexpected arguments %q", errUsage, fs.Args())
	}
	l, err := lab.New(space.p)
	if err != nil {
		return nil, fmt.Errorf("%w: --space: %v", errUsage, err)
	}
	return l, nil
}

func newFlagSet(name string, stderr io.Writer) (*flag.FlagSet, *spaceFlag) {
	fs := flag.NewFlagSet("ptrlab "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	space := &spaceFlag{p: lab.DefaultSpace}
	fs.Var(space, "space", "the IPv4 /16 the lab covers")
	return fs, space
}

func serve(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, space := newFlagSet("serve", stderr)
	listen := fs.String("listen", "127.0.0.1:5353", "UDP and TCP address to serve on; must be in 127.0.0.0/8")
	internet := fs.Bool("internet", false, "serve the synthetic Internet (every IPv4 address, zone in-addr.arpa) instead of the lab's /16")
	l, err := parse(fs, space, args)
	if err != nil {
		return err
	}
	if err := lab.CheckLoopback(*listen); err != nil {
		return fmt.Errorf("%w: --listen: %v (the lab serves loopback only)", errUsage, err)
	}
	var s *lab.Server
	if *internet {
		s, err = lab.StartInternet(ctx, *listen)
	} else {
		s, err = lab.Start(ctx, l, *listen)
	}
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	if *internet {
		fmt.Fprintf(stdout, "ptrlab: serving the synthetic Internet on %s (zone in-addr.arpa.)\n", s.Addr())
	} else {
		fmt.Fprintf(stdout, "ptrlab: serving %s on %s (zones %s)\n", l.Space(), s.Addr(), strings.Join(l.Zones(), " "))
	}
	<-ctx.Done()
	err = s.Close()
	fmt.Fprintf(stdout, "ptrlab: stopped after %d queries\n", s.Queries())
	if err != nil {
		return fmt.Errorf("serve: stop: %w", err)
	}
	return nil
}

func zones(args []string, stdout, stderr io.Writer) error {
	fs, space := newFlagSet("zones", stderr)
	dir := fs.String("dir", "", "directory to write the zone files into (required)")
	l, err := parse(fs, space, args)
	if err != nil {
		return err
	}
	if *dir == "" {
		return fmt.Errorf("%w: --dir is required", errUsage)
	}
	files, err := l.WriteZones(*dir)
	if err != nil {
		return err
	}
	for _, f := range files {
		fmt.Fprintf(stdout, "%s\t%s\n", f.Zone, f.Path)
	}
	return nil
}

// truthRow is one expected row, in ptrsweep's export fields.
type truthRow struct {
	IP     string `json:"ip"`
	PTR    string `json:"ptr"`
	Status string `json:"status"`
	TTL    uint32 `json:"ttl"`
	FCrDNS string `json:"fcrdns"`
}

func truth(args []string, stdout, stderr io.Writer) error {
	fs, space := newFlagSet("truth", stderr)
	confirm := fs.Bool("confirm", false, "fill fcrdns with the forward-confirmation outcome (as a sweep with --confirm)")
	recursive := fs.Bool("recursive", false, "the truth through Unbound in front of Knot instead of the authoritative server")
	l, err := parse(fs, space, args)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(stdout)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	var rows []sweep.Row
	for ip := l.Space().Addr(); l.Space().Contains(ip); ip = ip.Next() {
		e := l.Expect(ip)
		if *recursive {
			e = l.ExpectRecursive(ip)
		}
		r := e.Result(ip)
		if !*confirm {
			for i := range r.PTRs {
				r.PTRs[i].FCrDNS = sweep.FCrDNSNone
			}
		}
		rows = sweep.Rows(rows[:0], sweep.Unit{Prefix: l.Space()}, r)
		for _, row := range rows {
			if err := enc.Encode(truthRow{IP: row.IP.String(), PTR: row.PTR, Status: row.Status.String(), TTL: row.TTL, FCrDNS: row.FCrDNS.String()}); err != nil {
				return fmt.Errorf("write truth: %w", err)
			}
		}
	}
	if err := w.Flush(); err != nil {
		return fmt.Errorf("write truth: %w", err)
	}
	return nil
}
