// Package store keeps ptrsweep's rows, unit log and scans in ClickHouse. It
// is the only package that imports clickhouse-go. The schema lives in the
// top-level schema package and is applied by Open.
//
// Queries run on ClickHouse 18.16 (Debian's build) and on current releases:
// the native protocol only, explicit column lists on INSERT, client-side
// parameter binding, and reads with FINAL on narrow ranges and a join with
// the superseded table (whole-scan exports do the same on the client, see
// export.go), so re-inserted rows never show twice and rows of superseded
// attempts never show (see schema/README.md).
package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/ptrsweep/ptrsweep/schema"
)

// ClickHouse error codes the store reacts to.
const (
	codeUnknownDatabase = 81
)

// Store is a connection pool to one ClickHouse database holding ptrsweep's
// tables. It is safe for concurrent use. Open creates it; Close releases it.
type Store struct {
	conn driver.Conn
	opts Options
}

// Open parses dsn (see ParseDSN), connects over the native protocol, creates
// the database if it is missing and applies the schema. Applying the schema
// creates only missing tables, so a user that may only insert or select can
// open an existing database. When the server cannot be reached the error
// wraps ErrUnreachable and names the address.
func Open(ctx context.Context, dsn string) (*Store, error) {
	opts, err := ParseDSN(dsn)
	if err != nil {
		return nil, err
	}
	return OpenOptions(ctx, opts)
}

// OpenOptions is Open with parsed options.
func OpenOptions(ctx context.Context, opts Options) (*Store, error) {
	if !validDatabase.MatchString(opts.Database) {
		return nil, fmt.Errorf("%w: database name %q: use letters, digits and _ only", ErrInvalidDSN, opts.Database)
	}
	conn, err := connect(ctx, opts, opts.Database)
	if err != nil && isException(err, codeUnknownDatabase) {
		if err := createDatabase(ctx, opts); err != nil {
			return nil, err
		}
		conn, err = connect(ctx, opts, opts.Database)
	}
	if err != nil {
		return nil, err
	}
	s := &Store{conn: conn, opts: opts}
	// Refuse a database of an older release before touching it: its
	// tables would make the newer statements fail with a confusing error.
	if err := s.checkColumns(ctx); err != nil {
		_ = conn.Close()
		return nil, err
	}
	if err := s.applySchema(ctx); err != nil {
		_ = conn.Close()
		return nil, err
	}
	return s, nil
}

// requiredColumns are columns that tables of older ptrsweep releases lack
// and that no ALTER can add in a useful way: ptr's attempt is its
// ReplacingMergeTree version, which ClickHouse cannot change.
var requiredColumns = []struct{ table, column string }{
	{"ptr", "attempt"},
}

// checkColumns fails with ErrOldSchema when an existing table lacks a
// column that only a new database provides. A table that does not exist yet
// is fine: the schema creates it whole.
func (s *Store) checkColumns(ctx context.Context) error {
	for _, rc := range requiredColumns {
		var has, cols uint64
		err := s.conn.QueryRow(ctx, "SELECT countIf(name = ?), count() FROM system.columns WHERE database = currentDatabase() AND table = ?",
			rc.column, rc.table).Scan(&has, &cols)
		if err != nil {
			return fmt.Errorf("check schema of database %s at %s: %w", s.opts.Database, s.opts.Addr, err)
		}
		if cols > 0 && has == 0 {
			return fmt.Errorf("%w: database %s at %s: table %s has no column %s (its rows cannot be told apart by attempt, and ClickHouse cannot add it to the table's engine); "+
				"use a new database (another name in the DSN), or copy the old data into one: see \"Databases of older releases\" in schema/README.md",
				ErrOldSchema, s.opts.Database, s.opts.Addr, rc.table, rc.column)
		}
	}
	return nil
}

// connect opens a pool to database and pings it.
func connect(ctx context.Context, o Options, database string) (driver.Conn, error) {
	co := &clickhouse.Options{
		Protocol:     clickhouse.Native,
		Addr:         []string{o.Addr},
		Auth:         clickhouse.Auth{Database: database, Username: o.User, Password: o.Password},
		DialTimeout:  o.DialTimeout,
		ReadTimeout:  o.ReadTimeout,
		MaxOpenConns: o.MaxOpenConns,
		MaxIdleConns: o.MaxOpenConns,
		// The client name (system.processes, system.query_log) names the
		// database too: "ptrsweep/1 db/NAME clickhouse-go/…".
		ClientInfo: clickhouse.ClientInfo{Products: []struct {
			Name    string
			Version string
		}{{Name: "ptrsweep", Version: "1"}, {Name: "db", Version: database}}},
	}
	if o.Compress {
		co.Compression = &clickhouse.Compression{Method: clickhouse.CompressionLZ4}
	}
	if o.LogQueries {
		co.Settings = clickhouse.Settings{"log_queries": 1}
	}
	tlsCfg, err := o.TLSConfig()
	if err != nil {
		return nil, err
	}
	co.TLS = tlsCfg
	conn, err := clickhouse.Open(co)
	if err != nil {
		return nil, fmt.Errorf("clickhouse at %s: %w", o.Addr, err)
	}
	if err := conn.Ping(ctx); err != nil {
		_ = conn.Close()
		var ex *clickhouse.Exception
		if errors.As(err, &ex) {
			return nil, fmt.Errorf("clickhouse at %s, database %s, user %s: %w (check the user, password and database in the DSN)", o.Addr, database, o.User, err)
		}
		if ctxErr := ctx.Err(); ctxErr != nil {
			return nil, fmt.Errorf("connect to clickhouse at %s: %w", o.Addr, ctxErr)
		}
		return nil, &unreachableError{addr: o.Addr, err: err, secure: o.Secure}
	}
	return conn, nil
}

