package sweep

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"
)

func TestCanonicalName(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Scan-30.Security.IPIP.net.", "scan-30.security.ipip.net"},
		{"a.example", "a.example"},
		{".", "."},
		{"", ""},
		{`a\.b.Example.`, `a\.b.example`},
		{`trailing\.`, `trailing\.`},    // an escaped dot is part of the label
		{`trailing\\.`, `trailing\\`},   // an escaped backslash, then the root dot
		{`x\065Y.ex.`, `x\065y.ex`},     // escapes kept as they are
		{"\xc3\x89.ex.", "\xc3\x89.ex"}, // only ASCII letters change
	}
	for _, tt := range tests {
		if got := CanonicalName(tt.in); got != tt.want {
			t.Errorf("CanonicalName(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestReverseLabels(t *testing.T) {
	tests := []struct{ in, want string }{
		{"scan-30.security.ipip.net", "net.ipip.security.scan-30"},
		{"security.ipip.net.", "net.ipip.security"},
		{"localhost", "localhost"},
		{".", ""},
		{`a\.b.example`, `example.a\.b`},
		{`a\\.b`, `b.a\\`},
		{`x\046y.z`, `z.x\046y`},
		{`sp\ ace.z`, `z.sp\ ace`},
	}
	for _, tt := range tests {
		if got := ReverseLabels(tt.in); got != tt.want {
			t.Errorf("ReverseLabels(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestReverseName(t *testing.T) {
	if got, want := ReverseName(netip.MustParseAddr("198.51.100.7")), "7.100.51.198.in-addr.arpa."; got != want {
		t.Errorf("ReverseName = %q, want %q", got, want)
	}
	for _, tt := range []struct{ p, want string }{
		{"198.51.100.0/24", "100.51.198.in-addr.arpa."}, {"10.20.0.0/16", "20.10.in-addr.arpa."}, {"10.0.0.0/8", "10.in-addr.arpa."},
	} {
		got, err := ReverseZone(netip.MustParsePrefix(tt.p))
		if err != nil || got != tt.want {
			t.Errorf("ReverseZone(%s) = %q, %v, want %q", tt.p, got, err, tt.want)
		}
	}
	if _, err := ReverseZone(netip.MustParsePrefix("10.0.0.0/20")); err == nil {
		t.Error("ReverseZone(/20) gave no error")
	}
}

func TestRows(t *testing.T) {
	u := Unit{Scan: "s", Prefix: netip.MustParsePrefix("198.51.100.0/24")}
	ip := netip.MustParseAddr("198.51.100.1")
	ok := Result{IP: ip, Status: StatusOK, PTRs: []PTR{{Name: "a", TTL: 1}, {Name: "b", TTL: 2, FCrDNS: FCrDNSConfirmed}}}
	rows := Rows(nil, u, ok)
	if len(rows) != 2 || rows[1].PTR != "b" || rows[1].TTL != 2 || rows[1].FCrDNS != FCrDNSConfirmed || rows[0].Unit != "198.51.100.0/24" {
		t.Errorf("Rows(ok) = %+v", rows)
	}
	if rows := Rows(nil, u, Result{IP: ip, Status: StatusNXDomain}); len(rows) != 0 {
		t.Errorf("Rows(nxdomain) = %+v, want none", rows)
	}
	for _, s := range []Status{StatusNoData, StatusServFail, StatusRefused, StatusTimeout} {
		rows := Rows(nil, u, Result{IP: ip, Status: s})
		if len(rows) != 1 || rows[0].PTR != "" || rows[0].Status != s {
			t.Errorf("Rows(%s) = %+v, want one row with an empty PTR", s, rows)
		}
	}
}

func TestStatusText(t *testing.T) {
	for _, s := range Statuses {
		var back Status
		if err := back.UnmarshalText([]byte(s.String())); err != nil || back != s {
			t.Errorf("status %s does not round-trip: %v", s, err)
		}
	}
	for f := FCrDNSNone; f <= FCrDNSNumeric; f++ {
		var back FCrDNS
		if err := back.UnmarshalText([]byte(f.String())); err != nil || back != f {
			t.Errorf("fcrdns %s does not round-trip: %v", f, err)
		}
	}
	if _, err := ParseStatus("bogus"); err == nil {
		t.Error("ParseStatus(bogus) gave no error")
	}
}

// FuzzReverseLabels checks label reversal: reversing twice gives the name
// back (without its trailing dot), labels survive with their escapes, and
// an escaped dot never splits a label.
func FuzzReverseLabels(f *testing.F) {
	for _, s := range []string{"scan-30.security.ipip.net", `a\.b.c`, `a\\.b`, "x.", ".", "", `\`, `a\`, `\065.b`, "a..b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		if CheckName(name) != nil {
			return // SplitLabels' contract covers well-formed names only
		}
		labels := SplitLabels(name)
		r := ReverseLabels(name)
		rl := SplitLabels(r)
		if !slices.Equal(rl, reversed(labels)) && !slices.Contains(labels, "") {
			t.Errorf("SplitLabels(ReverseLabels(%q)) = %q, want %q", name, rl, reversed(labels))
		}
		if !slices.Contains(labels, "") {
			if back := ReverseLabels(r); back != strings.Join(labels, ".") {
				t.Errorf("ReverseLabels twice on %q = %q, want %q", name, back, strings.Join(labels, "."))
			}
		}
		for _, l := range labels {
			if strings.Count(l, ".") != escapedDots(l) {
				t.Errorf("label %q of %q holds an unescaped dot", l, name)
			}
		}
	})
}

func TestCheckName(t *testing.T) {
	good := []string{"", ".", "a.example", "a.example.", `a\.b.c`, `a\\.b`, `x\065y`, `x\255`, `sp\ ace`, strings.Repeat("a", 63) + ".b"}
	bad := []string{`a\`, `0.\`, `x\25`, `x\256`, "a..b", ".a", strings.Repeat("a", 64) + ".b", `x\2`}
	for _, n := range good {
		if err := CheckName(n); err != nil {
			t.Errorf("CheckName(%q) = %v, want nil", n, err)
		}
	}
	for _, n := range bad {
		if err := CheckName(n); err == nil {
			t.Errorf("CheckName(%q) = nil, want an error", n)
		}
	}
}

// FuzzReverseName checks that the reverse name of any address parses back.
func FuzzReverseName(f *testing.F) {
	f.Add(uint32(0))
	f.Add(uint32(0xffffffff))
	f.Add(uint32(0xc6336407))
	f.Fuzz(func(t *testing.T, v uint32) {
		ip := netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
		labels := SplitLabels(ReverseName(ip))
		if len(labels) != 6 || labels[4] != "in-addr" || labels[5] != "arpa" {
			t.Fatalf("ReverseName(%s) = %q", ip, ReverseName(ip))
		}
		back, err := netip.ParseAddr(strings.Join(reversed(labels[:4]), "."))
		if err != nil || back != ip {
			t.Errorf("ReverseName(%s) = %q parses back to %v, %v", ip, ReverseName(ip), back, err)
		}
		if p, err := ParseReverseName(ReverseName(ip)); err != nil || p != netip.PrefixFrom(ip, 32) {
			t.Errorf("ParseReverseName(%q) = %v, %v, want %s/32", ReverseName(ip), p, err, ip)
		}
	})
}

func reversed(s []string) []string {
	r := slices.Clone(s)
	slices.Reverse(r)
	return r
}

// escapedDots counts the dots in a label that a backslash escapes.
func escapedDots(l string) int {
	n := 0
	for i := 0; i < len(l); i++ {
		if l[i] == '\\' {
			if i+1 < len(l) && l[i+1] == '.' {
				n++
			}
			i++
		}
	}
	return n
}

func TestParseReverseName(t *testing.T) {
	tests := []struct{ in, want string }{
		{"7.100.51.198.in-addr.arpa", "198.51.100.7/32"},
		{"7.100.51.198.in-addr.arpa.", "198.51.100.7/32"},
		{"7.100.51.198.IN-ADDR.ARPA.", "198.51.100.7/32"},
		{"0.0.0.0.in-addr.arpa", "0.0.0.0/32"},
		{"255.255.255.255.In-Addr.Arpa", "255.255.255.255/32"},
		{"100.51.198.in-addr.arpa", "198.51.100.0/24"},
		{"51.198.in-addr.arpa.", "198.51.0.0/16"},
		{"198.in-addr.arpa", "198.0.0.0/8"},
	}
	for _, tt := range tests {
		got, err := ParseReverseName(tt.in)
		if err != nil || got != netip.MustParsePrefix(tt.want) {
			t.Errorf("ParseReverseName(%q) = %v, %v, want %s", tt.in, got, err, tt.want)
		}
	}
	bad := []string{"", ".", "in-addr.arpa", "in-addr.arpa.", ".in-addr.arpa", "1.2.3.4.5.in-addr.arpa", "256.1.2.3.in-addr.arpa",
		"07.1.2.3.in-addr.arpa", "0/25.100.51.198.in-addr.arpa", "1..2.3.in-addr.arpa", "x.in-addr.arpa",
		"7.100.51.198.in-addr.arpa..", "1.0.0.0.ip6.arpa", "example.com", "-1.2.3.4.in-addr.arpa"}
	for _, in := range bad {
		if got, err := ParseReverseName(in); err == nil || !errors.Is(err, ErrReverseName) || !strings.Contains(err.Error(), fmt.Sprintf("%q", in)) {
			t.Errorf("ParseReverseName(%q) = %v, %v; want an error naming it and wrapping ErrReverseName", in, got, err)
		}
	}
}

// FuzzParseReverseName checks that whatever parses is a canonical IPv4
// prefix of 8, 16, 24 or 32 bits whose octets spell the name back.
func FuzzParseReverseName(f *testing.F) {
	for _, s := range []string{"7.100.51.198.in-addr.arpa.", "100.51.198.IN-ADDR.arpa", "1.2.3.4.5.in-addr.arpa", "0/25.1.2.3.in-addr.arpa", "in-addr.arpa", "01.2.in-addr.arpa"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		p, err := ParseReverseName(name)
		if err != nil {
			if strings.Contains(err.Error(), "\n") || !errors.Is(err, ErrReverseName) {
				t.Fatalf("ParseReverseName(%q) error %q", name, err)
			}
			return
		}
		if !p.Addr().Is4() || p != p.Masked() || p.Bits()%8 != 0 || p.Bits() == 0 {
			t.Fatalf("ParseReverseName(%q) = %v: not a canonical /8, /16, /24 or /32", name, p)
		}
		a := p.Addr().As4()
		var labels []string
		for i := p.Bits()/8 - 1; i >= 0; i-- {
			labels = append(labels, fmt.Sprint(a[i]))
		}
		want := strings.Join(labels, ".") + ".in-addr.arpa"
		if got := strings.ToLower(strings.TrimSuffix(name, ".")); got != want {
			t.Fatalf("ParseReverseName(%q) = %v, which spells %q", name, p, want)
		}
	})
}

// reverseLabelsSlow is ReverseLabels built on SplitLabels.
func reverseLabelsSlow(name string) string {
	labels := SplitLabels(name)
	for i, j := 0, len(labels)-1; i < j; i, j = i+1, j-1 {
		labels[i], labels[j] = labels[j], labels[i]
	}
	return strings.Join(labels, ".")
}

// FuzzAppendReverseLabels holds the allocation-free reversal to the one
// built on SplitLabels, for any input.
func FuzzAppendReverseLabels(f *testing.F) {
	for _, s := range []string{"scan-30.security.ipip.net", `a\.b.c`, `a\\.b`, "x.", ".", "", `\`, `a\`, `\065.b`, "a..b", "..", strings.Repeat("a.", 200)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		want := reverseLabelsSlow(name)
		if got := string(AppendReverseLabels([]byte("pre"), name)); got != "pre"+want {
			t.Errorf("AppendReverseLabels(%q) = %q, want %q", name, got, "pre"+want)
		}
		if got := ReverseLabels(name); got != want {
			t.Errorf("ReverseLabels(%q) = %q, want %q", name, got, want)
		}
	})
}
