package query

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/ptrsweep/ptrsweep/internal/cidr"
	"github.com/ptrsweep/ptrsweep/internal/sweep"
)

// maxScanName is the longest scan name (the planner's limit).
const maxScanName = 64

// setValue checks the value token v of c, makes it canonical and stores it.
func setValue(c *Cond, v token) error {
	bad := func(expected string, cause error) error {
		return &Error{Pos: v.pos, Expected: expected, Found: v.describe(), Cause: cause}
	}
	if c.Field == FieldASN && v.kind == tNumber {
		return setASN(c, v.text, bad)
	}
	if v.kind != tString {
		want := "a quoted string after '" + string(c.Op) + "'"
		if c.Field == FieldASN {
			want = "an AS number after '" + string(c.Op) + "'"
		}
		return &Error{Pos: v.pos, Expected: want, Found: v.describe()}
	}
	s := strings.TrimSpace(v.text)
	switch c.Field {
	case FieldPTRPart, FieldPTR:
		name, err := checkName(s, c.Field == FieldPTRPart)
		if err != nil {
			return bad("a domain name such as 'security.ipip.net'", err)
		}
		c.Value = name
	case FieldIP:
		return setIP(c, s, bad)
	case FieldASN:
		if len(s) > 2 && strings.EqualFold(s[:2], "as") {
			s = s[2:]
		}
		return setASN(c, s, bad)
	case FieldCountry:
		if len(s) != 2 || !isLetter(s[0]) || !isLetter(s[1]) {
			return bad("a two-letter country code such as 'JP'", nil)
		}
		c.Value = strings.ToUpper(s)
	case FieldFCrDNS:
		f, err := sweep.ParseFCrDNS(strings.ToLower(s))
		if err != nil {
			return bad("an fcrdns outcome", err)
		}
		c.Value = f.String()
	case FieldStatus:
		st, err := sweep.ParseStatus(strings.ToLower(s))
		if err != nil {
			return bad("a status", err)
		}
		c.Value = st.String()
	case FieldScan:
		if err := checkScan(s); err != nil {
			return bad(fmt.Sprintf("a scan name (1 to %d characters of a-z, 0-9, '-' and '_')", maxScanName), err)
		}
		c.Value = s
	}
	return nil
}

// setIP stores an address (= and !=) or a CIDR block (in, not in).
func setIP(c *Cond, s string, bad func(string, error) error) error {
	if c.Op == OpEq || c.Op == OpNe {
		if strings.Contains(s, "/") {
			return bad("an IPv4 address (for a block write ip in 'a.b.c.d/n')", nil)
		}
		p, err := cidr.ParsePrefix(s)
		if err != nil {
			return bad("an IPv4 address such as '192.0.2.1'", err)
		}
		c.Prefix, c.Value = p, p.Addr().String()
		return nil
	}
	p, err := cidr.ParsePrefix(s)
	if err != nil {
		return bad("an IPv4 CIDR block such as '192.0.2.0/24'", err)
	}
	c.Prefix, c.Value = p, p.String()
	return nil
}

// setASN stores a decimal AS number.
func setASN(c *Cond, s string, bad func(string, error) error) error {
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil || s == "" || !isDigit(s[0]) {
		return bad("an AS number from 0 to 4294967295 such as 63949", nil)
	}
	c.ASN, c.Value = uint32(n), strconv.FormatUint(n, 10)
	return nil
}

// Errors of a name value; each is the Cause of the *Error.
var (
	errEmptyName = errors.New("the name is empty")
)

// checkName returns s as a stored name, or why it cannot be one. For a
// suffix a leading dot is dropped. The rules follow the store's suffix
// normalisation (trim, lower-case, no trailing dot, sweep.CheckName) and
// add one: s must already be in presentation form, since a stored name is.
func checkName(s string, suffix bool) (string, error) {
	if suffix {
		s = strings.TrimPrefix(s, ".")
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\':
			// An escaped byte, or the first digit of \DDD (CheckName checks it).
			if i+1 < len(s) && (s[i+1] < 0x20 || s[i+1] > 0x7e) {
				return "", fmt.Errorf("byte %d is %s: write it as \\DDD", i+2, showByte(s[i+1]))
			}
			i++
		case c < 0x21 || c > 0x7e:
			return "", fmt.Errorf("byte %d is %s: write a space as '\\ ' and other bytes as \\DDD", i+1, showByte(c))
		case strings.IndexByte(`()@;"'`, c) >= 0:
			return "", fmt.Errorf("byte %d is %s: escape it with a backslash as DNS names write it", i+1, showByte(c))
		}
	}
	s = sweep.CanonicalName(s)
	if s == "" || s == "." {
		return "", errEmptyName
	}
	if trailingDot(s) { // "a.." canonicalises to "a.", which CheckName allows
		return "", fmt.Errorf("name %q ends in an empty label", s)
	}
	if err := sweep.CheckName(s); err != nil {
		return "", err
	}
	return s, nil
}

// trailingDot reports whether s ends in an unescaped dot.
func trailingDot(s string) bool {
	if !strings.HasSuffix(s, ".") {
		return false
	}
	n := 0
	for i := len(s) - 2; i >= 0 && s[i] == '\\'; i-- {
		n++
	}
	return n%2 == 0
}

// checkScan reports whether s can be a scan name: 1 to maxScanName bytes of
// a-z, 0-9, '-' and '_', starting with a letter or digit.
func checkScan(s string) error {
	if s == "" || len(s) > maxScanName {
		return fmt.Errorf("the name is %d bytes long", len(s))
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		lowerOrDigit := 'a' <= c && c <= 'z' || isDigit(c)
		if !lowerOrDigit && (i == 0 || (c != '-' && c != '_')) {
			return fmt.Errorf("byte %d is %s", i+1, showByte(c))
		}
	}
	return nil
}
