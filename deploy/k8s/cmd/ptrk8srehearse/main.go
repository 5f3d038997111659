// Command ptrk8srehearse rehearses the dev overlay on one machine: the
// manifests' own commands, arguments, environment and config files as local
// processes against the DNS lab, ending with the lab-truth comparison (see
// package k8srehearsal). `make k8s-rehearsal` runs it.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/ptrsweep/ptrsweep/deploy/k8s/k8srehearsal"
)

func main() {
	var cfg k8srehearsal.Config
	flag.StringVar(&cfg.Overlay, "overlay", "overlays/dev", "the overlay to rehearse")
	flag.StringVar(&cfg.Bin, "bin", "../../bin", "directory holding worker, coordinator and nats-server")
	flag.IntVar(&cfg.Workers, "workers", 3, "worker pods (the second is killed mid-run)")
	flag.BoolVar(&cfg.Keep, "keep", false, "keep the temp directory (files and logs)")
	flag.Parse()
	if cfg.Workers < 2 {
		fmt.Fprintln(os.Stderr, "ptrk8srehearse: --workers must be at least 2 (one is killed)")
		os.Exit(2)
	}
	cfg.Out = os.Stdout
	cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, nil))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := k8srehearsal.Run(ctx, cfg); err != nil {
		fmt.Fprintln(os.Stderr, "ptrk8srehearse:", err)
		stop()
		os.Exit(1)
	}
}
