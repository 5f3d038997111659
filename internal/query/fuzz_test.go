package query

import (
	"errors"
	"strings"
	"testing"
)

// sqlWords is everything Compile may write with PTRColumns: fixed operators,
// keywords and column names. Anything else in the SQL came from the query.
var sqlWords = map[string]bool{
	"(": true, ")": true, "?": true, "=": true, "!=": true, ">=": true, "<": true,
	"AND": true, "OR": true, "NOT": true, "BETWEEN": true,
	"rname": true, "ptr": true, "ip": true, "asn": true, "country": true,
	"fcrdns": true, "status": true, "scan": true,
}

// checkCompiled fails unless every value of the SQL is a '?' argument.
func checkCompiled(t *testing.T, in string, c Clause) {
	t.Helper()
	if strings.ContainsAny(c.SQL, "'\"`\\0123456789;") {
		t.Fatalf("Compile(%q) SQL %q holds a quote, backslash, digit or ';'", in, c.SQL)
	}
	spaced := strings.NewReplacer("(", " ( ", ")", " ) ").Replace(c.SQL)
	for _, w := range strings.Fields(spaced) {
		if !sqlWords[w] {
			t.Fatalf("Compile(%q) SQL %q holds %q, which the compiler does not write", in, c.SQL, w)
		}
	}
	if n := strings.Count(c.SQL, "?"); n != len(c.Args) {
		t.Fatalf("Compile(%q) SQL %q has %d placeholders for %d arguments", in, c.SQL, n, len(c.Args))
	}
	for _, a := range c.Args {
		switch a.(type) {
		case string, uint32:
		default:
			t.Fatalf("Compile(%q) argument %#v is a %T, want string or uint32", in, a, a)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"ptr_part = 'security.ipip.net'",
		"ptr_part = 'security.ipip.net' AND (asn = 63949 OR asn = 'AS2516') OR country = 'jp'",
		`ptr = 'a\'b.example' or ptr != "a\032b.x"`,
		"ip in '1.2.0.0/16' and ip not in '1.2.3.0/24' and ip != '1.2.4.4'",
		"fcrdns = 'mismatch' AND status <> 'ok' AND scan = 'demo-1'",
		"((ptr_part = 'x'))", "ip = '1.2.3", "asn = 12abc", "(", ")", "'", "",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		n, err := Parse(in)
		if err != nil {
			var qe *Error
			if !errors.As(err, &qe) || !errors.Is(err, ErrBadQuery) {
				t.Fatalf("Parse(%q) error %v is not a *Error matching ErrBadQuery", in, err)
			}
			if qe.Pos < 1 || qe.Pos > len(in)+1 {
				t.Fatalf("Parse(%q) error position %d outside 1..%d", in, qe.Pos, len(in)+1)
			}
			return
		}
		c, err := Compile(n, PTRColumns())
		if err != nil {
			t.Fatalf("Compile(Parse(%q)) = %v; every field has a column", in, err)
		}
		checkCompiled(t, in, c)
		canon := n.String()
		back, err := Parse(canon)
		if err != nil {
			t.Fatalf("Parse(%q) gave %q, which does not parse: %v", in, canon, err)
		}
		if sexpr(back) != sexpr(n) {
			t.Fatalf("Parse(%q) = %s; its text %q parses to %s", in, sexpr(n), canon, sexpr(back))
		}
	})
}
