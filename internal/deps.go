//go:build tools

// Package internal pins the third-party modules ptrsweep's packages use, so
// go.mod lists them while those packages are being written.
package internal

import (
	_ "github.com/ClickHouse/clickhouse-go/v2"
	_ "github.com/miekg/dns"
	_ "github.com/nats-io/nats-server/v2/server"
	_ "github.com/nats-io/nats.go/jetstream"
	_ "github.com/schollz/progressbar/v3"
	_ "golang.org/x/net/ipv4"
	_ "golang.org/x/term"
	_ "golang.org/x/time/rate"
)
