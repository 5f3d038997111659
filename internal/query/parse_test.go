package query

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// sexpr prints a tree with its structure explicit: (and a b), (or a b).
func sexpr(n Node) string {
	var parts []string
	switch n := n.(type) {
	case *And:
		for _, t := range n.Terms {
			parts = append(parts, sexpr(t))
		}
		return "(and " + strings.Join(parts, " ") + ")"
	case *Or:
		for _, t := range n.Terms {
			parts = append(parts, sexpr(t))
		}
		return "(or " + strings.Join(parts, " ") + ")"
	case *Cond:
		return "[" + n.String() + "]"
	}
	return fmt.Sprintf("?%T", n)
}

func TestParseForms(t *testing.T) {
	tests := []struct{ in, want string }{
		{"ptr_part = 'security.ipip.net'", "ptr_part = 'security.ipip.net'"},
		{"ptr_part = ' .Security.IPIP.Net. '", "ptr_part = 'security.ipip.net'"},
		{"ptr_part != 'ipip.net'", "ptr_part != 'ipip.net'"},
		{"ptr_part <> 'ipip.net'", "ptr_part != 'ipip.net'"},
		{`ptr_part = 'a\.b.example'`, `ptr_part = 'a\.b.example'`},
		{"ptr_part = 'net'", "ptr_part = 'net'"},
		{"ptr = 'Scan-30.security.ipip.net.'", "ptr = 'scan-30.security.ipip.net'"},
		{`ptr = 'a\'b.example'`, `ptr = 'a\'b.example'`},
		{`ptr = "a\ b.example"`, `ptr = 'a\ b.example'`},
		{`ptr = 'a\032b.example'`, `ptr = 'a\032b.example'`},
		{`ptr = 'a\..'`, `ptr = 'a\.'`},
		{"ptr != 'x.example'", "ptr != 'x.example'"},
		{"ip = '1.2.3.4'", "ip = '1.2.3.4'"},
		{"ip != '1.2.3.4'", "ip != '1.2.3.4'"},
		{"ip in '1.2.0.0/16'", "ip in '1.2.0.0/16'"},
		{"ip IN '1.2.3.4'", "ip in '1.2.3.4/32'"},
		{"ip in '0.0.0.0/0'", "ip in '0.0.0.0/0'"},
		{"ip not in '10.0.0.0/8'", "ip not in '10.0.0.0/8'"},
		{"ip NOT IN '10.0.0.0/8'", "ip not in '10.0.0.0/8'"},
		{"asn = 63949", "asn = 63949"},
		{"asn = 0", "asn = 0"},
		{"asn = 4294967295", "asn = 4294967295"},
		{"asn = '2516'", "asn = 2516"},
		{"asn = 'AS2516'", "asn = 2516"},
		{"asn != 'as2516'", "asn != 2516"},
		{"country = 'JP'", "country = 'JP'"},
		{"country = 'us'", "country = 'US'"},
		{"country != 'Jp'", "country != 'JP'"},
		{"fcrdns = 'mismatch'", "fcrdns = 'mismatch'"},
		{"fcrdns = 'NO_ADDRESS'", "fcrdns = 'no_address'"},
		{"fcrdns = ''", "fcrdns = ''"},
		{"fcrdns != 'confirmed'", "fcrdns != 'confirmed'"},
		{"status = 'servfail'", "status = 'servfail'"},
		{"status = 'NXDOMAIN'", "status = 'nxdomain'"},
		{"status != 'ok'", "status != 'ok'"},
		{"scan = 'demo'", "scan = 'demo'"},
		{"scan = 'scan-20261122-021530-3f9a'", "scan = 'scan-20261122-021530-3f9a'"},
		{"scan != '1_b'", "scan != '1_b'"},
		{"PTR_PART = 'x.example' AnD Scan = 'demo'", "ptr_part = 'x.example' AND scan = 'demo'"},
		{"\tptr_part='x.example'\nor\r\nasn=1", "ptr_part = 'x.example' OR asn = 1"},
		{"(((ptr = 'a.example')))", "ptr = 'a.example'"},
	}
	for _, tt := range tests {
		n, err := Parse(tt.in)
		if err != nil {
			t.Errorf("Parse(%q) error = %v", tt.in, err)
			continue
		}
		if got := n.String(); got != tt.want {
			t.Errorf("Parse(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestParseValues(t *testing.T) {
	n, err := Parse("ip in '1.2.0.0/16' AND asn = 'AS63949' AND ip = '9.8.7.6'")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	Conds(n, func(c *Cond) {
		got = append(got, fmt.Sprintf("%d %s %s %s %s %d", c.Pos, c.Field, c.Op, c.Value, c.Prefix, c.ASN))
	})
	want := []string{
		"1 ip in 1.2.0.0/16 1.2.0.0/16 0",
		"24 asn = 63949 invalid Prefix 63949",
		"44 ip = 9.8.7.6 9.8.7.6/32 0",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("conditions =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestParsePrecedence(t *testing.T) {
	a, b, c, d := "ptr = 'a.x'", "ptr = 'b.x'", "ptr = 'c.x'", "ptr = 'd.x'"
	tests := []struct{ in, want string }{
		{a + " OR " + b + " AND " + c, "(or [ptr = 'a.x'] (and [ptr = 'b.x'] [ptr = 'c.x']))"},
		{a + " AND " + b + " OR " + c, "(or (and [ptr = 'a.x'] [ptr = 'b.x']) [ptr = 'c.x'])"},
		{a + " AND (" + b + " OR " + c + ")", "(and [ptr = 'a.x'] (or [ptr = 'b.x'] [ptr = 'c.x']))"},
		{"(" + a + " OR " + b + ") AND (" + c + " OR " + d + ")", "(and (or [ptr = 'a.x'] [ptr = 'b.x']) (or [ptr = 'c.x'] [ptr = 'd.x']))"},
		// nested nodes of one kind flatten
		{a + " AND (" + b + " AND " + c + ")", "(and [ptr = 'a.x'] [ptr = 'b.x'] [ptr = 'c.x'])"},
		{"(" + a + " OR " + b + ") OR " + c, "(or [ptr = 'a.x'] [ptr = 'b.x'] [ptr = 'c.x'])"},
		{a + " or " + b + " or " + c + " and " + d, "(or [ptr = 'a.x'] [ptr = 'b.x'] (and [ptr = 'c.x'] [ptr = 'd.x']))"},
	}
	for _, tt := range tests {
		n, err := Parse(tt.in)
		if err != nil {
			t.Errorf("Parse(%q) error = %v", tt.in, err)
			continue
		}
		if got := sexpr(n); got != tt.want {
			t.Errorf("Parse(%q) = %s, want %s", tt.in, got, tt.want)
		}
		// The canonical text parses back to the same tree.
		back, err := Parse(n.String())
		if err != nil || sexpr(back) != tt.want {
			t.Errorf("Parse(%q) (canonical of %q) = %v, %v; want %s", n.String(), tt.in, back, err, tt.want)
		}
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		in   string
		want string
	}{
		{"", "at 1: expected a condition such as ptr_part = 'example.com', found an empty query"},
		{"  \n", "at 1: expected a condition such as ptr_part = 'example.com', found an empty query"},
		{"ptr_part = ", "at 12: expected a quoted string after '=', found end of query"},
		{"ptr_part = security.ipip.net", "at 12: expected a quoted string after '=', found 'security'"},
		{"ptr_part != 5", "at 13: expected a quoted string after '!=', found the number 5"},
		{"ptr_part 'x'", `at 10: expected '=' or '!=' after ptr_part, found "x"`},
		{"ptr_part in 'x'", "at 10: expected '=' or '!=' after ptr_part, found 'in'"},
		{"ptr_part = ''", `at 12: expected a domain name such as 'security.ipip.net', found "": the name is empty`},
		{"ptr_part = '.'", `at 12: expected a domain name such as 'security.ipip.net', found ".": the name is empty`},
		{"ptr_part = 'a..b'", `at 12: expected a domain name such as 'security.ipip.net', found "a..b": name "a..b" has an empty label`},
		{"ptr = 'a..'", `at 7: expected a domain name such as 'security.ipip.net', found "a..": name "a." ends in an empty label`},
		{`ptr = 'a\\..'`, `at 7: expected a domain name such as 'security.ipip.net', found "a\\\\..": name "a\\\\." ends in an empty label`},
		{"ptr = '.a.b'", `at 7: expected a domain name such as 'security.ipip.net', found ".a.b": name ".a.b" has an empty label`},
		{"ptr = 'a b'", `at 7: expected a domain name such as 'security.ipip.net', found "a b": byte 2 is ' ': write a space as '\ ' and other bytes as \DDD`},
		{"ptr = 'é.x'", `at 7: expected a domain name such as 'security.ipip.net', found "é.x": byte 1 is byte 0xc3: write a space as '\ ' and other bytes as \DDD`},
		{`ptr = 'a\é.x'`, `at 7: expected a domain name such as 'security.ipip.net', found "a\\é.x": byte 3 is byte 0xc3: write it as \DDD`},
		{`ptr = "a'b.x"`, `at 7: expected a domain name such as 'security.ipip.net', found "a'b.x": byte 2 is '\'': escape it with a backslash as DNS names write it`},
		{`ptr = 'a(b.x'`, `at 7: expected a domain name such as 'security.ipip.net', found "a(b.x": byte 2 is '(': escape it with a backslash as DNS names write it`},
		{`ptr = 'a\256.x'`, `at 7: expected a domain name such as 'security.ipip.net', found "a\\256.x": name "a\\256.x" has \256, above \255`},
		{"ptr = '" + strings.Repeat("a", 64) + ".x'", `at 7: expected a domain name such as 'security.ipip.net', found "` + strings.Repeat("a", 40) + `…": name "` + strings.Repeat("a", 64) + `.x" has a label longer than 63 bytes`},
		{"ptr = 'x", "at 9: expected a closing ' for the value that starts at 7, found end of query"},
		{`ptr = 'x\'`, "at 11: expected a closing ' for the value that starts at 7, found end of query"},
		{`ptr = "x`, `at 9: expected a closing " for the value that starts at 7, found end of query`},
		{"ip = '1.2.3'", `at 6: expected an IPv4 address such as '192.0.2.1', found "1.2.3": "1.2.3" is not an IPv4 address or CIDR (want a.b.c.d or a.b.c.d/n)`},
		{"ip = '1.2.3.0/24'", `at 6: expected an IPv4 address (for a block write ip in 'a.b.c.d/n'), found "1.2.3.0/24"`},
		{"ip = '::1'", `at 6: expected an IPv4 address such as '192.0.2.1', found "::1": "::1" is not IPv4: ptrsweep sweeps IPv4 only`},
		{"ip in '1.2.3.4/16'", `at 7: expected an IPv4 CIDR block such as '192.0.2.0/24', found "1.2.3.4/16": "1.2.3.4/16" has host bits set; did you mean 1.2.0.0/16?`},
		{"ip in '1.2.3.0/33'", `at 7: expected an IPv4 CIDR block such as '192.0.2.0/24', found "1.2.3.0/33": "1.2.3.0/33" has prefix length 33: IPv4 allows 0 to 32`},
		{"ip not '1.2.3.4'", `at 8: expected 'in' after 'not', found "1.2.3.4"`},
		{"ip not = '1.2.3.4'", "at 8: expected 'in' after 'not', found '='"},
		{"ptr_part = 'a' ~", "at 16: expected a field name, a quoted value, an operator, AND, OR or a parenthesis, found '~'"},
		{"ptr_part = 'a b' ~", `at 12: expected a domain name such as 'security.ipip.net', found "a b": byte 2 is ' ': write a space as '\ ' and other bytes as \DDD`},
		{"ip in 5", "at 7: expected a quoted string after 'in', found the number 5"},
		{"asn = 4294967296", "at 7: expected an AS number from 0 to 4294967295 such as 63949, found the number 4294967296"},
		{"asn = 'AS'", `at 7: expected an AS number from 0 to 4294967295 such as 63949, found "AS"`},
		{"asn = '+5'", `at 7: expected an AS number from 0 to 4294967295 such as 63949, found "+5"`},
		{"asn = x", "at 7: expected an AS number after '=', found 'x'"},
		{"asn = 12abc", "at 7: expected a number or a name, found '12abc'"},
		{"asn in 5", "at 5: expected '=' or '!=' after asn, found 'in'"},
		{"country = 'JPN'", `at 11: expected a two-letter country code such as 'JP', found "JPN"`},
		{"country = 'J1'", `at 11: expected a two-letter country code such as 'JP', found "J1"`},
		{"fcrdns = 'maybe'", `at 10: expected an fcrdns outcome, found "maybe": unknown fcrdns outcome "maybe" (want confirmed, mismatch, no_address, error or numeric)`},
		{"status = 'weird'", `at 10: expected a status, found "weird": unknown status "weird" (want ok, nxdomain, nodata, servfail, refused or timeout)`},
		{"status = ''", `at 10: expected a status, found "": unknown status "" (want ok, nxdomain, nodata, servfail, refused or timeout)`},
		{"scan = 'Demo'", `at 8: expected a scan name (1 to 64 characters of a-z, 0-9, '-' and '_'), found "Demo": byte 1 is 'D'`},
		{"scan = '-x'", `at 8: expected a scan name (1 to 64 characters of a-z, 0-9, '-' and '_'), found "-x": byte 1 is '-'`},
		{"scan = ''", `at 8: expected a scan name (1 to 64 characters of a-z, 0-9, '-' and '_'), found "": the name is 0 bytes long`},
		{"foo = 'x'", "at 1: expected a field name (ptr_part, ptr, ip, asn, country, fcrdns, status, scan) or '(', found 'foo'"},
		{"'x' = ptr", `at 1: expected a field name (ptr_part, ptr, ip, asn, country, fcrdns, status, scan) or '(', found "x"`},
		{"ptr = 'x' )", "at 11: expected AND, OR or end of query, found ')' without a matching '('"},
		{"ptr = 'x' ptr = 'y'", "at 11: expected AND, OR or end of query, found 'ptr'"},
		{"ptr = 'x' AND", "at 14: expected a condition or '(', found end of query"},
		{"ptr = 'x' OR OR ptr = 'y'", "at 14: expected a field name (ptr_part, ptr, ip, asn, country, fcrdns, status, scan) or '(', found 'OR'"},
		{"(ptr = 'x'", "at 11: expected AND, OR or ')' to close the '(' at 1, found end of query"},
		{"()", "at 2: expected a field name (ptr_part, ptr, ip, asn, country, fcrdns, status, scan) or '(', found ')'"},
		{"ptr ~ 'x'", "at 5: expected a field name, a quoted value, an operator, AND, OR or a parenthesis, found '~'"},
		{"ptr == 'x'", "at 6: expected a quoted string after '=', found '='"},
		{"ptr ! 'x'", "at 5: expected '=', '!=' or '<>', found '!'"},
		{"ptr = 'x' \x00", "at 11: expected a field name, a quoted value, an operator, AND, OR or a parenthesis, found byte 0x00"},
	}
	for _, tt := range tests {
		n, err := Parse(tt.in)
		if err == nil {
			t.Errorf("Parse(%q) = %s, want error %q", tt.in, n, tt.want)
			continue
		}
		if got := err.Error(); got != tt.want {
			t.Errorf("Parse(%q) error =\n  %s\nwant\n  %s", tt.in, got, tt.want)
		}
		var qe *Error
		if !errors.As(err, &qe) || !errors.Is(err, ErrBadQuery) {
			t.Errorf("Parse(%q) error %v is not a *Error matching ErrBadQuery", tt.in, err)
		} else if qe.Pos < 1 || qe.Pos > len(tt.in)+1 {
			t.Errorf("Parse(%q) error position %d outside 1..%d", tt.in, qe.Pos, len(tt.in)+1)
		}
	}
}

func TestParseLimits(t *testing.T) {
	cond := "ptr = 'a.x'"
	conds := func(n int) string { return strings.Repeat(cond+" OR ", n-1) + cond }
	nest := func(n int) string { return strings.Repeat("(", n) + cond + strings.Repeat(")", n) }
	for _, in := range []string{conds(MaxConditions), nest(MaxDepth)} {
		if _, err := Parse(in); err != nil {
			t.Errorf("Parse(%.40q…) at the limit: %v", in, err)
		}
	}
	long := "ptr = '" + strings.Repeat("a.", MaxLength/2) + "x'"
	tests := []struct{ in, want string }{
		{conds(MaxConditions + 1), fmt.Sprintf("at %d: expected end of query (a query holds at most 64 conditions), found more", MaxConditions*len(cond+" OR ")+1)},
		{nest(MaxDepth + 1), "at 17: expected at most 16 nested parentheses, found more"},
		{long, fmt.Sprintf("at 4097: expected end of query (a query is at most 4096 bytes), found %d bytes", len(long))},
	}
	for _, tt := range tests {
		_, err := Parse(tt.in)
		if err == nil || err.Error() != tt.want {
			t.Errorf("Parse(%.40q…) error = %v, want %s", tt.in, err, tt.want)
		}
	}
}
