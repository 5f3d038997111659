package cli

import (
	"bytes"
	"flag"
	"strings"
	"testing"
)

func TestParseOrUsage(t *testing.T) {
	tests := []struct {
		args      []string
		wantCode  int
		wantUsage bool
		wantErr   string
	}{
		{[]string{"--n", "3"}, 0, false, ""},
		{[]string{"-h"}, 0, true, "flag: help requested"},
		{[]string{"--nope"}, 2, false, "demo: flag provided but not defined: -nope (see demo -h)"},
		{[]string{"stray"}, 2, false, `demo: unexpected argument "stray" (flags come as --name value)`},
	}
	for _, tt := range tests {
		fs := flag.NewFlagSet("demo", flag.ContinueOnError)
		n := fs.Int("n", 1, "a number")
		var w bytes.Buffer
		err := ParseOrUsage(fs, tt.args, &w, "demo [--n N]")
		if got := ExitCode(err); got != tt.wantCode {
			t.Errorf("%v: exit code %d, want %d (err %v)", tt.args, got, tt.wantCode, err)
		}
		if tt.wantErr != "" && (err == nil || err.Error() != tt.wantErr) {
			t.Errorf("%v: error %v, want %q", tt.args, err, tt.wantErr)
		}
		if tt.wantErr == "" && (err != nil || *n != 3) {
			t.Errorf("%v: %v with n=%d, want nil with n=3", tt.args, err, *n)
		}
		if got := strings.HasPrefix(w.String(), "usage: demo [--n N]\n\nflags:\n  -n int\n"); got != tt.wantUsage {
			t.Errorf("%v: wrote %q, want usage=%v", tt.args, w.String(), tt.wantUsage)
		}
		if !tt.wantUsage && w.Len() != 0 {
			t.Errorf("%v: wrote %q, want nothing", tt.args, w.String())
		}
	}
}
