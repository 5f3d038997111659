package store

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ptrsweep/ptrsweep/internal/testenv/testpki"
)

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestTLSConfig(t *testing.T) {
	t.Setenv(EnvPassword, "")
	pki := testpki.New(t)
	q := url.QueryEscape
	o, err := ParseDSN("clickhouse://reader@127.0.0.1/db?ca=" + q(pki.CA) + "&cert=" + q(pki.ClientCert) + "&key=" + q(pki.ClientKey))
	if err != nil {
		t.Fatalf("ParseDSN: %v", err)
	}
	if !o.Secure || o.Addr != "127.0.0.1:9440" || o.CAFile != pki.CA || o.CertFile != pki.ClientCert || o.KeyFile != pki.ClientKey {
		t.Errorf("ParseDSN = %+v, want Secure, port 9440 and the three files", o)
	}
	cfg, err := o.TLSConfig()
	if err != nil {
		t.Fatalf("TLSConfig: %v", err)
	}
	if cfg.ServerName != "127.0.0.1" || cfg.InsecureSkipVerify || cfg.MinVersion != tls.VersionTLS12 {
		t.Errorf("TLSConfig: ServerName %q, InsecureSkipVerify %v, MinVersion %x; want 127.0.0.1, false, TLS 1.2",
			cfg.ServerName, cfg.InsecureSkipVerify, cfg.MinVersion)
	}
	// The pool holds the CA: the client certificate, signed by it, verifies.
	client, err := x509.ParseCertificate(pki.ClientDER)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.RootCAs == nil {
		t.Fatal("TLSConfig: RootCAs is nil, want the CA of ca=")
	}
	if _, err := client.Verify(x509.VerifyOptions{Roots: cfg.RootCAs, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		t.Errorf("a certificate signed by the test CA does not verify against RootCAs: %v", err)
	}
	if len(cfg.Certificates) != 1 || len(cfg.Certificates[0].Certificate) != 1 || string(cfg.Certificates[0].Certificate[0]) != string(pki.ClientDER) {
		t.Errorf("TLSConfig: Certificates = %d, want the client certificate of cert=", len(cfg.Certificates))
	}

	o, err = ParseDSN("clickhouse://[::1]:9441/db?secure=true")
	if err != nil {
		t.Fatalf("ParseDSN: %v", err)
	}
	if cfg, err = o.TLSConfig(); err != nil || cfg.ServerName != "::1" || cfg.RootCAs != nil || len(cfg.Certificates) != 0 {
		t.Errorf("secure=true: TLSConfig = %+v, %v; want ServerName ::1, system roots, no client certificate", cfg, err)
	}
	o, err = ParseDSN("clickhouse://h/db")
	if err != nil {
		t.Fatalf("ParseDSN: %v", err)
	}
	if cfg, err = o.TLSConfig(); cfg != nil || err != nil {
		t.Errorf("without TLS: TLSConfig = %v, %v; want nil, nil", cfg, err)
	}
}

func TestTLSFileErrors(t *testing.T) {
	t.Setenv(EnvPassword, "")
	pki := testpki.New(t)
	dir := t.TempDir()
	garbage := writeFile(t, dir, "garbage.pem", "hunter2 is no certificate\n")
	missing := filepath.Join(dir, "missing.pem")
	tests := []struct {
		name, params, wantErr string
	}{
		{"missing CA", "ca=" + missing, "ca: open " + missing},
		{"garbage CA", "ca=" + garbage, "ca file " + garbage + ": no PEM certificate"},
		{"missing cert", "cert=" + missing + "&key=" + pki.ClientKey, "cert: open " + missing},
		{"missing key", "cert=" + pki.ClientCert + "&key=" + missing, "key: open " + missing},
		{"garbage cert", "cert=" + garbage + "&key=" + pki.ClientKey, "client certificate " + garbage + " with key " + pki.ClientKey},
		{"key of another cert", "cert=" + pki.ClientCert + "&key=" + pki.ServerKey, "client certificate " + pki.ClientCert},
		{"a directory", "ca=" + dir, "ca: read " + dir},
	}
	for _, tt := range tests {
		_, err := ParseDSN("clickhouse://u:hunter2@h/db?" + tt.params)
		if err == nil || !errors.Is(err, ErrInvalidDSN) || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("%s: ParseDSN error = %v, want ErrInvalidDSN containing %q", tt.name, err, tt.wantErr)
			continue
		}
		if strings.Contains(err.Error(), "hunter2") {
			t.Errorf("%s: ParseDSN error %q shows the password or a file's content", tt.name, err)
		}
	}
}

