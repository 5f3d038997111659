// Connection flags: where NATS and ClickHouse are, and how to authenticate to them.
//
// Every flag has an environment variable that stands in for it; a flag given
// on the command line wins over its variable, which wins over the default.
// No flag takes a secret value: process titles are visible to every user of
// a machine, so passwords and tokens come from files (--nats-password-file,
// --nats-token-file, password_file= in the DSN) or from the environment
// (PTRSWEEP_NATS_PASSWORD, PTRSWEEP_NATS_TOKEN, PTRSWEEP_CLICKHOUSE_PASSWORD).
// Credentials inside a URL or DSN still work; put those in the environment
// (PTRSWEEP_NATS, PTRSWEEP_CLICKHOUSE), not on the command line. Errors are
// usage errors (UsageError) that name the flag or variable and never
// contain a secret.

package cli

import (
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/ptrsweep/ptrsweep/internal/queue"
	"github.com/ptrsweep/ptrsweep/internal/store"
)

// Environment variables that stand in for the connection and resolver flags.
const (
	EnvNATS             = "PTRSWEEP_NATS"
	EnvClickHouse       = "PTRSWEEP_CLICKHOUSE"
	EnvResolvers        = "PTRSWEEP_RESOLVERS"
	EnvNATSCreds        = "PTRSWEEP_NATS_CREDS"
	EnvNATSNKey         = "PTRSWEEP_NATS_NKEY"
	EnvNATSUser         = "PTRSWEEP_NATS_USER"
	EnvNATSPassword     = "PTRSWEEP_NATS_PASSWORD"
	EnvNATSPasswordFile = "PTRSWEEP_NATS_PASSWORD_FILE"
	EnvNATSToken        = "PTRSWEEP_NATS_TOKEN"
	EnvNATSTokenFile    = "PTRSWEEP_NATS_TOKEN_FILE"
	EnvNATSCA           = "PTRSWEEP_NATS_CA"
	EnvNATSCert         = "PTRSWEEP_NATS_CERT"
	EnvNATSKey          = "PTRSWEEP_NATS_KEY"
	// EnvClickHousePassword supplies the ClickHouse password when the DSN
	// has none and names no password_file.
	EnvClickHousePassword = store.EnvPassword
	// DefaultClickHouse is the DSN used when neither flag nor environment gives one.
	DefaultClickHouse = "clickhouse://127.0.0.1:9000/ptrsweep"
)

// maxSecretBytes bounds a password or token file.
const maxSecretBytes = 64 << 10

// setting is a string flag that falls back to an environment variable and
// then to a default. It remembers whether the flag was given.
type setting struct {
	name, env, def string
	val            string
	set            bool
}

func (s *setting) String() string {
	if s == nil {
		return ""
	}
	return s.val
}

func (s *setting) Set(v string) error {
	s.val, s.set = v, true
	return nil
}

// register adds s to fs as --name with the usage text and its variable.
func (s *setting) register(fs *flag.FlagSet, name, env, def, usage string) {
	s.name, s.env, s.def, s.val = name, env, def, def
	fs.Var(s, name, usage+" (env "+env+")")
}

// get returns the value and where it came from: "--flag", the variable's
// name, or "" for the default.
func (s *setting) get() (val, source string) {
	if s.set {
		return s.val, "--" + s.name
	}
	if v, ok := os.LookupEnv(s.env); ok && v != "" {
		return v, s.env
	}
	return s.def, ""
}

// NATS holds the NATS connection flags. Register it on a flag set, parse,
// then call Config. It is not safe for concurrent use.
type NATS struct {
	url, creds, nkey, user, passwordFile, tokenFile, ca, cert, key setting
}

// Register adds --nats (described by help) and the NATS authentication and
// TLS flags to fs.
func (n *NATS) Register(fs *flag.FlagSet, help string) {
	n.url.register(fs, "nats", EnvNATS, "", help+"; may hold user:password@, better kept in the environment")
	n.creds.register(fs, "nats-creds", EnvNATSCreds, "", "NATS credentials file (user JWT and NKey seed)")
	n.nkey.register(fs, "nats-nkey", EnvNATSNKey, "", "NATS NKey seed file")
	n.user.register(fs, "nats-user", EnvNATSUser, "", "NATS user name; the password comes from --nats-password-file or "+EnvNATSPassword)
	n.passwordFile.register(fs, "nats-password-file", EnvNATSPasswordFile, "", "file holding the NATS password")
	n.tokenFile.register(fs, "nats-token-file", EnvNATSTokenFile, "", "file holding the NATS token (or the token itself in "+EnvNATSToken+")")
	n.ca.register(fs, "nats-ca", EnvNATSCA, "", "PEM file of the CAs that sign the NATS server's certificate (turns on TLS)")
	n.cert.register(fs, "nats-cert", EnvNATSCert, "", "PEM client certificate for NATS TLS (with --nats-key)")
	n.key.register(fs, "nats-key", EnvNATSKey, "", "PEM key of --nats-cert")
}

// URL returns the NATS URL from --nats or PTRSWEEP_NATS; "" when neither
// is given (commands then use an embedded server or refuse).
func (n *NATS) URL() string {
	v, _ := n.url.get()
	return v
}

