package cli

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ptrsweep/ptrsweep/internal/queue"
	"github.com/ptrsweep/ptrsweep/internal/resolve"
	"github.com/ptrsweep/ptrsweep/internal/store"
	"github.com/ptrsweep/ptrsweep/internal/testenv/testpki"
	"reflect"
)

// allEnv lists every variable the package reads; each test clears them.
var allEnv = []string{EnvNATS, EnvClickHouse, EnvNATSCreds, EnvNATSNKey, EnvNATSUser, EnvNATSPassword,
	EnvNATSPasswordFile, EnvNATSToken, EnvNATSTokenFile, EnvNATSCA, EnvNATSCert, EnvNATSKey, EnvClickHousePassword}

func setEnv(t *testing.T, env map[string]string) {
	t.Helper()
	for _, k := range allEnv {
		t.Setenv(k, env[k])
	}
}

// parse registers both flag groups on a fresh flag set and parses args.
func parse(t *testing.T, args ...string) (*NATS, *ClickHouse) {
	t.Helper()
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	var n NATS
	var c ClickHouse
	n.Register(fs, "NATS URL")
	c.Register(fs)
	if err := Parse(fs, args); err != nil {
		t.Fatalf("parse %q: %v", args, err)
	}
	return &n, &c
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestNATSConfig(t *testing.T) {
	dir := t.TempDir()
	pwFile := writeFile(t, dir, "pw", "file-pass\n")
	pwFile2 := writeFile(t, dir, "pw2", "env-file-pass\n")
	tokFile := writeFile(t, dir, "tok", "file-token\r\n")
	creds := writeFile(t, dir, "user.creds", "creds\n")
	pki := testpki.New(t)
	ca, cert, key := pki.CA, pki.ClientCert, pki.ClientKey
	const url = "nats://127.0.0.1:4222"
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want queue.Config
	}{
		{"nothing", nil, nil, queue.Config{}},
		{"url from env", map[string]string{EnvNATS: url}, nil, queue.Config{URL: url}},
		{"flag beats env", map[string]string{EnvNATS: "nats://10.0.0.1:4222"}, []string{"--nats", url}, queue.Config{URL: url}},
		{"auth env ignored without url", map[string]string{EnvNATSUser: "u", EnvNATSPassword: "env-pass"}, nil, queue.Config{}},
		{"user and password from env", map[string]string{EnvNATS: url, EnvNATSUser: "u", EnvNATSPassword: "env-pass"}, nil,
			queue.Config{URL: url, Auth: queue.Auth{User: "u", Password: "env-pass"}}},
		{"password file beats password env", map[string]string{EnvNATS: url, EnvNATSUser: "u", EnvNATSPassword: "env-pass"},
			[]string{"--nats-password-file", pwFile}, queue.Config{URL: url, Auth: queue.Auth{User: "u", Password: "file-pass"}}},
		{"password file from env", map[string]string{EnvNATS: url, EnvNATSPasswordFile: pwFile2}, []string{"--nats-user", "flag-user"},
			queue.Config{URL: url, Auth: queue.Auth{User: "flag-user", Password: "env-file-pass"}}},
		{"password file flag beats its env", map[string]string{EnvNATS: url, EnvNATSUser: "u", EnvNATSPasswordFile: pwFile2},
			[]string{"--nats-password-file", pwFile}, queue.Config{URL: url, Auth: queue.Auth{User: "u", Password: "file-pass"}}},
		{"token from env", map[string]string{EnvNATS: url, EnvNATSToken: "env-token"}, nil,
			queue.Config{URL: url, Auth: queue.Auth{Token: "env-token"}}},
		{"token file beats token env", map[string]string{EnvNATS: url, EnvNATSToken: "env-token"}, []string{"--nats-token-file", tokFile},
			queue.Config{URL: url, Auth: queue.Auth{Token: "file-token"}}},
		{"creds from env", map[string]string{EnvNATS: url, EnvNATSCreds: creds}, nil,
			queue.Config{URL: url, Auth: queue.Auth{CredsFile: creds}}},
		{"tls from env and flags", map[string]string{EnvNATS: url, EnvNATSCA: ca, EnvNATSCert: "/nonexistent"},
			[]string{"--nats-cert", cert, "--nats-key", key}, queue.Config{URL: url, Auth: queue.Auth{CAFile: ca, CertFile: cert, KeyFile: key}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			setEnv(t, tt.env)
			n, _ := parse(t, tt.args...)
			got, err := n.Config("test", time.Minute, 3)
			if err != nil {
				t.Fatalf("Config: %v", err)
			}
			want := tt.want
			want.Name, want.AckWait, want.MaxDeliver = "test", time.Minute, 3
			if got != want {
				t.Errorf("Config() = %+v, want %+v", got, want)
			}
			if n.URL() != want.URL {
				t.Errorf("URL() = %q, want %q", n.URL(), want.URL)
			}
		})
	}
}

