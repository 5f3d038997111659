package queue

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/nats-io/nats.go"
)

// minSecretLen is the shortest credential scrubbed from error texts: a
// shorter one would garble every message and protects nothing.
const minSecretLen = 3

// Auth holds the credentials and TLS settings of the NATS connection. At
// most one way of authenticating may be set: User (+ Password), Token,
// CredsFile or NKeyFile. Credentials in Config.URL work as well. Password
// and Token never appear in errors or logs; files are named in errors, their
// contents never. The zero value connects without credentials, and with TLS
// only when the URL is tls:// or the server requires it.
type Auth struct {
	// User and Password authenticate with a user name and password.
	User, Password string
	// Token authenticates with a token.
	Token string
	// CredsFile is a decentralised-auth credentials file (user JWT and
	// NKey seed, as written by nsc).
	CredsFile string
	// NKeyFile is a file holding a user NKey seed (SU...).
	NKeyFile string
	// CAFile is a PEM file of the CAs that sign the server's certificate;
	// empty means the system roots.
	CAFile string
	// CertFile and KeyFile are the client certificate and its key (PEM),
	// for servers that verify clients. Both or neither.
	CertFile, KeyFile string
	// InsecureSkipVerify turns TLS on without checking the server's
	// certificate. For tests only.
	InsecureSkipVerify bool
}

// Validate checks that at most one way of authenticating is set and that
// every file is readable and well-formed, without connecting. Connect does
// the same; callers use Validate to report a bad setting before they start.
func (a Auth) Validate() error {
	_, err := a.options()
	return err
}

// TLS reports whether a asks for TLS.
func (a Auth) TLS() bool {
	return a.CAFile != "" || a.CertFile != "" || a.KeyFile != "" || a.InsecureSkipVerify
}

// options returns the nats options for a.
func (a Auth) options() ([]nats.Option, error) {
	var methods []string
	if a.User != "" {
		methods = append(methods, "user/password")
	}
	if a.Token != "" {
		methods = append(methods, "token")
	}
	if a.CredsFile != "" {
		methods = append(methods, "credentials file")
	}
	if a.NKeyFile != "" {
		methods = append(methods, "nkey file")
	}
	if len(methods) > 1 {
		return nil, fmt.Errorf("nats auth: %s exclude each other: give one", strings.Join(methods, ", "))
	}
	if a.Password != "" && a.User == "" {
		return nil, errors.New("nats auth: a password needs a user name")
	}
	var opts []nats.Option
	switch {
	case a.User != "":
		opts = append(opts, nats.UserInfo(a.User, a.Password))
	case a.Token != "":
		opts = append(opts, nats.Token(a.Token))
	case a.CredsFile != "":
		// nats reads the file at every (re)connect; read it once now so
		// a missing file is an error naming it, not an auth failure.
		if err := readable(a.CredsFile); err != nil {
			return nil, fmt.Errorf("nats credentials file: %w", err)
		}
		opts = append(opts, nats.UserCredentials(a.CredsFile))
	case a.NKeyFile != "":
		if err := readable(a.NKeyFile); err != nil {
			return nil, fmt.Errorf("nats nkey file: %w", err)
		}
		o, err := nats.NkeyOptionFromSeed(a.NKeyFile)
		if err != nil {
			// The nkeys errors say what is wrong, never the seed.
			return nil, fmt.Errorf("nats nkey file %s: %w", a.NKeyFile, unwrapNats(err))
		}
		opts = append(opts, o)
	}
	if a.TLS() {
		cfg, err := a.tlsConfig()
		if err != nil {
			return nil, err
		}
		opts = append(opts, nats.Secure(cfg))
	}
	return opts, nil
}

// tlsConfig builds the client TLS configuration. The server name is left
// empty: nats.go sets it to the host of the URL it connects to.
func (a Auth) tlsConfig() (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: a.InsecureSkipVerify}
	if a.CAFile != "" {
		pem, err := os.ReadFile(a.CAFile)
		if err != nil {
			return nil, fmt.Errorf("nats CA file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("nats CA file %s: no PEM certificate in it", a.CAFile)
		}
		cfg.RootCAs = pool
	}
	if (a.CertFile == "") != (a.KeyFile == "") {
		return nil, errors.New("nats TLS: a client certificate needs its key file and a key needs its certificate file")
	}
	if a.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(a.CertFile, a.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("nats client certificate %s with key %s: %w", a.CertFile, a.KeyFile, err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return cfg, nil
}

// readable reports an error naming path when it cannot be read.
func readable(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err // *fs.PathError: "open PATH: reason"
	}
	return f.Close()
}

// unwrapNats drops nats.go's "nats: " wrapping of file errors.
func unwrapNats(err error) error {
	if u := errors.Unwrap(err); u != nil {
		return u
	}
	return err
}

// secrets returns every credential of c, to be scrubbed from error texts:
// those in the URL and the password and token of c.Auth.
func (c Config) secrets() []string {
	out := urlSecrets(c.URL)
	for _, s := range []string{c.Auth.Password, c.Auth.Token} {
		if len(s) >= minSecretLen {
			out = append(out, s)
		}
	}
	// Longest first: a secret inside another must not leave a remnant.
	slices.SortFunc(out, func(a, b string) int { return len(b) - len(a) })
	return out
}

// hint says what to do about a failed first connection.
func hint(err error) string {
	var verr *tls.CertificateVerificationError
	var uerr x509.UnknownAuthorityError
	var herr x509.HostnameError
	switch {
	case errors.Is(err, nats.ErrAuthorization), errors.Is(err, nats.ErrAuthExpired),
		errors.Is(err, nats.ErrAuthRevoked), errors.Is(err, nats.ErrAccountAuthExpired),
		strings.Contains(err.Error(), "uthorization violation"):
		return "check the NATS credentials (user and password, token, credentials or nkey file)"
	case errors.As(err, &verr), errors.As(err, &uerr), errors.As(err, &herr):
		return "the server's certificate is not trusted: give the CA that signed it (--nats-ca)"
	case errors.Is(err, nats.ErrSecureConnRequired):
		return "the server requires TLS: use a tls:// URL or give its CA (--nats-ca)"
	case errors.Is(err, nats.ErrSecureConnWanted):
		return "TLS was asked for but the server does not offer it"
	case strings.Contains(err.Error(), "tls: "), strings.Contains(err.Error(), "x509: "):
		return "the TLS handshake failed: check --nats-ca, --nats-cert and --nats-key"
	}
	return "start nats-server -js, or omit --nats to use the embedded server"
}
