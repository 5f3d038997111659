package query

import (
	"fmt"
	"strings"

	"github.com/ptrsweep/ptrsweep/internal/sweep"
)

// Columns maps the fields of the language to the columns of a table. An
// empty column means the table lacks the field: Compile refuses a condition
// on it with an *Error. Every column must be an identifier (optionally
// qualified: "p.ip"); Compile checks. A Columns is a value, safe to copy.
type Columns struct {
	// RName is the label-reversed name (String), used for ptr_part and, with
	// PTR, for ptr: a primary-key range instead of a scan.
	RName string
	// PTR is the name in stored form (String).
	PTR string
	// IP is the address as a number (UInt32).
	IP string
	// ASN is the AS number (UInt32).
	ASN string
	// Country is the ISO 3166 code, upper case (String).
	Country string
	// FCrDNS is the forward-confirmation outcome (an Enum8 or String of the
	// names in sweep.FCrDNS).
	FCrDNS string
	// Status is the outcome (an Enum8 or String of the names in sweep.Status).
	Status string
	// Scan is the scan name (String).
	Scan string
}

// PTRColumns returns the columns of the ptr table (schema/001_ptr.sql) with
// the asn and country columns of the enrichment.
func PTRColumns() Columns {
	return Columns{RName: "rname", PTR: "ptr", IP: "ip", ASN: "asn", Country: "country",
		FCrDNS: "fcrdns", Status: "status", Scan: "scan"}
}

// column returns the column that holds field f ("" when there is none).
func (c Columns) column(f Field) string {
	switch f {
	case FieldPTRPart:
		return c.RName
	case FieldPTR:
		return c.PTR
	case FieldIP:
		return c.IP
	case FieldASN:
		return c.ASN
	case FieldCountry:
		return c.Country
	case FieldFCrDNS:
		return c.FCrDNS
	case FieldStatus:
		return c.Status
	case FieldScan:
		return c.Scan
	}
	return ""
}

// Fields returns the fields c has a column for, in the order of Fields.
func (c Columns) Fields() []Field {
	var fs []Field
	for _, f := range Fields {
		if c.column(f) != "" {
			fs = append(fs, f)
		}
	}
	return fs
}

// check reports a column that is not an identifier.
func (c Columns) check() error {
	for _, col := range []string{c.RName, c.PTR, c.IP, c.ASN, c.Country, c.FCrDNS, c.Status, c.Scan} {
		if col != "" && !isColumn(col) {
			return fmt.Errorf("query: column %q is not an identifier ([A-Za-z_][A-Za-z0-9_]*, optionally qualified)", col)
		}
	}
	return nil
}

// isColumn reports whether s is ident or ident.ident.
func isColumn(s string) bool {
	for _, part := range strings.SplitN(s, ".", 2) {
		if part == "" || !isIdentStart(part[0]) || identEnd(part, 0) != len(part) {
			return false
		}
	}
	return true
}

// Clause is a compiled condition: SQL with one '?' per argument, in order.
// SQL is one expression (parenthesised when it has a top-level operator), so
// a caller can join it with AND to conditions of its own.
type Clause struct {
	SQL  string
	Args []any
}

// Compile turns a parsed query into a WHERE condition over the columns of
// cols. Values become arguments: strings for names, country codes, outcome
// names and scans, uint32 for addresses and AS numbers. A condition on a
// field cols lacks is an *Error at the condition; a column that is not an
// identifier is an error of the caller, not of the query. It is safe for
// concurrent use.
//
// ptr_part compiles to a primary-key range on the label-reversed name,
// (rname = ? OR (rname >= ? AND rname < ?)) with the bounds suffix+"." and
// suffix+"/", which ClickHouse 18.16 reads by index (startsWith it does
// not); ptr adds rname = ? to its ptr = ? for the same reason; ip in a block
// is ip BETWEEN ? AND ?.
func Compile(n Node, cols Columns) (Clause, error) {
	if err := cols.check(); err != nil {
		return Clause{}, err
	}
	var b strings.Builder
	var args []any
	if err := compile(&b, &args, n, cols); err != nil {
		return Clause{}, err
	}
	return Clause{SQL: b.String(), Args: args}, nil
}

func compile(b *strings.Builder, args *[]any, n Node, cols Columns) error {
	switch n := n.(type) {
	case *And:
		return compileTerms(b, args, n.Terms, " AND ", cols)
	case *Or:
		return compileTerms(b, args, n.Terms, " OR ", cols)
	case *Cond:
		return compileCond(b, args, n, cols)
	}
	return fmt.Errorf("query: unknown node %T", n)
}

func compileTerms(b *strings.Builder, args *[]any, terms []Node, sep string, cols Columns) error {
	b.WriteByte('(')
	for i, t := range terms {
		if i > 0 {
			b.WriteString(sep)
		}
		if err := compile(b, args, t, cols); err != nil {
			return err
		}
	}
	b.WriteByte(')')
	return nil
}

func compileCond(b *strings.Builder, args *[]any, c *Cond, cols Columns) error {
	col := cols.column(c.Field)
	if col == "" {
		return &Error{Pos: c.Pos, Expected: "a field of this data (" + fieldNames(cols.Fields()) + ")", Found: "'" + string(c.Field) + "'"}
	}
	not := c.Op == OpNe || c.Op == OpNotIn
	switch c.Field {
	case FieldPTRPart:
		r := sweep.ReverseLabels(c.Value)
		if not {
			b.WriteString("NOT ")
		}
		b.WriteString("(" + col + " = ? OR (" + col + " >= ? AND " + col + " < ?))")
		*args = append(*args, r, r+".", r+"/")
		return nil
	case FieldPTR:
		if !not && cols.RName != "" {
			b.WriteString("(" + cols.RName + " = ? AND " + col + " = ?)")
			*args = append(*args, sweep.ReverseLabels(c.Value), c.Value)
			return nil
		}
	case FieldIP:
		lo, hi := prefixRange(c)
		if c.Op == OpIn || c.Op == OpNotIn {
			if not {
				b.WriteString("NOT ")
			}
			b.WriteString("(" + col + " BETWEEN ? AND ?)")
			*args = append(*args, lo, hi)
			return nil
		}
		writeCompare(b, col, not)
		*args = append(*args, lo)
		return nil
	case FieldASN:
		writeCompare(b, col, not)
		*args = append(*args, c.ASN)
		return nil
	}
	writeCompare(b, col, not)
	*args = append(*args, c.Value)
	return nil
}

func writeCompare(b *strings.Builder, col string, not bool) {
	if not {
		b.WriteString(col + " != ?")
	} else {
		b.WriteString(col + " = ?")
	}
}

// prefixRange returns the first and last address of an ip condition's block
// as numbers.
func prefixRange(c *Cond) (lo, hi uint32) {
	a := c.Prefix.Addr().As4()
	lo = uint32(a[0])<<24 | uint32(a[1])<<16 | uint32(a[2])<<8 | uint32(a[3])
	hi = lo | uint32(uint64(1)<<(32-c.Prefix.Bits())-1)
	return lo, hi
}

func fieldNames(fs []Field) string {
	names := make([]string, len(fs))
	for i, f := range fs {
		names[i] = string(f)
	}
	return strings.Join(names, ", ")
}