func TestNATSConfigErrors(t *testing.T) {
	dir := t.TempDir()
	empty := writeFile(t, dir, "empty", "\n")
	garbage := writeFile(t, dir, "garbage.pem", "Sekrit-in-a-file\n")
	missing := filepath.Join(dir, "missing")
	const url = "nats://Sekrit-user:Sekrit-pass@127.0.0.1:4222"
	tests := []struct {
		name    string
		env     map[string]string
		args    []string
		wantErr string
	}{
		{"password without user", map[string]string{EnvNATS: url, EnvNATSPassword: "Sekrit-1"}, nil, "needs a user name"},
		{"user and token", map[string]string{EnvNATS: url, EnvNATSUser: "u", EnvNATSToken: "Sekrit-2"}, nil, "exclude each other"},
		{"token and creds", map[string]string{EnvNATS: url, EnvNATSToken: "Sekrit-3"}, []string{"--nats-creds", garbage},
			"give one (from --nats-creds, " + EnvNATSToken + ")"},
		{"missing password file", map[string]string{EnvNATS: url, EnvNATSUser: "u"}, []string{"--nats-password-file", missing},
			"--nats-password-file: open " + missing},
		{"missing password file from env", map[string]string{EnvNATS: url, EnvNATSUser: "u", EnvNATSPasswordFile: missing}, nil,
			EnvNATSPasswordFile + ": open " + missing},
		{"empty token file", map[string]string{EnvNATS: url}, []string{"--nats-token-file", empty}, "--nats-token-file: " + empty + " is empty"},
		{"missing creds", map[string]string{EnvNATS: url}, []string{"--nats-creds", missing}, "open " + missing},
		{"garbage CA", map[string]string{EnvNATS: url, EnvNATSCA: garbage}, nil, "nats CA file " + garbage + ": no PEM certificate in it (from " + EnvNATSCA + ")"},
		{"cert without key", map[string]string{EnvNATS: url}, []string{"--nats-cert", garbage}, "needs its key"},
		{"auth flag without url", nil, []string{"--nats-ca", garbage}, "--nats-ca needs --nats"},
		{"password flag without url", map[string]string{EnvNATSPassword: "Sekrit-4"}, []string{"--nats-password-file", garbage}, "--nats-password-file needs --nats"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			setEnv(t, tt.env)
			n, _ := parse(t, tt.args...)
			_, err := n.Config("test", time.Minute, 3)
			if err == nil || ExitCode(err) != 2 || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Config() error = %v, want a usage error containing %q", err, tt.wantErr)
			}
			if strings.Contains(err.Error(), "Sekrit") {
				t.Errorf("Config() error %q shows a secret", err)
			}
		})
	}
	setEnv(t, nil)
	n, _ := parse(t)
	if _, err := n.Config("test", -time.Second, 3); ExitCode(err) != 2 {
		t.Errorf("Config with a negative ack wait: error %v, want a usage error", err)
	}
}

