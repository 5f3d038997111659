package queue

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/ptrsweep/ptrsweep/internal/testenv/testpki"
)

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// startServerWith starts an embedded server with configure applied.
func startServerWith(t *testing.T, configure func(*server.Options)) *Embedded {
	t.Helper()
	e, err := StartEmbeddedWith(t.TempDir(), configure)
	if err != nil {
		t.Fatalf("StartEmbeddedWith: %v", err)
	}
	t.Cleanup(e.Close)
	return e
}

// tryConnect connects with cfg and closes again; it returns Connect's error.
func tryConnect(t *testing.T, cfg Config) error {
	t.Helper()
	if cfg.Name == "" {
		cfg.Name = "ptrsweep-auth-test"
	}
	q, err := Connect(context.Background(), cfg)
	if err != nil {
		return err
	}
	if err := q.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	return nil
}

func TestConnectAuth(t *testing.T) {
	t.Parallel()
	const token = "t0ken-Sekrit-42"
	const password = "pa55-Sekrit-42"
	tokenSrv := startServerWith(t, func(o *server.Options) { o.Authorization = token })
	userSrv := startServerWith(t, func(o *server.Options) { o.Username, o.Password = "worker", password })
	host := strings.TrimPrefix(tokenSrv.URL(), "nats://")

	tests := []struct {
		name    string
		url     string
		auth    Auth
		wantErr string // "" means Connect succeeds
	}{
		{"right token", tokenSrv.URL(), Auth{Token: token}, ""},
		{"token in URL", "nats://" + token + "@" + host, Auth{}, ""},
		{"wrong token", tokenSrv.URL(), Auth{Token: token + "-wrong"}, "check the NATS credentials"},
		{"missing token", tokenSrv.URL(), Auth{}, "check the NATS credentials"},
		{"right password", userSrv.URL(), Auth{User: "worker", Password: password}, ""},
		{"wrong password", userSrv.URL(), Auth{User: "worker", Password: password + "x"}, "check the NATS credentials"},
		{"password for a token server", tokenSrv.URL(), Auth{User: "worker", Password: password}, "Authorization Violation"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tryConnect(t, Config{URL: tt.url, Auth: tt.auth})
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Connect: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Connect succeeded, want an error containing %q", tt.wantErr)
			}
			if !errors.Is(err, ErrUnreachable) || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Connect error = %v, want ErrUnreachable containing %q", err, tt.wantErr)
			}
			for _, secret := range []string{token, password} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("Connect error %q shows a secret", err)
				}
			}
		})
	}
}