// unreachableError reports a server that could not be reached. It matches
// ErrUnreachable and unwraps to the dial error.
type unreachableError struct {
	addr   string
	err    error
	secure bool
}

func (e *unreachableError) Error() string {
	if msg := e.err.Error(); strings.Contains(msg, "tls: ") || strings.Contains(msg, "x509: ") {
		return fmt.Sprintf("clickhouse at %s: TLS failed (%v): check secure, ca, cert and key in the DSN", e.addr, e.err)
	}
	if e.secure {
		return fmt.Sprintf("clickhouse at %s is unreachable over TLS (%v): is its tcp_port_secure (default 9440) enabled? start ClickHouse or point --clickhouse / PTRSWEEP_CLICKHOUSE at a running server", e.addr, e.err)
	}
	return fmt.Sprintf("clickhouse at %s is unreachable (%v): start ClickHouse (make clickhouse) or point --clickhouse / PTRSWEEP_CLICKHOUSE at a running server", e.addr, e.err)
}

func (e *unreachableError) Is(target error) bool { return target == ErrUnreachable }

func (e *unreachableError) Unwrap() error { return e.err }

// createDatabase creates o.Database through the default database.
func createDatabase(ctx context.Context, o Options) error {
	conn, err := connect(ctx, o, "default")
	if err != nil {
		return err
	}
	defer conn.Close()
	if err := conn.Exec(ctx, "CREATE DATABASE IF NOT EXISTS `"+o.Database+"`"); err != nil {
		return fmt.Errorf("create database %s at %s: %w", o.Database, o.Addr, err)
	}
	return nil
}

// applySchema creates the tables that do not exist yet and migrates (ALTER)
// the ones that did; when it cannot list the tables it runs every
// statement, since each is idempotent. When it creates ptr_by_ip next to an
// existing ptr it copies ptr's rows into it (backfillByIP).
func (s *Store) applySchema(ctx context.Context) error {
	stmts, err := schema.Statements()
	if err != nil {
		return err
	}
	existing, err := s.tables(ctx)
	if err != nil {
		existing = nil // cannot tell: apply every statement, they are idempotent
	}
	for _, st := range stmts {
		had := slices.Contains(existing, st.Table)
		if st.Alter != had && existing != nil {
			continue // CREATE of an existing table, or migration of a new one
		}
		if err := s.conn.Exec(ctx, st.SQL); err != nil {
			if st.Alter && (isException(err, codeReadonly) || isException(err, codeAccessDenied)) {
				// A reader (a readonly user) cannot migrate a table and
				// does not need to: the next writer's start-up does it.
				continue
			}
			return fmt.Errorf("apply schema %s to database %s at %s: %w", st.File, s.opts.Database, s.opts.Addr, err)
		}
	}
	if needsBackfill(existing) {
		return s.backfillByIP(ctx)
	}
	return nil
}

// tables lists the tables of the connection's database.
func (s *Store) tables(ctx context.Context) ([]string, error) {
	rows, err := s.conn.Query(ctx, "SELECT name FROM system.tables WHERE database = currentDatabase()")
	if err != nil {
		return nil, fmt.Errorf("list tables: %w", err)
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, fmt.Errorf("list tables: %w", err)
		}
		names = append(names, n)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list tables: %w", err)
	}
	return names, nil
}

// ClickHouse exception codes applySchema tolerates on a migration: the
// user may not change tables (a readonly profile on 18.16, a missing grant
// on current releases).
const (
	codeReadonly     = 164
	codeAccessDenied = 497
)

// isException reports whether err is a ClickHouse exception with the code.
func isException(err error, code int32) bool {
	var ex *clickhouse.Exception
	return errors.As(err, &ex) && ex.Code == code
}

// Database returns the name of the store's database.
func (s *Store) Database() string { return s.opts.Database }

// MaxConns returns the most connections the store opens at once
// (max_open_conns): a caller that runs queries side by side runs no more.
func (s *Store) MaxConns() int { return s.opts.MaxOpenConns }

// Addr returns the host:port of the server.
func (s *Store) Addr() string { return s.opts.Addr }

// Ping checks that the server answers (a readiness check). Safe for
// concurrent use.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.conn.Ping(ctx); err != nil {
		return fmt.Errorf("ping clickhouse at %s: %w", s.opts.Addr, err)
	}
	return nil
}

// DropDatabase drops the store's database and everything in it. Tests use
// it to clean up; the Store is unusable afterwards except for Close.
func (s *Store) DropDatabase(ctx context.Context) error {
	if err := s.conn.Exec(ctx, "DROP DATABASE IF EXISTS `"+s.opts.Database+"`"); err != nil {
		return fmt.Errorf("drop database %s: %w", s.opts.Database, err)
	}
	return nil
}

// Close closes the connection pool. Calls in flight may fail.
func (s *Store) Close() error {
	if err := s.conn.Close(); err != nil {
		return fmt.Errorf("close clickhouse connection to %s: %w", s.opts.Addr, err)
	}
	return nil
}

// Exec runs one SQL statement in the store's database. It is for
// administration and tests (preparing or inspecting tables); ptrsweep's own
// reads and writes use the typed methods. Errors are classified like
// inserts' (see Permanent).
func (s *Store) Exec(ctx context.Context, sql string) error {
	if err := s.conn.Exec(ctx, sql); err != nil {
		return classify(fmt.Errorf("database %s: %w", s.opts.Database, err))
	}
	return nil
}
