// Command ptrlab runs the DNS lab: a synthetic reverse-DNS world with a known
// truth (see internal/testenv/lab), on loopback only.
//
//	ptrlab serve --listen 127.0.0.1:5353 [--space 198.18.0.0/16 | --internet]
//	ptrlab zones --dir DIR [--space 198.18.0.0/16]
//	ptrlab truth [--space 198.18.0.0/16] [--confirm] [--recursive]
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
