package cidr

import (
	"bytes"
	"net/netip"
	"strings"
	"testing"
)

// checkCanonical fails unless every prefix is a valid, canonical IPv4 prefix
// that parses back to itself.
func checkCanonical(t *testing.T, in string, ps []netip.Prefix) {
	t.Helper()
	for _, p := range ps {
		if !p.IsValid() || !p.Addr().Is4() || p != p.Masked() {
			t.Fatalf("parse of %q gave non-canonical prefix %s", in, p)
		}
		back, err := ParsePrefix(p.String())
		if err != nil || back != p {
			t.Fatalf("ParsePrefix(%q) = %s, %v, want %s", p.String(), back, err, p)
		}
	}
}

func FuzzParseList(f *testing.F) {
	for _, s := range []string{"198.51.100.0/24", " 10.0.0.0/8 , 192.0.2.1", "198.51.100.7/22",
		"2001:db8::/32", "::ffff:1.2.3.4/120", "300.1.2.3/8", "1.2.3.4/33", "a,,b", "0.0.0.0/0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ps, err := ParseList(s)
		if err != nil {
			if msg := err.Error(); msg == "" || strings.Contains(msg, "\n") {
				t.Fatalf("ParseList(%q) error %q is not one line", s, msg)
			}
			return
		}
		checkCanonical(t, s, ps)
		if want := strings.Count(s, ",") + 1; strings.TrimSpace(s) != "" && len(ps) != want {
			t.Fatalf("ParseList(%q) gave %d prefixes, want %d", s, len(ps), want)
		}
	})
}

func FuzzParseFile(f *testing.F) {
	for _, s := range []string{"198.51.100.0/24\n# c\n\n10.0.0.1 # host\n", "\uFEFF1.2.3.4\r\n", "198.51.100.7/22\n",
		"#only\n", "2001:db8::1\n", "1.2.3.0/24#x\n5.6.7.8"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		ps, err := ParseFile(bytes.NewReader(b), "fuzz.txt")
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz.txt:") {
				t.Fatalf("ParseFile(%q) error %q does not name the file", b, err)
			}
			return
		}
		checkCanonical(t, string(b), ps)
	})
}
