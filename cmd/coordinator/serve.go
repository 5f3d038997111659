package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/ptrsweep/ptrsweep/cmd/internal/metricsflag"
	"github.com/ptrsweep/ptrsweep/internal/api"
	"github.com/ptrsweep/ptrsweep/internal/cli"
	"github.com/ptrsweep/ptrsweep/internal/serve"
	"github.com/ptrsweep/ptrsweep/internal/store"
)

func cmdServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	var cf connFlags
	cf.register(fs, "NATS URL, to show scans' queue state as well (optional)")
	listen := fs.String("listen", serve.DefaultListen, "address of the API and page, IP:port (loopback by default)")
	tokenFile := fs.String("token-file", "", "file holding a bearer token every API request must carry (Authorization: Bearer TOKEN); empty: no token")
	cors := fs.String("cors-origin", "", "allow this origin (such as http://127.0.0.1:3000) to call the API from a browser; empty: CORS off")
	pageSize := fs.Int("page-size", api.DefaultPageSize, fmt.Sprintf("records per page of /api/v1/ips/list (1–%d)", api.MaxPageSize))
	maxExec := fs.Duration("max-execution-time", api.DefaultMaxExecutionTime, "ClickHouse max_execution_time of every read (whole seconds)")
	maxRows := fs.Uint64("max-rows-to-read", api.DefaultMaxRowsToRead, "ClickHouse max_rows_to_read of every read")
	maxResult := fs.Int("max-result-rows", api.DefaultMaxResultRows, "rows one download, grouping, lookup, fleets or diff may read; a larger result is refused (HTTP 422)")
	logLevel := fs.String("log-level", "info", "request log level: debug, info, warn, error")
	var mf metricsflag.Flag
	mf.Register(fs)
	var check cli.CheckConfig
	check.Register(fs)
	if err := cli.ParseOrUsage(fs, args, stderr, "coordinator serve [--listen 127.0.0.1:8080] [--clickhouse DSN] [--nats URL] [--token-file F] [--cors-origin O]"); err != nil {
		return err
	}
	if err := checkListen(*listen); err != nil {
		return cli.Usagef("--listen %q: %v (want IP:port, such as 127.0.0.1:8080)", *listen, err)
	}
	if *pageSize < 1 || *pageSize > api.MaxPageSize {
		return cli.Usagef("--page-size %d: want 1 to %d", *pageSize, api.MaxPageSize)
	}
	if *maxResult < 1 {
		return cli.Usagef("--max-result-rows %d: want 1 or more", *maxResult)
	}
	if *maxExec < time.Second {
		return cli.Usagef("--max-execution-time %v: want 1s or more", *maxExec)
	}
	var token string
	if *tokenFile != "" {
		b, err := os.ReadFile(*tokenFile)
		if err != nil {
			return cli.Usagef("--token-file: %v", err)
		}
		if token = strings.TrimSpace(string(b)); token == "" {
			return cli.Usagef("--token-file %s is empty: put the token in it, or leave the flag out", *tokenFile)
		}
	}
	conn, err := cf.conn()
	if err != nil {
		return err
	}
	log, err := cli.Logger(stderr, *logLevel)
	if err != nil {
		return err
	}
	tel, err := mf.New(log)
	if err != nil {
		return err
	}
	if check.Done(stdout, describe("serve", conn, "listen="+*listen, fmt.Sprintf("token=%t", token != ""), tel.Describe())...) {
		return nil
	}
	if err := tel.Start(ctx); err != nil {
		return err
	}
	defer tel.Close()
	return serve.Run(ctx, serve.Config{
		Conn: conn, Listen: *listen, Metrics: tel.Metrics, Logger: log,
		API: api.Config{Token: token, CORSOrigin: *cors, PageSize: *pageSize, MaxResultRows: *maxResult,
			Limits: store.Limits{MaxExecutionTime: *maxExec, MaxRowsToRead: *maxRows}},
		Listening: func(a net.Addr) { fmt.Fprintf(stdout, "serving on http://%s/\n", a) },
	})
}

// checkListen accepts IP:port (an empty host means every address); a host
// name is refused, so serve never resolves one.
func checkListen(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return err
	}
	if host != "" {
		if _, err := netip.ParseAddr(host); err != nil {
			return fmt.Errorf("host %q is not an IP address", host)
		}
	}
	if p, err := strconv.ParseUint(port, 10, 16); err != nil || p > 65535 {
		return fmt.Errorf("port %q is not a number from 0 to 65535", port)
	}
	return nil
}