func TestConnectTLS(t *testing.T) {
	t.Parallel()
	pki := testpki.New(t)
	tlsServer := func(verify bool) *Embedded {
		return startServerWith(t, func(o *server.Options) {
			tc, err := server.GenTLSConfig(&server.TLSConfigOpts{CertFile: pki.ServerCert, KeyFile: pki.ServerKey, CaFile: pki.CA, Verify: verify})
			if err != nil {
				t.Fatalf("GenTLSConfig: %v", err)
			}
			o.TLS, o.TLSVerify, o.TLSConfig, o.TLSTimeout = true, verify, tc, 5
		})
	}
	plain := tlsServer(false)
	mutual := tlsServer(true)
	if !strings.HasPrefix(plain.URL(), "tls://") {
		t.Fatalf("URL() = %q, want tls://", plain.URL())
	}
	natsURL := func(e *Embedded) string { return "nats://" + strings.TrimPrefix(e.URL(), "tls://") }

	tests := []struct {
		name    string
		url     string
		auth    Auth
		wantErr string
	}{
		{"CA", plain.URL(), Auth{CAFile: pki.CA}, ""},
		{"CA with nats:// URL", natsURL(plain), Auth{CAFile: pki.CA}, ""},
		{"no CA", plain.URL(), Auth{}, "--nats-ca"},
		{"no CA, nats:// URL", natsURL(plain), Auth{}, "--nats-ca"},
		{"skip verify", plain.URL(), Auth{InsecureSkipVerify: true}, ""},
		{"client cert", mutual.URL(), Auth{CAFile: pki.CA, CertFile: pki.ClientCert, KeyFile: pki.ClientKey}, ""},
		{"no client cert", mutual.URL(), Auth{CAFile: pki.CA}, "TLS"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tryConnect(t, Config{URL: tt.url, Auth: tt.auth})
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Connect: %v", err)
				}
				return
			}
			if err == nil || !errors.Is(err, ErrUnreachable) || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Connect error = %v, want ErrUnreachable containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestAuthValidate(t *testing.T) {
	t.Parallel()
	pki := testpki.New(t)
	garbage := writeFile(t, "garbage.pem", "not a certificate\n")
	seed := writeFile(t, "user.nk", "SUnotAseed-Sekrit\n")
	missing := filepath.Join(t.TempDir(), "missing")
	tests := []struct {
		name    string
		auth    Auth
		wantErr string // "" means valid
	}{
		{"empty", Auth{}, ""},
		{"user", Auth{User: "u", Password: "p"}, ""},
		{"token", Auth{Token: "t"}, ""},
		{"tls", Auth{CAFile: pki.CA, CertFile: pki.ClientCert, KeyFile: pki.ClientKey}, ""},
		{"creds file", Auth{CredsFile: garbage}, ""}, // parsed by nats at connect time
		{"user and token", Auth{User: "u", Token: "Sekrit"}, "exclude each other"},
		{"token and creds", Auth{Token: "Sekrit", CredsFile: garbage}, "exclude each other"},
		{"password without user", Auth{Password: "Sekrit"}, "needs a user name"},
		{"missing creds", Auth{CredsFile: missing}, "nats credentials file: open " + missing},
		{"missing nkey", Auth{NKeyFile: missing}, "nats nkey file: open " + missing},
		{"bad nkey", Auth{NKeyFile: seed}, "nats nkey file " + seed},
		{"missing CA", Auth{CAFile: missing}, "nats CA file: open " + missing},
		{"garbage CA", Auth{CAFile: garbage}, "nats CA file " + garbage + ": no PEM certificate"},
		{"cert without key", Auth{CertFile: pki.ClientCert}, "needs its key"},
		{"key without cert", Auth{KeyFile: pki.ClientKey}, "needs its key"},
		{"garbage cert", Auth{CertFile: garbage, KeyFile: pki.ClientKey}, "nats client certificate " + garbage},
		{"key of another cert", Auth{CertFile: pki.ClientCert, KeyFile: pki.ServerKey}, "nats client certificate"},
	}
	for _, tt := range tests {
		err := tt.auth.Validate()
		if tt.wantErr == "" {
			if err != nil {
				t.Errorf("%s: Validate() = %v, want nil", tt.name, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("%s: Validate() = %v, want an error containing %q", tt.name, err, tt.wantErr)
			continue
		}
		if strings.Contains(err.Error(), "Sekrit") {
			t.Errorf("%s: Validate() = %v: it shows a secret", tt.name, err)
		}
	}
}

// TestConnectRedactsAuth checks that Connect errors scrub the password and
// token of Auth, even where a cause quotes them.
func TestConnectRedactsAuth(t *testing.T) {
	t.Parallel()
	cfg := Config{URL: "nats://u:urlpass@127.0.0.1:1", Auth: Auth{Password: "authpass", Token: "authtoken"}}
	err := redactErr(errors.New("bad urlpass authpass authtoken ab"), cfg.secrets())
	if got, want := err.Error(), "bad redacted redacted redacted ab"; got != want {
		t.Errorf("redactErr = %q, want %q", got, want)
	}
	_, err = Connect(context.Background(), Config{URL: "nats://127.0.0.1:1", Auth: Auth{User: "u", Token: "Sekrit-token"}})
	if err == nil || strings.Contains(err.Error(), "Sekrit") {
		t.Errorf("Connect with conflicting auth: error %v, want one without the token", err)
	}
}
