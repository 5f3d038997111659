package store

import (
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestParseDSN(t *testing.T) {
	t.Setenv(EnvPassword, "")
	tests := []struct {
		dsn     string
		want    Options
		wantErr string // substring of the error; "" means success
	}{
		{dsn: "clickhouse://127.0.0.1:9000/ptrsweep",
			want: Options{Addr: "127.0.0.1:9000", Database: "ptrsweep", User: "default"}},
		{dsn: "clickhouse://localhost",
			want: Options{Addr: "localhost:9000", Database: "ptrsweep", User: "default"}},
		{dsn: "CLICKHOUSE://ch.example:19000/",
			want: Options{Addr: "ch.example:19000", Database: "ptrsweep", User: "default"}},
		{dsn: "clickhouse://worker:s%40cr%2Ft@10.0.0.5:9000/sweeps_2024",
			want: Options{Addr: "10.0.0.5:9000", Database: "sweeps_2024", User: "worker", Password: "s@cr/t"}},
		{dsn: "clickhouse://reader@[::1]:9440/db",
			want: Options{Addr: "[::1]:9440", Database: "db", User: "reader"}},
		{dsn: "clickhouse://[::1]/db",
			want: Options{Addr: "[::1]:9000", Database: "db", User: "default"}},
		{dsn: "clickhouse://h:1/db?dial_timeout=2s&read_timeout=1m&compress=true&max_open_conns=3",
			want: Options{Addr: "h:1", Database: "db", User: "default", DialTimeout: 2 * time.Second, ReadTimeout: time.Minute, Compress: true, MaxOpenConns: 3}},
		{dsn: "clickhouse://h?compress=false",
			want: Options{Addr: "h:9000", Database: "ptrsweep", User: "default"}},
		{dsn: "clickhouse://h/db?log_queries=true",
			want: Options{Addr: "h:9000", Database: "db", User: "default", LogQueries: true}},
		{dsn: "clickhouse://h/db?secure=true",
			want: Options{Addr: "h:9440", Database: "db", User: "default", Secure: true}},
		{dsn: "clickhouse://h:9000/db?secure=true",
			want: Options{Addr: "h:9000", Database: "db", User: "default", Secure: true}},
		{dsn: "clickhouse://[::1]/db?skip_verify=true",
			want: Options{Addr: "[::1]:9440", Database: "db", User: "default", Secure: true, SkipVerify: true}},
		{dsn: "clickhouse://h/db?secure=false&skip_verify=false",
			want: Options{Addr: "h:9000", Database: "db", User: "default"}},

		{dsn: "", wantErr: "must start with clickhouse://"},
		{dsn: "tcp://127.0.0.1:9000", wantErr: "must start with clickhouse://"},
		{dsn: "http://127.0.0.1:8123/db", wantErr: "must start with clickhouse://"},
		{dsn: "clickhouse://", wantErr: "missing host"},
		{dsn: "clickhouse:///db", wantErr: "missing host"},
		{dsn: "clickhouse://u:p@/db", wantErr: "missing host"},
		{dsn: "clickhouse://h:/db", wantErr: "empty port"},
		{dsn: "clickhouse://h:0/db", wantErr: `port "0"`},
		{dsn: "clickhouse://h:65536/db", wantErr: `port "65536"`},
		{dsn: "clickhouse://h:nine/db", wantErr: `port "nine"`},
		{dsn: "clickhouse://::1:9000/db", wantErr: "in brackets"},
		{dsn: "clickhouse://[::1/db", wantErr: "closing ]"},
		{dsn: "clickhouse://[example.com]:9000/db", wantErr: "not an IPv6 address"},
		{dsn: "clickhouse://bad host:9000/db", wantErr: `host "bad host"`},
		{dsn: "clickhouse://h/my-db", wantErr: `database name "my-db"`},
		{dsn: "clickhouse://h/db/extra", wantErr: `database name "db/extra"`},
		{dsn: "clickhouse://h/db`; DROP", wantErr: "database name"},
		{dsn: "clickhouse://h/db?timeout=1s", wantErr: `unknown parameter "timeout"`},
		{dsn: "clickhouse://h/db?password=hunter2", wantErr: `unknown parameter "password"`},
		{dsn: "clickhouse://h/db?secure=yes", wantErr: `secure="yes": want true or false`},
		{dsn: "clickhouse://h/db?skip_verify=1x", wantErr: `skip_verify="1x"`},
		{dsn: "clickhouse://h/db?secure=false&skip_verify=true", wantErr: "secure=false contradicts"},
		{dsn: "clickhouse://h/db?ca=", wantErr: "ca: want a file name"},
		{dsn: "clickhouse://h/db?password_file=", wantErr: "password_file: want a file name"},
		{dsn: "clickhouse://h/db?cert=c.pem", wantErr: "cert and key come together"},
		{dsn: "clickhouse://h/db?key=k.pem", wantErr: "cert and key come together"},
		{dsn: "clickhouse://h/db?ca=/nonexistent/ca.pem", wantErr: "ca: open /nonexistent/ca.pem"},
		{dsn: "clickhouse://h/db?password_file=/nonexistent/pw", wantErr: "password_file: open /nonexistent/pw"},
		{dsn: "clickhouse://u:hunter2@h/db?ca=/nonexistent/ca.pem", wantErr: "ca: open /nonexistent/ca.pem"},
		{dsn: "clickhouse://h/db?dial_timeout=10", wantErr: "positive duration"},
		{dsn: "clickhouse://h/db?compress=yes", wantErr: "true or false"},
		{dsn: "clickhouse://h/db?log_queries=2", wantErr: "log_queries=\"2\": want true or false"},
		{dsn: "clickhouse://h/db?max_open_conns=0", wantErr: "max_open_conns"},
		{dsn: "clickhouse://h/db#frag", wantErr: "fragment"},
		{dsn: "clickhouse://:hunter2@h/db", wantErr: "needs a user name"},
		{dsn: "clickhouse://u:hunter2%zz@h/db", wantErr: "password has an invalid"},
	}
	for _, tt := range tests {
		got, err := ParseDSN(tt.dsn)
		if tt.wantErr != "" {
			if err == nil {
				t.Errorf("ParseDSN(%q) = %+v, want error containing %q", tt.dsn, got, tt.wantErr)
				continue
			}
			if !strings.Contains(err.Error(), tt.wantErr) || !errors.Is(err, ErrInvalidDSN) {
				t.Errorf("ParseDSN(%q) error = %v, want ErrInvalidDSN containing %q", tt.dsn, err, tt.wantErr)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("ParseDSN(%q) error = %v: it shows the password", tt.dsn, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseDSN(%q) error: %v", tt.dsn, err)
			continue
		}
		// Fill the defaults the table leaves out.
		want := tt.want
		if want.DialTimeout == 0 {
			want.DialTimeout = 10 * time.Second
		}
		if want.ReadTimeout == 0 {
			want.ReadTimeout = 5 * time.Minute
		}
		if want.MaxOpenConns == 0 {
			want.MaxOpenConns = 8
		}
		if got != want {
			t.Errorf("ParseDSN(%q) = %+v, want %+v", tt.dsn, got, want)
		}
	}
}

func TestOptionsStringMasksPassword(t *testing.T) {
	o, err := ParseDSN("clickhouse://worker:hunter2@h:9000/db")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := o.String(), "clickhouse://worker:xxxxx@h:9000/db"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
}

// FuzzParseDSN checks ParseDSN never panics, and that its error text does
// not depend on the password: errors for the same DSN with another password
// are identical, so no part of a password can leak into a message.
func FuzzParseDSN(f *testing.F) {
	f.Setenv(EnvPassword, "")
	f.Add("u", "hunter2", "h/db?password_file=/nonexistent&ca=/nonexistent")
	f.Add("u", "hunter2", "h/db?secure=true&skip_verify=true&cert=x")
	f.Add("u", "hunter2", "127.0.0.1:9000/db")
	f.Add("", "", "h:bad/db?x=1")
	f.Add("u", "p@ss/w?rd#", "[::1]:0/db")
	f.Add("u", "%zz", "h/db?dial_timeout=x")
	f.Add("u", "pw", "h/db-1")
	f.Fuzz(func(t *testing.T, user, pass, rest string) {
		// Anything at all: no panic.
		_, _ = ParseDSN(user)
		_, _ = ParseDSN("clickhouse://" + rest)

		if pass == "" {
			// An empty password is no password: password_file and the
			// environment count, so errors may differ.
			pass = "p"
		}
		dsn := func(p string) string {
			return "clickhouse://" + url.UserPassword(user, p).String() + "@" + rest
		}
		o, err := ParseDSN(dsn(pass))
		_, errOther := ParseDSN(dsn("Other-Passw0rd"))
		if (err == nil) != (errOther == nil) {
			t.Fatalf("ParseDSN with password %q: error %v; with another password: %v", pass, err, errOther)
		}
		if err != nil {
			if got, want := err.Error(), errOther.Error(); got != want {
				t.Fatalf("ParseDSN error depends on the password:\n%s\nvs\n%s", got, want)
			}
			return
		}
		// An '@' in rest makes part of it userinfo; otherwise the password
		// must come back as it was.
		if user != "" && !strings.Contains(rest, "@") && o.Password != pass {
			t.Fatalf("ParseDSN(%q).Password = %q, want %q", dsn(pass), o.Password, pass)
		}
	})
}
