package lab_test

import (
	"context"
	"errors"
	"net/netip"
	"slices"
	"sync"
	"testing"

	"github.com/ptrsweep/ptrsweep/internal/sweep"
	"github.com/ptrsweep/ptrsweep/internal/testenv/lab"
)

var (
	labOnce sync.Once
	theLab  *lab.Lab
	labErr  error
)

// newLab returns the default lab, built once for the package's tests.
func newLab(t testing.TB) *lab.Lab {
	t.Helper()
	labOnce.Do(func() { theLab, labErr = lab.New(lab.DefaultSpace) })
	if labErr != nil {
		t.Fatalf("New(%s): %v", lab.DefaultSpace, labErr)
	}
	return theLab
}

func TestNewSpace(t *testing.T) {
	tests := []struct {
		space   string
		wantErr bool
	}{
		{"198.18.0.0/16", false},
		{"10.7.0.0/16", false},
		{"198.18.5.0/16", false}, // masked
		{"198.18.0.0/15", true},
		{"198.18.0.0/24", true},
		{"2001:db8::/16", true},
	}
	for _, tt := range tests {
		l, err := lab.New(netip.MustParsePrefix(tt.space))
		if tt.wantErr {
			if !errors.Is(err, lab.ErrSpace) {
				t.Errorf("New(%s) error = %v, want ErrSpace", tt.space, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("New(%s) error = %v", tt.space, err)
			continue
		}
		if got, want := l.Space(), netip.MustParsePrefix(tt.space).Masked(); got != want {
			t.Errorf("New(%s).Space() = %s, want %s", tt.space, got, want)
		}
	}
	if _, err := lab.New(netip.Prefix{}); !errors.Is(err, lab.ErrSpace) {
		t.Errorf("New(zero prefix) error = %v, want ErrSpace", err)
	}
}

func TestOtherSpace(t *testing.T) {
	l, err := lab.New(netip.MustParsePrefix("10.7.0.0/16"))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := l.Zones()[0], "7.10.in-addr.arpa."; got != want {
		t.Errorf("Zones()[0] = %q, want %q", got, want)
	}
	e := l.Expect(netip.MustParseAddr("10.7.0.5"))
	if want := "h-10-7-0-5.dense.lab.example"; e.Status != sweep.StatusOK || len(e.PTRs) != 1 || e.PTRs[0].Name != want {
		t.Errorf("Expect(10.7.0.5) = %+v, want one PTR %s", e, want)
	}
}

// TestClasses checks each class occurs several times in the /16 and that
// its addresses have the outcomes the class promises.
func TestClasses(t *testing.T) {
	l := newLab(t)
	type want struct {
		statuses []sweep.Status // every status seen in the class
		minPTRs  int            // the most PTRs of one address is at least this
	}
	ok, nx, nd := sweep.StatusOK, sweep.StatusNXDomain, sweep.StatusNoData
	tests := map[lab.Class]want{
		lab.ClassDense:    {[]sweep.Status{ok}, 1},
		lab.ClassSparse:   {[]sweep.Status{ok, nx}, 1},
		lab.ClassEmpty:    {[]sweep.Status{nx}, 0},
		lab.ClassMulti:    {[]sweep.Status{ok}, 5},
		lab.ClassLarge:    {[]sweep.Status{ok}, 40},
		lab.ClassRFC2317:  {[]sweep.Status{ok, nx, nd}, 1},
		lab.ClassServFail: {[]sweep.Status{sweep.StatusServFail}, 0},
		lab.ClassRefused:  {[]sweep.Status{sweep.StatusRefused}, 0},
		lab.ClassSilent:   {[]sweep.Status{sweep.StatusTimeout}, 0},
		lab.ClassNoData:   {[]sweep.Status{nd}, 0},
		lab.ClassOdd:      {[]sweep.Status{ok, sweep.StatusServFail}, 1},
		lab.ClassFleet:    {[]sweep.Status{ok, nx}, 1},
	}
	if len(tests) != len(lab.Classes) {
		t.Fatalf("test covers %d classes, lab has %d", len(tests), len(lab.Classes))
	}
	for _, c := range lab.Classes {
		w := tests[c]
		blocks := l.Blocks(c)
		if len(blocks) < 8 {
			t.Errorf("Blocks(%s) has %d /24s, want at least 8", c, len(blocks))
		}
		seen := map[sweep.Status]bool{}
		most := 0
		for _, b := range blocks {
			for ip := b.Addr(); b.Contains(ip); ip = ip.Next() {
				if got, _ := l.Class(ip); got != c {
					t.Fatalf("Class(%s) = %s, want %s", ip, got, c)
				}
				e := l.Expect(ip)
				seen[e.Status] = true
				most = max(most, len(e.PTRs))
			}
		}
		var got []sweep.Status
		for _, s := range sweep.Statuses {
			if seen[s] {
				got = append(got, s)
			}
		}
		if !slices.Equal(got, w.statuses) {
			t.Errorf("class %s statuses = %v, want %v", c, got, w.statuses)
		}
		if most < w.minPTRs {
			t.Errorf("class %s: most PTRs of an address = %d, want at least %d", c, most, w.minPTRs)
		}
	}
}

// TestForwardOutcomes checks every forward-confirmation outcome occurs.
func TestForwardOutcomes(t *testing.T) {
	l := newLab(t)
	counts := map[sweep.FCrDNS]int{}
	for ip := l.Space().Addr(); l.Space().Contains(ip); ip = ip.Next() {
		for _, p := range l.Expect(ip).PTRs {
			counts[p.FCrDNS]++
		}
	}
	for _, f := range []sweep.FCrDNS{sweep.FCrDNSConfirmed, sweep.FCrDNSMismatch, sweep.FCrDNSNoAddress, sweep.FCrDNSError, sweep.FCrDNSNumeric} {
		if counts[f] == 0 {
			t.Errorf("no PTR with forward outcome %s", f)
		}
	}
	if counts[sweep.FCrDNSNone] != 0 {
		t.Errorf("%d PTRs without a forward outcome, want 0", counts[sweep.FCrDNSNone])
	}
	if counts[sweep.FCrDNSConfirmed] < counts[sweep.FCrDNSMismatch]*4 {
		t.Errorf("confirmed = %d, mismatch = %d: want most names to confirm", counts[sweep.FCrDNSConfirmed], counts[sweep.FCrDNSMismatch])
	}
}

func TestFleet(t *testing.T) {
	l := newLab(t)
	names := map[string]int{}
	var fleet24 []netip.Prefix
	for ip := l.Space().Addr(); l.Space().Contains(ip); ip = ip.Next() {
		for _, p := range l.Expect(ip).PTRs {
			names[p.Name]++
			if sweep.ReverseLabels(p.Name) == "example.fleet.security" || len(p.Name) > 23 && p.Name[len(p.Name)-23:] == ".security.fleet.example" {
				if pfx := netip.PrefixFrom(ip, 24).Masked(); !slices.Contains(fleet24, pfx) {
					fleet24 = append(fleet24, pfx)
				}
			}
		}
	}
	for _, n := range []string{"scan-1.security.fleet.example", "scan-512.security.fleet.example", "security.fleet.example",
		"x.notsecurity.fleet.example", "x-7.notsecurity.fleet.example", "scan-1.security.fleet.example.evil.example"} {
		if names[n] != 1 {
			t.Errorf("PTR %s occurs %d times, want 1", n, names[n])
		}
	}
	if len(fleet24) < 8 {
		t.Errorf("fleet spread over %d /24s, want at least 8", len(fleet24))
	}
}

func TestExpectRecursive(t *testing.T) {
	l := newLab(t)
	tests := []struct {
		class lab.Class
		want  sweep.Status
	}{
		{lab.ClassServFail, sweep.StatusServFail},
		{lab.ClassRefused, sweep.StatusServFail},
		{lab.ClassSilent, sweep.StatusServFail},
		{lab.ClassEmpty, sweep.StatusNXDomain},
		{lab.ClassNoData, sweep.StatusNoData},
		{lab.ClassDense, sweep.StatusOK},
	}
	for _, tt := range tests {
		ip := l.Blocks(tt.class)[1].Addr().Next()
		if got := l.ExpectRecursive(ip).Status; got != tt.want {
			t.Errorf("ExpectRecursive(%s) [%s] = %s, want %s", ip, tt.class, got, tt.want)
		}
	}
	if got := l.ExpectRecursive(netip.MustParseAddr("192.0.2.1")).Status; got != sweep.StatusNXDomain {
		t.Errorf("ExpectRecursive(outside) = %s, want nxdomain", got)
	}
	if got := l.Expect(netip.MustParseAddr("192.0.2.1")).Status; got != sweep.StatusRefused {
		t.Errorf("Expect(outside) = %s, want refused", got)
	}
}

// TestOddNames checks the stored form of the names that exercise escaping.
func TestOddNames(t *testing.T) {
	l := newLab(t)
	c := l.Blocks(lab.ClassOdd)[0].Addr().As4()[2]
	ip := func(d byte) netip.Addr { return netip.AddrFrom4([4]byte{198, 18, c, d}) }
	tests := []struct {
		d    byte
		want string
	}{
		{0, "host-10-0.mixed.lab.example"},
		{1, `sp\ ace-10-1.odd.lab.example`},
		{2, `dot\.in-label-10-2.odd.lab.example`},
		{3, `q\"uo\\te\;\(p\)\@\'-10-3.odd.lab.example`},
		{4, `bin\128\255\001\031\127-10-4.odd.lab.example`},
		{6, "198.18.10.6"},
	}
	for _, tt := range tests {
		e := l.Expect(ip(tt.d))
		if len(e.PTRs) != 1 || e.PTRs[0].Name != tt.want {
			t.Errorf("Expect(%s) = %+v, want one PTR %q", ip(tt.d), e.PTRs, tt.want)
		}
	}
	if got := l.Expect(ip(6)).PTRs[0].FCrDNS; got != sweep.FCrDNSNumeric {
		t.Errorf("numeric PTR outcome = %s, want numeric", got)
	}
	long := l.Expect(ip(5)).PTRs[0].Name
	if len(long) != 253 {
		t.Errorf("long name has %d characters, want 253: %q", len(long), long)
	}
	if esc := l.Expect(ip(7)).PTRs[0].Name; len(esc) < 600 {
		t.Errorf("escaped long name has %d characters, want at least 600", len(esc))
	}
}

func TestDeterministic(t *testing.T) {
	a := newLab(t)
	b, err := lab.New(lab.DefaultSpace)
	if err != nil {
		t.Fatal(err)
	}
	for ip := a.Space().Addr(); a.Space().Contains(ip); ip = ip.Next() {
		ea, eb := a.Expect(ip), b.Expect(ip)
		if ea.Status != eb.Status || ea.TTL != eb.TTL || !slices.Equal(ea.PTRs, eb.PTRs) {
			t.Fatalf("Expect(%s) differs between two labs: %+v and %+v", ip, ea, eb)
		}
	}
	if !slices.Equal(a.Zones(), b.Zones()) {
		t.Errorf("Zones() = %v and %v", a.Zones(), b.Zones())
	}
}

func TestCheckLoopback(t *testing.T) {
	tests := []struct {
		addr string
		ok   bool
	}{
		{"127.0.0.1:53", true},
		{"127.1.2.3:0", true},
		{"0.0.0.0:53", false},
		{"10.0.0.1:53", false},
		{"[::1]:53", false},
		{"localhost:53", false},
		{"127.0.0.1", false},
	}
	for _, tt := range tests {
		err := lab.CheckLoopback(tt.addr)
		if (err == nil) != tt.ok {
			t.Errorf("CheckLoopback(%q) = %v, want ok %v", tt.addr, err, tt.ok)
		}
	}
	if _, err := lab.Start(context.Background(), newLab(t), "0.0.0.0:0"); !errors.Is(err, lab.ErrNotLoopback) {
		t.Errorf("Start(0.0.0.0:0) error = %v, want ErrNotLoopback", err)
	}
}