// Config returns the queue configuration: the URL, the client name, the
// consumer settings and the credentials and TLS settings, with password and
// token read from their files or variables. Every file is checked. Errors are
// usage errors naming the flag or variable; they never hold a secret.
// Without a URL, authentication flags given on the command line are an
// error (variables are ignored: they may be set for other commands).
func (n *NATS) Config(name string, ackWait time.Duration, maxDeliver int) (queue.Config, error) {
	if ackWait < 0 || maxDeliver < 0 {
		return queue.Config{}, Usagef("--ack-wait and --max-deliver must not be negative")
	}
	cfg := queue.Config{URL: n.URL(), Name: name, AckWait: ackWait, MaxDeliver: maxDeliver}
	if n.url.set {
		if u, err := url.Parse(cfg.URL); err == nil && u.User != nil {
			return queue.Config{}, Usagef("--nats: the URL holds credentials, which every user of this machine can read in the process list; "+
				"set it in %s instead, or use --nats-user with --nats-password-file, --nats-token-file or --nats-creds", EnvNATS)
		}
	}
	if cfg.URL == "" {
		for _, s := range []*setting{&n.creds, &n.nkey, &n.user, &n.passwordFile, &n.tokenFile, &n.ca, &n.cert, &n.key} {
			if s.set {
				return queue.Config{}, Usagef("--%s needs --nats (or %s): the embedded server takes no credentials", s.name, EnvNATS)
			}
		}
		return cfg, nil
	}
	a := &cfg.Auth
	a.CredsFile, _ = n.creds.get()
	a.NKeyFile, _ = n.nkey.get()
	a.User, _ = n.user.get()
	a.CAFile, _ = n.ca.get()
	a.CertFile, _ = n.cert.get()
	a.KeyFile, _ = n.key.get()
	// from lists where the settings came from, for the error message.
	var from []string
	for _, s := range []*setting{&n.creds, &n.nkey, &n.user, &n.ca, &n.cert, &n.key} {
		if v, src := s.get(); v != "" && src != "" {
			from = append(from, src)
		}
	}
	var err error
	var src string
	if a.Password, src, err = secret(&n.passwordFile, EnvNATSPassword); err != nil {
		return queue.Config{}, err
	} else if src != "" {
		from = append(from, src)
	}
	if a.Token, src, err = secret(&n.tokenFile, EnvNATSToken); err != nil {
		return queue.Config{}, err
	} else if src != "" {
		from = append(from, src)
	}
	if err := a.Validate(); err != nil {
		// Auth errors name files, never secrets.
		if len(from) > 0 {
			return queue.Config{}, UsageError{Err: fmt.Errorf("%w (from %s)", err, strings.Join(from, ", "))}
		}
		return queue.Config{}, UsageError{Err: err}
	}
	return cfg, nil
}

// secret returns the content of the file named by file (flag or variable),
// else the value of the variable env, else "", and where it came from.
func secret(file *setting, env string) (val, source string, err error) {
	path, src := file.get()
	if path == "" {
		if v := os.Getenv(env); v != "" {
			return v, env, nil
		}
		return "", "", nil
	}
	f, err := os.Open(path)
	if err != nil {
		return "", "", Usagef("%s: %w", src, err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxSecretBytes+1))
	if err != nil {
		return "", "", Usagef("%s: read %s: %w", src, path, err)
	}
	if len(b) > maxSecretBytes {
		return "", "", Usagef("%s: %s is larger than %d bytes", src, path, maxSecretBytes)
	}
	s := strings.TrimSuffix(strings.TrimSuffix(string(b), "\n"), "\r")
	if s == "" {
		return "", "", Usagef("%s: %s is empty", src, path)
	}
	return s, src, nil
}

// ClickHouse holds the --clickhouse flag. Register it on a flag set, parse,
// then call DSN. It is not safe for concurrent use.
type ClickHouse struct {
	dsn setting
}

// Register adds --clickhouse to fs (env PTRSWEEP_CLICKHOUSE, default
// DefaultClickHouse).
func (c *ClickHouse) Register(fs *flag.FlagSet) {
	c.dsn.register(fs, "clickhouse", EnvClickHouse, DefaultClickHouse,
		"ClickHouse DSN clickhouse://[user[:password]@]host[:port]/db[?secure=true&ca=F&cert=F&key=F&password_file=F]; password also from "+EnvClickHousePassword)
}

// DSN returns the DSN from --clickhouse, PTRSWEEP_CLICKHOUSE or the
// default, after checking it with store.ParseDSN (which also reads its
// password and TLS files). A bad DSN is a usage error naming the flag or
// variable, without the password.
func (c *ClickHouse) DSN() (string, error) {
	v, src := c.dsn.get()
	if src == "" {
		src = "--clickhouse"
	}
	if _, err := store.ParseDSN(v); err != nil {
		return "", Usagef("%s: %w", src, err)
	}
	if c.dsn.set && dsnHasPassword(v) {
		return "", Usagef("--clickhouse: the DSN holds a password, which every user of this machine can read in the process list; "+
			"set the DSN in %s instead, or use password_file= or %s", EnvClickHouse, EnvClickHousePassword)
	}
	return v, nil
}

// dsnHasPassword reports whether a clickhouse:// DSN has user:password@.
func dsnHasPassword(dsn string) bool {
	_, rest, ok := strings.Cut(dsn, "://")
	if !ok {
		return false
	}
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		rest = rest[:i]
	}
	at := strings.LastIndexByte(rest, '@')
	if at < 0 {
		return false
	}
	_, pass, has := strings.Cut(rest[:at], ":")
	return has && pass != ""
}