func TestClickHouseDSN(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing")
	const good = "clickhouse://reader@10.0.0.9:9000/db"
	tests := []struct {
		name    string
		env     map[string]string
		args    []string
		want    string
		wantErr string
	}{
		{"default", nil, nil, DefaultClickHouse, ""},
		{"env", map[string]string{EnvClickHouse: good}, nil, good, ""},
		{"flag beats env", map[string]string{EnvClickHouse: "clickhouse://other/db"}, []string{"--clickhouse", good}, good, ""},
		{"bad flag", nil, []string{"--clickhouse", "clickhouse://u:Sekrit@h:0/db"}, "", `--clickhouse: invalid ClickHouse DSN: port "0"`},
		{"bad env", map[string]string{EnvClickHouse: "http://u:Sekrit@h/db"}, nil, "", EnvClickHouse + ": invalid ClickHouse DSN: must start"},
		{"bad password file", nil, []string{"--clickhouse", "clickhouse://u@h/db?password_file=" + missing}, "", "--clickhouse: invalid ClickHouse DSN: password_file: open " + missing},
		{"bad CA", map[string]string{EnvClickHousePassword: "Sekrit"}, []string{"--clickhouse", "clickhouse://u@h/db?ca=" + missing}, "", "ca: open " + missing},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			setEnv(t, tt.env)
			_, c := parse(t, tt.args...)
			got, err := c.DSN()
			if tt.wantErr != "" {
				if err == nil || ExitCode(err) != 2 || !errors.Is(err, store.ErrInvalidDSN) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("DSN() error = %v, want a usage error wrapping ErrInvalidDSN containing %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "Sekrit") {
					t.Errorf("DSN() error %q shows the password", err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("DSN() = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

// TestNoSecretFlags checks that no flag takes a password or token itself:
// process titles are visible to every user.
func TestNoSecretFlags(t *testing.T) {
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	var n NATS
	var c ClickHouse
	n.Register(fs, "NATS URL")
	c.Register(fs)
	count := 0
	fs.VisitAll(func(f *flag.Flag) {
		count++
		if (strings.Contains(f.Name, "password") || strings.Contains(f.Name, "token") || strings.Contains(f.Name, "secret")) &&
			!strings.HasSuffix(f.Name, "-file") {
			t.Errorf("flag --%s takes a secret on the command line; read it from a file or the environment", f.Name)
		}
		if !strings.Contains(f.Usage, "(env PTRSWEEP_") {
			t.Errorf("flag --%s: usage %q does not name its environment variable", f.Name, f.Usage)
		}
	})
	if count != 10 {
		t.Errorf("registered %d flags, want 10", count)
	}
}

// TestNoSecretInFlagValues checks that a password or token inside the
// --clickhouse or --nats value is refused (process titles are readable by
// every user), while the same values in the environment are taken.
func TestNoSecretInFlagValues(t *testing.T) {
	const dsn, nurl = "clickhouse://writer:Sekrit@127.0.0.1:9000/db", "nats://user:Sekrit@127.0.0.1:4222"
	n, c := parse(t, "--clickhouse", dsn, "--nats", nurl)
	if _, err := c.DSN(); err == nil || ExitCode(err) != 2 || !strings.Contains(err.Error(), EnvClickHouse) || strings.Contains(err.Error(), "Sekrit") {
		t.Errorf("--clickhouse with a password: %v, want a usage error pointing at %s without the password", err, EnvClickHouse)
	}
	if _, err := n.Config("t", 0, 0); err == nil || ExitCode(err) != 2 || !strings.Contains(err.Error(), EnvNATS) || strings.Contains(err.Error(), "Sekrit") {
		t.Errorf("--nats with a password: %v, want a usage error pointing at %s without the password", err, EnvNATS)
	}
	n, _ = parse(t, "--nats", "nats://Sekrit@127.0.0.1:4222")
	if _, err := n.Config("t", 0, 0); err == nil || strings.Contains(err.Error(), "Sekrit") {
		t.Errorf("--nats with a token: %v, want a usage error without the token", err)
	}
	setEnv(t, map[string]string{EnvClickHouse: dsn, EnvNATS: nurl})
	n, c = parse(t)
	if got, err := c.DSN(); err != nil || got != dsn {
		t.Errorf("DSN from %s = %q, %v; want it taken", EnvClickHouse, got, err)
	}
	if cfg, err := n.Config("t", 0, 0); err != nil || cfg.URL != nurl {
		t.Errorf("URL from %s = %q, %v; want it taken", EnvNATS, cfg.URL, err)
	}
	if _, c = parse(t, "--clickhouse", "clickhouse://writer@127.0.0.1:9000/db"); c != nil {
		if _, err := c.DSN(); err != nil {
			t.Errorf("--clickhouse with a user and no password: %v, want it taken", err)
		}
	}
}

func TestResolverFlags(t *testing.T) {
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	var r Resolver
	r.Register(fs, "the")
	if err := fs.Parse([]string{"--resolvers", "127.0.0.1:5353,127.0.0.2", "--qps", "500", "--resolver-qps", "300",
		"--zone-qps", "50", "--retries", "0", "--timeout", "2s", "--concurrency", "64"}); err != nil {
		t.Fatal(err)
	}
	got, err := r.Config()
	if err != nil {
		t.Fatal(err)
	}
	want := resolve.Config{Servers: []string{"127.0.0.1:5353", "127.0.0.2:53"}, QPS: 500, ServerQPS: 300, ZoneQPS: 50,
		Timeout: 2 * time.Second, Retries: -1, Concurrency: 64}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Config() = %+v, want %+v", got, want)
	}
	for _, args := range [][]string{{"--zone-qps", "-1"}, {"--timeout", "0s"}, {"--resolvers", "nonsense"}} {
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		var r Resolver
		r.Register(fs, "the")
		if err := fs.Parse(append([]string{"--resolvers", "127.0.0.1"}, args...)); err != nil {
			t.Fatal(err)
		}
		if _, err := r.Config(); ExitCode(err) != 2 {
			t.Errorf("Config() with %q = %v, want a usage error", args, err)
		}
	}
}
