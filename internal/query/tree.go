package query

import (
	"net/netip"
	"strconv"
	"strings"
)

// Field is a field name of the language. Its value is the name as written in
// a query, lower-case.
type Field string

// The fields.
const (
	FieldPTRPart Field = "ptr_part" // a label-aligned name suffix
	FieldPTR     Field = "ptr"      // an exact name
	FieldIP      Field = "ip"       // an address or, with in, a CIDR block
	FieldASN     Field = "asn"      // an AS number
	FieldCountry Field = "country"  // an ISO 3166 two-letter code
	FieldFCrDNS  Field = "fcrdns"   // a forward-confirmation outcome
	FieldStatus  Field = "status"   // a resolution outcome
	FieldScan    Field = "scan"     // a scan name
)

// Fields lists every field in the order documentation shows them.
var Fields = []Field{FieldPTRPart, FieldPTR, FieldIP, FieldASN, FieldCountry, FieldFCrDNS, FieldStatus, FieldScan}

// Op is a comparison operator.
type Op string

// The operators. OpIn and OpNotIn apply to FieldIP only.
const (
	OpEq    Op = "="
	OpNe    Op = "!="
	OpIn    Op = "in"
	OpNotIn Op = "not in"
)

// Node is a parsed query: a *Cond, an *And or an *Or. Nodes are immutable
// after Parse and safe for concurrent use.
type Node interface {
	// String returns the node in canonical query text, which Parse accepts
	// and turns into an equal tree.
	String() string
	node()
}

// And holds when every term holds. It has at least two terms, none an *And.
type And struct{ Terms []Node }

// Or holds when any term holds. It has at least two terms, none an *Or.
type Or struct{ Terms []Node }

// Cond is one condition: Field Op Value.
type Cond struct {
	// Pos is the 1-based byte position of the field name in the query.
	Pos   int
	Field Field
	Op    Op
	// Value is the canonical value: a name in stored form for ptr and
	// ptr_part, an address or CIDR for ip, the decimal AS number, an
	// upper-case country code, the stored outcome name, or the scan name.
	Value string
	// Prefix is the block of an ip condition: a /32 for = and !=.
	Prefix netip.Prefix
	// ASN is the AS number of an asn condition.
	ASN uint32
}

func (*And) node()  {}
func (*Or) node()   {}
func (*Cond) node() {}

// String returns the terms joined by AND; an *Or term is parenthesised.
func (a *And) String() string { return join(a.Terms, " AND ") }

// String returns the terms joined by OR.
func (o *Or) String() string { return join(o.Terms, " OR ") }

func join(terms []Node, sep string) string {
	var b strings.Builder
	for i, t := range terms {
		if i > 0 {
			b.WriteString(sep)
		}
		if _, ok := t.(*Or); ok {
			b.WriteString("(" + t.String() + ")")
		} else {
			b.WriteString(t.String())
		}
	}
	return b.String()
}

// String returns the condition in canonical form, such as
// "ptr_part = 'security.ipip.net'" or "asn = 63949".
func (c *Cond) String() string {
	v := "'" + c.Value + "'"
	if c.Field == FieldASN {
		v = strconv.FormatUint(uint64(c.ASN), 10)
	}
	return string(c.Field) + " " + string(c.Op) + " " + v
}

// Conds calls f for every condition of n, left to right.
func Conds(n Node, f func(*Cond)) {
	switch n := n.(type) {
	case *Cond:
		f(n)
	case *And:
		for _, t := range n.Terms {
			Conds(t, f)
		}
	case *Or:
		for _, t := range n.Terms {
			Conds(t, f)
		}
	}
}
