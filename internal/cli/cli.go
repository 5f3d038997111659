// Package cli is the command-line plumbing every command shares: usage
// errors (exit 2), flag parsing, logging setup and signal handling, and the
// connection and resolver flags with the environment variables that stand
// in for them (conn.go, resolver.go).
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

// UsageError is a bad flag, argument or input file: exit status 2.
type UsageError struct{ Err error }

func (e UsageError) Error() string { return e.Err.Error() }
func (e UsageError) Unwrap() error { return e.Err }

// Usagef returns a UsageError with a formatted message.
func Usagef(format string, args ...any) error {
	return UsageError{fmt.Errorf(format, args...)}
}

// ExitCode maps an error to a process exit status: 0 for nil, 2 for usage
// errors (and -h), 130 for an interrupt, 1 otherwise.
func ExitCode(err error) int {
	var ue UsageError
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &ue):
		return 2
	case errors.Is(err, context.Canceled):
		return 130
	}
	return 1
}

// Env returns the value of the environment variable name, or def.
func Env(name, def string) string {
	if v, ok := os.LookupEnv(name); ok && v != "" {
		return v
	}
	return def
}

// Parse parses args into fs and turns flag errors into a UsageError. Stray
// positional arguments are an error.
func Parse(fs *flag.FlagSet, args []string) error {
	fs.SetOutput(io.Discard)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return Usagef("%s: %v (see %s -h)", fs.Name(), err, fs.Name())
	}
	if fs.NArg() > 0 {
		return Usagef("%s: unexpected argument %q (flags come as --name value)", fs.Name(), fs.Arg(0))
	}
	return nil
}

// ParseOrUsage is Parse that, on -h, also writes the usage under synopsis
// to w (PrintUsage).
func ParseOrUsage(fs *flag.FlagSet, args []string, w io.Writer, synopsis string) error {
	err := Parse(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		PrintUsage(w, fs, synopsis)
	}
	return err
}

// PrintUsage writes a flag set's defaults after a one-line synopsis.
func PrintUsage(w io.Writer, fs *flag.FlagSet, synopsis string) {
	fmt.Fprintf(w, "usage: %s\n\nflags:\n", synopsis)
	fs.SetOutput(w)
	fs.PrintDefaults()
	fs.SetOutput(io.Discard)
}

// Logger returns a text slog logger on w at the named level (debug, info,
// warn, error).
func Logger(w io.Writer, level string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, Usagef("--log-level %q: want debug, info, warn or error", level)
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: l})), nil
}

// SignalContext returns a context cancelled on SIGINT or SIGTERM; a second
// signal falls back to the default action.
func SignalContext(parent context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := signal.NotifyContext(parent, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-ctx.Done()
		cancel() // restores default handling: a second signal ends the process
	}()
	return ctx, cancel
}

// Report writes err as one line prefixed by the program name.
func Report(w io.Writer, prog string, err error) {
	msg := strings.TrimSpace(err.Error())
	fmt.Fprintf(w, "%s: %s\n", prog, msg)
}
