package main

import (
	"flag"
	"io"
	"testing"
)

func TestPlanFlagsPrune(t *testing.T) {
	tests := []struct {
		args        []string
		wantNoPrune bool
	}{
		{nil, false},
		{[]string{"--prune=false"}, true},
		{[]string{"--prune=true"}, false},
	}
	for _, tt := range tests {
		fs := flag.NewFlagSet("sweep", flag.ContinueOnError)
		var pf planFlags
		pf.register(fs)
		if err := fs.Parse(append([]string{"--cidr", "198.51.100.0/24", "--allow-reserved", "--scan", "p"}, tt.args...)); err != nil {
			t.Fatal(err)
		}
		pl, err := pf.plan(io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		if got := pl.Record().Options.NoPrune; got != tt.wantNoPrune {
			t.Errorf("%v: scan NoPrune = %v, want %v", tt.args, got, tt.wantNoPrune)
		}
	}
}
