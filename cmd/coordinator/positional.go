package main

import (
	"errors"
	"flag"
	"io"
	"os"

	"github.com/ptrsweep/ptrsweep/internal/cli"
)

// parseOne parses flags around exactly one positional argument (before or
// after the flags) and returns it; what names the argument in the error
// when it is missing. A second positional argument is a usage error.
func parseOne(fs *flag.FlagSet, args []string, stderr io.Writer, synopsis, what string) (string, error) {
	var arg string
	if len(args) > 0 && (len(args[0]) == 0 || args[0][0] != '-') {
		arg, args = args[0], args[1:]
	}
	fs.SetOutput(io.Discard)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			cli.PrintUsage(stderr, fs, synopsis)
			return "", err
		}
		return "", cli.Usagef("%s: %v (see %s -h)", fs.Name(), err, fs.Name())
	}
	rest := fs.Args()
	if arg == "" && len(rest) > 0 {
		arg, rest = rest[0], rest[1:]
		if err := cli.Parse(fs, rest); err != nil {
			return "", err
		}
		rest = fs.Args()
	}
	if len(rest) > 0 {
		return "", cli.Usagef("%s: unexpected argument %q (give one %s)", fs.Name(), rest[0], what)
	}
	if arg == "" {
		return "", cli.Usagef("%s: give %s (usage: %s)", fs.Name(), what, synopsis)
	}
	return arg, nil
}

// checkReadable checks that a file a command reads can be opened, as a
// usage error naming it.
func checkReadable(name string) error {
	f, err := os.Open(name)
	if err != nil {
		return cli.UsageError{Err: err}
	}
	return f.Close()
}
