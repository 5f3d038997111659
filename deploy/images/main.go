package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "ptrimage:", err)
		os.Exit(2)
	}
}

// imageFlags collects repeated --image repo=binary pairs.
type imageFlags [][2]string

func (f *imageFlags) String() string { return fmt.Sprint(*f) }

func (f *imageFlags) Set(v string) error {
	repo, bin, ok := strings.Cut(v, "=")
	if !ok || repo == "" || bin == "" || strings.Contains(bin, "/") {
		return fmt.Errorf("%q: want REPO=BINARY, e.g. ptrsweep/worker=worker", v)
	}
	*f = append(*f, [2]string{repo, bin})
	return nil
}

// run parses the flags and writes one OCI archive per --image.
func run(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("ptrimage", flag.ContinueOnError)
	fs.SetOutput(stderr)
	bin := fs.String("bin", "bin", "directory holding the static binaries")
	out := fs.String("out", "bin/images", "directory the OCI archives are written to")
	tag := fs.String("tag", "dev", "image tag written into each archive's index (never 'latest')")
	ca := fs.String("ca", "/etc/ssl/certs/ca-certificates.crt", "PEM CA bundle installed in the images")
	var images imageFlags
	fs.Var(&images, "image", "REPO=BINARY: an image named REPO holding bin/BINARY as its entrypoint (repeatable)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if len(images) == 0 {
		return errors.New("no --image given; e.g. --image ptrsweep/worker=worker")
	}
	if *tag == "" || *tag == "latest" {
		return fmt.Errorf("--tag %q: give a version; manifests pin images by version or digest, never latest", *tag)
	}
	caPEM, err := os.ReadFile(*ca)
	if err != nil {
		return fmt.Errorf("--ca: %w (install Debian's ca-certificates or pass a bundle)", err)
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	for _, im := range images {
		data, err := os.ReadFile(filepath.Join(*bin, im[1]))
		if err != nil {
			return fmt.Errorf("binary for %s: %w (run make build first)", im[0], err)
		}
		s := Spec{Repo: im[0], Binary: im[1], Data: data, CA: caPEM, Tag: *tag}
		name := filepath.Join(*out, strings.ReplaceAll(im[0], "/", "-")+"-"+*tag+".oci.tar")
		d, err := writeFile(name, s)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s:%s %s %s\n", im[0], *tag, d, name)
	}
	return nil
}
