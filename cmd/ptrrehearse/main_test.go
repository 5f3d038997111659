package main

import (
	"context"
	"strings"
	"testing"
)

func TestRunRejects(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--cidr", "8.0.0.0/25"}, "length 8 to 24"},
		{[]string{"--cidr", "nonsense"}, "--cidr"},
		{[]string{"--cluster", "2"}, "1 or 3"},
		{[]string{"--workers", "-1"}, "at least 1"},
		{[]string{"--lab-host", "192.0.2.1"}, "127.0.0.0/8"},
		{[]string{"--sample", "2"}, "sample share"},
		{[]string{"extra"}, "unexpected argument"},
	}
	for _, tt := range tests {
		var stdout, stderr strings.Builder
		code := run(context.Background(), append([]string{"--bin", t.TempDir()}, tt.args...), &stdout, &stderr)
		if code != 2 || !strings.Contains(stderr.String(), tt.want) {
			t.Errorf("run(%q) = %d, stderr %q; want 2 and %q", tt.args, code, stderr.String(), tt.want)
		}
	}
}
