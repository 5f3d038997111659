// Package schema holds ptrsweep's ClickHouse schema: numbered SQL files, each
// one idempotent statement (a CREATE TABLE, VIEW or MATERIALIZED VIEW IF NOT
// EXISTS, or an ALTER TABLE … MODIFY COLUMN that migrates a table an older
// release created), embedded in the binary. At every start-up internal/store applies them in file-name
// order: the CREATE of a table that does not exist yet, the ALTERs of one
// that existed before (every statement when it cannot list the tables).
//
// The statements name tables without a database, so they apply to the
// connection's database. They run on ClickHouse 18.16 as well as on current
// releases: no IPv4 type, codecs, TTL, skipping indexes or LowCardinality.
package schema

import (
	"embed"
	"fmt"
	"io/fs"
	"regexp"
	"sort"
	"strings"
)

// FS holds the schema's SQL files. It is read-only and safe for concurrent use.
//
//go:embed *.sql
var FS embed.FS

// Statement is one schema statement and the table it creates.
type Statement struct {
	// File is the SQL file the statement comes from, e.g. "001_ptr.sql".
	File string
	// Table is the name of the table (or view) the statement creates or
	// alters.
	Table string
	// Alter marks a migration of a table created by an earlier schema: it
	// is applied only when the table existed before (a new table is created
	// in its latest form), and it is idempotent.
	Alter bool
	// SQL is the statement without comments and without a trailing semicolon.
	SQL string
}

var (
	createTable = regexp.MustCompile(`(?i)^CREATE\s+(?:TABLE|VIEW|MATERIALIZED\s+VIEW)\s+IF\s+NOT\s+EXISTS\s+([A-Za-z0-9_]+)\b`)
	alterTable  = regexp.MustCompile(`(?i)^ALTER\s+TABLE\s+([A-Za-z0-9_]+)\s+MODIFY\s+COLUMN\b`)
)

// Statements returns the schema's statements in the order they must be
// applied. Every statement is a CREATE TABLE (VIEW, MATERIALIZED VIEW) IF
// NOT EXISTS or an idempotent ALTER TABLE … MODIFY COLUMN, so applying them
// again is harmless.
func Statements() ([]Statement, error) {
	names, err := fs.Glob(FS, "*.sql")
	if err != nil {
		return nil, fmt.Errorf("list schema files: %w", err)
	}
	sort.Strings(names)
	var out []Statement
	for _, name := range names {
		b, err := FS.ReadFile(name)
		if err != nil {
			return nil, fmt.Errorf("read schema file %s: %w", name, err)
		}
		sql := stripComments(string(b))
		sql = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(sql), ";"))
		if strings.Contains(sql, ";") {
			return nil, fmt.Errorf("schema file %s: want exactly one statement", name)
		}
		if m := alterTable.FindStringSubmatch(sql); m != nil {
			out = append(out, Statement{File: name, Table: m[1], SQL: sql, Alter: true})
			continue
		}
		m := createTable.FindStringSubmatch(sql)
		if m == nil {
			return nil, fmt.Errorf("schema file %s: want CREATE TABLE|VIEW|MATERIALIZED VIEW IF NOT EXISTS <name> or ALTER TABLE <name> MODIFY COLUMN", name)
		}
		out = append(out, Statement{File: name, Table: m[1], SQL: sql})
	}
	return out, nil
}

// stripComments removes whole-line "--" comments. The schema keeps comments on
// lines of their own, so no string literal is ever cut.
func stripComments(s string) string {
	lines := strings.Split(s, "\n")
	kept := lines[:0]
	for _, l := range lines {
		if strings.HasPrefix(strings.TrimSpace(l), "--") {
			continue
		}
		kept = append(kept, l)
	}
	return strings.Join(kept, "\n")
}
