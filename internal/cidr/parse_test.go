package cidr

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"
)

func TestParseList(t *testing.T) {
	pfx := netip.MustParsePrefix
	tests := []struct {
		in   string
		want []netip.Prefix
	}{
		{"", nil},
		{"   ", nil},
		{"198.51.100.0/24", []netip.Prefix{pfx("198.51.100.0/24")}},
		{"198.51.100.7", []netip.Prefix{pfx("198.51.100.7/32")}},
		{" 10.0.0.0/8 ,\t192.0.2.1 , 0.0.0.0/0", []netip.Prefix{pfx("10.0.0.0/8"), pfx("192.0.2.1/32"), pfx("0.0.0.0/0")}},
		{"255.255.255.255/32,255.255.255.255", []netip.Prefix{pfx("255.255.255.255/32"), pfx("255.255.255.255/32")}},
		{"0.0.0.0/0", []netip.Prefix{pfx("0.0.0.0/0")}},
		{"1.2.3.4/32", []netip.Prefix{pfx("1.2.3.4/32")}},
	}
	for _, tt := range tests {
		got, err := ParseList(tt.in)
		if err != nil {
			t.Errorf("ParseList(%q) error: %v", tt.in, err)
			continue
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("ParseList(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestParseListErrors(t *testing.T) {
	tests := []struct {
		in   string
		bad  string // the item the message must name, quoted
		kind error
		text string // more text the message must hold
	}{
		{"198.51.100.7/22", "198.51.100.7/22", ErrHostBits, "did you mean 198.51.100.0/22?"},
		{"10.0.0.0/8, 10.1.0.0/8", "10.1.0.0/8", ErrHostBits, "did you mean 10.0.0.0/8?"},
		{"0.0.0.1/0", "0.0.0.1/0", ErrHostBits, "did you mean 0.0.0.0/0?"},
		{"2001:db8::/32", "2001:db8::/32", ErrNotIPv4, "IPv4 only"},
		{"2001:db8::1", "2001:db8::1", ErrNotIPv4, "IPv4 only"},
		{"fe80::1%eth0", "fe80::1%eth0", ErrNotIPv4, "IPv4 only"},
		{"::ffff:198.51.100.7", "::ffff:198.51.100.7", ErrNotIPv4, "plain IPv4 (198.51.100.7)"},
		{"::ffff:198.51.100.0/120", "::ffff:198.51.100.0/120", ErrNotIPv4, "plain IPv4 (198.51.100.0/24)"},
		{"300.1.2.3/8", "300.1.2.3/8", ErrSyntax, "want a.b.c.d/n"},
		{"300.1.2.3", "300.1.2.3", ErrSyntax, "want a.b.c.d or a.b.c.d/n"},
		{"10.0.0/8", "10.0.0/8", ErrSyntax, "want a.b.c.d/n"},
		{"010.0.0.0/8", "010.0.0.0/8", ErrSyntax, "want a.b.c.d/n"},
		{"10.0.0.0/08", "10.0.0.0/08", ErrSyntax, "want a.b.c.d/n"},
		{"10.0.0.0/", "10.0.0.0/", ErrSyntax, "want a.b.c.d/n"},
		{"10.0.0.0/+8", "10.0.0.0/+8", ErrSyntax, "want a.b.c.d/n"},
		{"10.0.0.0/8/8", "10.0.0.0/8/8", ErrSyntax, "want a.b.c.d/n"},
		{"10.0.0.0 /8", "10.0.0.0 /8", ErrSyntax, "want a.b.c.d/n"},
		{"example.com", "example.com", ErrSyntax, "not an IPv4 address or CIDR"},
		{"1.2.3.4, 5.6.7.8 9.10.11.12", "5.6.7.8 9.10.11.12", ErrSyntax, "not an IPv4 address"},
		{"10.0.0.0/33", "10.0.0.0/33", ErrPrefixLength, "0 to 32"},
		{"10.0.0.0/999", "10.0.0.0/999", ErrPrefixLength, "0 to 32"},
		{"10.0.0.0/8,,192.0.2.0/24", "10.0.0.0/8,,192.0.2.0/24", ErrEmptyItem, "item 2"},
		{"10.0.0.0/8,", "10.0.0.0/8,", ErrEmptyItem, "item 2"},
		{",10.0.0.0/8", ",10.0.0.0/8", ErrEmptyItem, "item 1"},
	}
	for _, tt := range tests {
		got, err := ParseList(tt.in)
		if err == nil {
			t.Errorf("ParseList(%q) = %v, want an error", tt.in, got)
			continue
		}
		if !errors.Is(err, tt.kind) {
			t.Errorf("ParseList(%q) error %q is not %v", tt.in, err, tt.kind)
		}
		msg := err.Error()
		if quoted := fmt.Sprintf("%q", tt.bad); !strings.Contains(msg, quoted) {
			t.Errorf("ParseList(%q) error %q does not name the item %s", tt.in, msg, quoted)
		}
		if !strings.Contains(msg, tt.text) {
			t.Errorf("ParseList(%q) error %q does not say %q", tt.in, msg, tt.text)
		}
		if strings.Contains(msg, "\n") {
			t.Errorf("ParseList(%q) error %q is more than one line", tt.in, msg)
		}
	}
}

func TestParseListMessages(t *testing.T) {
	// The exact wording the CLI shows for the most common mistakes.
	tests := []struct{ in, want string }{
		{"198.51.100.7/22", `"198.51.100.7/22" has host bits set; did you mean 198.51.100.0/22?`},
		{"2001:db8::/32", `"2001:db8::/32" is not IPv4: ptrsweep sweeps IPv4 only`},
		{"300.1.2.3/8", `"300.1.2.3/8" is not a CIDR (want a.b.c.d/n)`},
	}
	for _, tt := range tests {
		_, err := ParseList(tt.in)
		if err == nil || err.Error() != tt.want {
			t.Errorf("ParseList(%q) error = %v, want %s", tt.in, err, tt.want)
		}
	}
}

func TestParseFile(t *testing.T) {
	in := "\uFEFF# blocklist\r\n" +
		"198.51.100.0/24\r\n" +
		"\n" +
		"   # indented comment\n" +
		"203.0.113.7   # one host\n" +
		"\t10.0.0.0/8\t\n" +
		"192.0.2.0/24#no space"
	got, err := ParseFile(strings.NewReader(in), "block.txt")
	if err != nil {
		t.Fatalf("ParseFile error: %v", err)
	}
	want := []netip.Prefix{
		netip.MustParsePrefix("198.51.100.0/24"),
		netip.MustParsePrefix("203.0.113.7/32"),
		netip.MustParsePrefix("10.0.0.0/8"),
		netip.MustParsePrefix("192.0.2.0/24"),
	}
	if !slices.Equal(got, want) {
		t.Errorf("ParseFile = %v, want %v", got, want)
	}

	empty, err := ParseFile(strings.NewReader("# nothing\n\n"), "empty.txt")
	if err != nil || len(empty) != 0 {
		t.Errorf("ParseFile(comments only) = %v, %v, want no prefixes and no error", empty, err)
	}
}

func TestParseFileErrors(t *testing.T) {
	tests := []struct {
		in   string
		want string // prefix of the message
		bad  string
		kind error
	}{
		{"10.0.0.0/8\n# ok\n198.51.100.7/22 # oops\n", "block.txt:3: ", "198.51.100.7/22", ErrHostBits},
		{"2001:db8::/32\n", "block.txt:1: ", "2001:db8::/32", ErrNotIPv4},
		{"\n\n\n10.0.0.0/8, 11.0.0.0/8\n", "block.txt:4: ", "10.0.0.0/8, 11.0.0.0/8", ErrSyntax},
		{"1.2.3.4\n1.2.3.4/40\n", "block.txt:2: ", "1.2.3.4/40", ErrPrefixLength},
	}
	for _, tt := range tests {
		got, err := ParseFile(strings.NewReader(tt.in), "block.txt")
		if err == nil {
			t.Errorf("ParseFile(%q) = %v, want an error", tt.in, got)
			continue
		}
		msg := err.Error()
		if !strings.HasPrefix(msg, tt.want) {
			t.Errorf("ParseFile(%q) error %q does not start with %q", tt.in, msg, tt.want)
		}
		if !strings.Contains(msg, fmt.Sprintf("%q", tt.bad)) {
			t.Errorf("ParseFile(%q) error %q does not name %q", tt.in, msg, tt.bad)
		}
		if !errors.Is(err, tt.kind) {
			t.Errorf("ParseFile(%q) error %q is not %v", tt.in, msg, tt.kind)
		}
	}

	long := strings.Repeat("1", 100_000) + "\n"
	if _, err := ParseFile(strings.NewReader("10.0.0.0/8\n"+long), "long.txt"); err == nil || !strings.HasPrefix(err.Error(), "long.txt:2: ") {
		t.Errorf("ParseFile(long line) error = %v, want one starting with long.txt:2:", err)
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		p    netip.Prefix
		kind error // nil when valid
	}{
		{netip.MustParsePrefix("198.51.100.0/24"), nil},
		{netip.MustParsePrefix("0.0.0.0/0"), nil},
		{netip.MustParsePrefix("255.255.255.255/32"), nil},
		{netip.PrefixFrom(netip.MustParseAddr("198.51.100.7"), 24), ErrHostBits},
		{netip.MustParsePrefix("2001:db8::/32"), ErrNotIPv4},
		{netip.MustParsePrefix("::ffff:10.0.0.0/104"), ErrNotIPv4},
		{netip.Prefix{}, ErrSyntax},
	}
	for _, tt := range tests {
		err := Validate(tt.p)
		if tt.kind == nil {
			if err != nil {
				t.Errorf("Validate(%s) = %v, want nil", tt.p, err)
			}
			continue
		}
		if !errors.Is(err, tt.kind) {
			t.Errorf("Validate(%s) = %v, want %v", tt.p, err, tt.kind)
		}
	}
}