func TestPasswordSources(t *testing.T) {
	dir := t.TempDir()
	file := writeFile(t, dir, "pw", "from-file\n")
	crlf := writeFile(t, dir, "pw-crlf", "crlf-file\r\n")
	spaces := writeFile(t, dir, "pw-spaces", " spaced \n")
	empty := writeFile(t, dir, "pw-empty", "\n")
	tests := []struct {
		name, dsn, env, want, wantErr string
	}{
		{"DSN wins", "clickhouse://u:in-dsn@h/db?password_file=" + file, "from-env", "in-dsn", ""},
		{"file before env", "clickhouse://u@h/db?password_file=" + file, "from-env", "from-file", ""},
		{"env", "clickhouse://u@h/db", "from-env", "from-env", ""},
		{"env with default user", "clickhouse://h/db", "from-env", "from-env", ""},
		{"none", "clickhouse://u@h/db", "", "", ""},
		{"CRLF trimmed", "clickhouse://u@h/db?password_file=" + crlf, "", "crlf-file", ""},
		{"spaces kept", "clickhouse://u@h/db?password_file=" + spaces, "", " spaced ", ""},
		{"empty file", "clickhouse://u@h/db?password_file=" + empty, "from-env", "", "password_file " + empty + " is empty"},
		{"DSN password ignores a missing file", "clickhouse://u:in-dsn@h/db?password_file=" + dir + "/nope", "", "in-dsn", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(EnvPassword, tt.env)
			o, err := ParseDSN(tt.dsn)
			if tt.wantErr != "" {
				if err == nil || !errors.Is(err, ErrInvalidDSN) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("ParseDSN(%q) error = %v, want ErrInvalidDSN containing %q", tt.dsn, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseDSN(%q): %v", tt.dsn, err)
			}
			if o.Password != tt.want {
				t.Errorf("ParseDSN(%q).Password = %q, want %q", tt.dsn, o.Password, tt.want)
			}
			if s := o.String(); tt.want != "" && strings.Contains(s, tt.want) {
				t.Errorf("String() = %q shows the password", s)
			}
		})
	}
}

// tlsServer accepts TLS connections on 127.0.0.1 and reports the outcome
// of each handshake; it then closes the connection. It stops at cleanup.
func tlsServer(t *testing.T, pki testpki.PKI, requireClientCert bool) (addr string, handshakes <-chan error) {
	t.Helper()
	cert, err := tls.LoadX509KeyPair(pki.ServerCert, pki.ServerKey)
	if err != nil {
		t.Fatal(err)
	}
	cfg := &tls.Config{Certificates: []tls.Certificate{cert}}
	if requireClientCert {
		pool := x509.NewCertPool()
		pool.AddCert(pki.CACert)
		cfg.ClientCAs, cfg.ClientAuth = pool, tls.RequireAndVerifyClientCert
	}
	l, err := tls.Listen("tcp", "127.0.0.1:0", cfg)
	if err != nil {
		t.Fatal(err)
	}
	ch := make(chan error, 64)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			err = c.(*tls.Conn).HandshakeContext(context.Background())
			c.Close()
			select {
			case ch <- err:
			default:
			}
		}
	}()
	t.Cleanup(func() {
		l.Close()
		wg.Wait()
	})
	return l.Addr().String(), ch
}

// TestConnectTLS checks that connect hands the TLS configuration to the
// driver: against a TLS server that hangs up after the handshake, the
// handshake succeeds with the CA (and the client certificate when the
// server asks for one), and fails with a clear error without the CA.
func TestConnectTLS(t *testing.T) {
	t.Setenv(EnvPassword, "")
	pki := testpki.New(t)
	q := url.QueryEscape
	tests := []struct {
		name          string
		requireClient bool
		params        string
		wantHandshake bool   // the server saw a completed handshake
		wantErr       string // in connect's error
	}{
		{"CA", false, "ca=" + q(pki.CA), true, "127.0.0.1"},
		{"client certificate", true, "ca=" + q(pki.CA) + "&cert=" + q(pki.ClientCert) + "&key=" + q(pki.ClientKey), true, "127.0.0.1"},
		{"no CA", false, "secure=true", false, "TLS failed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addr, handshakes := tlsServer(t, pki, tt.requireClient)
			o, err := ParseDSN("clickhouse://u:hunter2@" + addr + "/db?dial_timeout=5s&max_open_conns=1&" + tt.params)
			if err != nil {
				t.Fatalf("ParseDSN: %v", err)
			}
			conn, err := connect(context.Background(), o, o.Database)
			if err == nil {
				conn.Close()
				t.Fatal("connect to a server that hangs up succeeded")
			}
			if !strings.Contains(err.Error(), tt.wantErr) || strings.Contains(err.Error(), "hunter2") {
				t.Errorf("connect error = %v, want one containing %q, without the password", err, tt.wantErr)
			}
			select {
			case hs := <-handshakes:
				if (hs == nil) != tt.wantHandshake {
					t.Errorf("server handshake error = %v, want success %v", hs, tt.wantHandshake)
				}
			case <-time.After(10 * time.Second): // a guard against hangs, not a speed assertion
				t.Fatal("the server saw no connection")
			}
		})
	}
}
