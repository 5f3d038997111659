package schema

import (
	"strings"
	"testing"
)

func TestStatements(t *testing.T) {
	stmts, err := Statements()
	if err != nil {
		t.Fatalf("Statements() error: %v", err)
	}
	var tables []string
	for _, s := range stmts {
		if s.Alter {
			tables = append(tables, "alter "+s.Table)
		} else {
			tables = append(tables, s.Table)
		}
		if strings.Contains(s.SQL, "--") || strings.HasSuffix(s.SQL, ";") {
			t.Errorf("%s: SQL keeps a comment or semicolon: %q", s.File, s.SQL)
		}
	}
	if got, want := strings.Join(tables, ","), "ptr,units,scans,alter units,asn_ranges,asn_versions,superseded,ptr_current,feed,ptr_by_ip,ptr_by_ip_mv"; got != want {
		t.Errorf("Statements() tables = %s, want %s", got, want)
	}
}

func TestStatementsAvoidUnsupportedFeatures(t *testing.T) {
	// ClickHouse 18.16 lacks these; the schema must run there too.
	banned := []string{"IPv4", "CODEC", "TTL", "INDEX", "LowCardinality", "DateTime64"}
	stmts, err := Statements()
	if err != nil {
		t.Fatalf("Statements() error: %v", err)
	}
	for _, s := range stmts {
		for _, b := range banned {
			if strings.Contains(s.SQL, b) {
				t.Errorf("%s uses %s, which ClickHouse 18.16 does not support", s.File, b)
			}
		}
	}
}
