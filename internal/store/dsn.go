package store

import (
	"fmt"
	"net/netip"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// DefaultDatabase is the database used when a DSN names none.
const DefaultDatabase = "ptrsweep"

// DefaultPort is ClickHouse's native-protocol port, used when a DSN names none.
const DefaultPort = 9000

// DefaultSecurePort is ClickHouse's native-protocol-over-TLS port
// (tcp_port_secure), used when a DSN asks for TLS and names no port.
const DefaultSecurePort = 9440

// EnvPassword is the environment variable that supplies the password when
// the DSN has none and names no password_file.
const EnvPassword = "PTRSWEEP_CLICKHOUSE_PASSWORD"

const dsnScheme = "clickhouse://"

// dsnForm is shown in DSN errors.
const dsnForm = "want clickhouse://[user[:password]@]host[:port][/database][?dial_timeout=10s&read_timeout=5m&compress=true&max_open_conns=8&password_file=F&secure=true&ca=F&cert=F&key=F&skip_verify=true]"

// knownParams lists the DSN parameters, for the unknown-parameter error.
const knownParams = "dial_timeout, read_timeout, compress, log_queries, max_open_conns, password_file, secure, ca, cert, key, skip_verify"

// Options are the connection settings parsed from a DSN. The zero value of a
// field means the default.
type Options struct {
	// Addr is host:port of the native protocol.
	Addr string
	// Database is the database holding ptrsweep's tables.
	Database string
	// User and Password authenticate; User defaults to "default".
	User     string
	Password string
	// DialTimeout bounds connecting (dial_timeout; default 10s).
	DialTimeout time.Duration
	// ReadTimeout bounds one read from the server (read_timeout; default 5m).
	ReadTimeout time.Duration
	// Compress turns on LZ4 compression of blocks (compress).
	Compress bool
	// LogQueries asks the server to record this client's queries in
	// system.query_log (log_queries=true; the setting of the same name,
	// off by default on 18.16): their server time, rows read and memory,
	// for diagnosis and for the scale harness.
	LogQueries bool
	// MaxOpenConns bounds the connection pool (max_open_conns; default 8).
	MaxOpenConns int
	// Secure connects over TLS (secure=true; implied by ca, cert, key and
	// skip_verify). The port then defaults to DefaultSecurePort.
	Secure bool
	// CAFile is a PEM file of the CAs that sign the server's certificate
	// (ca); empty means the system roots.
	CAFile string
	// CertFile and KeyFile are a client certificate and its key, PEM (cert,
	// key). Both or neither.
	CertFile, KeyFile string
	// SkipVerify skips the check of the server's certificate (skip_verify).
	// For tests only.
	SkipVerify bool
}

// String returns the options as a DSN with the password masked, fit for logs.
func (o Options) String() string {
	var b strings.Builder
	b.WriteString(dsnScheme)
	if o.User != "" || o.Password != "" {
		b.WriteString(url.PathEscape(o.User))
		if o.Password != "" {
			b.WriteString(":xxxxx")
		}
		b.WriteString("@")
	}
	b.WriteString(o.Addr)
	b.WriteString("/")
	b.WriteString(o.Database)
	if o.Secure {
		b.WriteString("?secure=true")
	}
	return b.String()
}

var (
	validDatabase = regexp.MustCompile(`^[A-Za-z0-9_]+$`)
	validHost     = regexp.MustCompile(`^[A-Za-z0-9_]([A-Za-z0-9_.-]*[A-Za-z0-9_])?$`)
)

// ParseDSN parses clickhouse://[user[:password]@]host[:port][/database][?params].
// The port defaults to 9000 (9440 with TLS) and the database to "ptrsweep";
// user and password are percent-decoded. Parameters:
//
//	dial_timeout, read_timeout  Go durations (10s, 5m)
//	compress                    LZ4 block compression (bool)
//	max_open_conns              connection pool size (1–1024)
//	password_file=FILE          the password, read from FILE (one trailing newline trimmed)
//	secure=true                 TLS (implied by ca, cert, key, skip_verify)
//	ca=FILE                     PEM CAs that sign the server's certificate
//	cert=FILE, key=FILE         client certificate and key (PEM)
//	skip_verify=true            do not check the server's certificate (tests only)
//
// The password is, first found: the one in the DSN, the content of
// password_file, the environment variable PTRSWEEP_CLICKHOUSE_PASSWORD.
// ParseDSN reads the password file and loads the TLS files, so a missing or
// malformed file is reported here, naming the file. Errors wrap
// ErrInvalidDSN, say what is wrong and never contain the password.
func ParseDSN(dsn string) (Options, error) {
	o := Options{
		Database:     DefaultDatabase,
		User:         "default",
		DialTimeout:  10 * time.Second,
		ReadTimeout:  5 * time.Minute,
		MaxOpenConns: 8,
	}
	if len(dsn) < len(dsnScheme) || !strings.EqualFold(dsn[:len(dsnScheme)], dsnScheme) {
		return Options{}, dsnError("must start with clickhouse://")
	}
	rest := dsn[len(dsnScheme):]
	authority, tail := rest, ""
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		authority, tail = rest[:i], rest[i:]
	}
	hostport := authority
	if at := strings.LastIndexByte(authority, '@'); at >= 0 {
		// Nothing from here on may be echoed: it holds the password.
		userinfo := authority[:at]
		hostport = authority[at+1:]
		user, pass, hasPass := strings.Cut(userinfo, ":")
		u, err := url.PathUnescape(user)
		if err != nil {
			return Options{}, dsnError("the user name has an invalid %-escape")
		}
		p, err := url.PathUnescape(pass)
		if err != nil {
			return Options{}, dsnError("the password has an invalid %-escape (escape a literal % as %25)")
		}
		if u != "" {
			o.User = u
		} else if hasPass {
			return Options{}, dsnError("a password needs a user name (user:password@)")
		}
		o.Password = p
	}
	if strings.HasPrefix(tail, "#") || strings.Contains(tail, "#") {
		return Options{}, dsnError("a fragment (#...) is not allowed")
	}
	path, query, _ := strings.Cut(tail, "?")
	if path != "" {
		db := strings.TrimPrefix(path, "/")
		if db != "" {
			if !validDatabase.MatchString(db) {
				return Options{}, dsnError(fmt.Sprintf("database name %q: use letters, digits and _ only", db))
			}
			o.Database = db
		}
	}
	passwordFile, err := parseParams(&o, query)
	if err != nil {
		return Options{}, err
	}
	defPort := DefaultPort
	if o.Secure {
		defPort = DefaultSecurePort
	}
	addr, err := parseHostPort(hostport, defPort)
	if err != nil {
		return Options{}, err
	}
	o.Addr = addr
	if o.Password == "" && passwordFile != "" {
		if o.Password, err = readPassword(passwordFile); err != nil {
			return Options{}, err
		}
	}
	if o.Password == "" {
		o.Password = os.Getenv(EnvPassword)
	}
	if o.Secure {
		// Load the files now: a bad one is a bad DSN.
		if _, err := o.TLSConfig(); err != nil {
			return Options{}, err
		}
	}
	return o, nil
}

// readPassword reads a password file. Its content never appears in errors.
func readPassword(path string) (string, error) {
	b, err := readFile(path)
	if err != nil {
		return "", fmt.Errorf("%w: password_file: %w", ErrInvalidDSN, err)
	}
	p := strings.TrimSuffix(string(b), "\n")
	p = strings.TrimSuffix(p, "\r")
	if p == "" {
		return "", fmt.Errorf("%w: password_file %s is empty", ErrInvalidDSN, path)
	}
	return p, nil
}

func dsnError(msg string) error {
	return fmt.Errorf("%w: %s (%s)", ErrInvalidDSN, msg, dsnForm)
}

// parseHostPort validates host[:port] or [ipv6][:port] and returns
// host:port, with defPort when hp names no port.
func parseHostPort(hp string, defPort int) (string, error) {
	if hp == "" {
		return "", dsnError("missing host")
	}
	var host, port string
	if strings.HasPrefix(hp, "[") {
		end := strings.IndexByte(hp, ']')
		if end < 0 {
			return "", dsnError("an IPv6 host misses its closing ]")
		}
		host = hp[1:end]
		a, err := netip.ParseAddr(host)
		if err != nil || !a.Is6() {
			return "", dsnError(fmt.Sprintf("host [%s] is not an IPv6 address", host))
		}
		switch after := hp[end+1:]; {
		case after == "":
		case strings.HasPrefix(after, ":"):
			port = after[1:]
			if port == "" {
				return "", dsnError("empty port after ':'")
			}
		default:
			return "", dsnError(fmt.Sprintf("unexpected %q after the IPv6 host", after))
		}
	} else {
		var hasPort bool
		host, port, hasPort = strings.Cut(hp, ":")
		if strings.Contains(port, ":") {
			return "", dsnError("put an IPv6 host in brackets, e.g. [::1]:9000")
		}
		if hasPort && port == "" {
			return "", dsnError("empty port after ':'")
		}
		if host == "" {
			return "", dsnError("missing host")
		}
		if !validHost.MatchString(host) {
			return "", dsnError(fmt.Sprintf("host %q: use a host name or an IP address", host))
		}
	}
	p := uint64(defPort)
	if port != "" {
		var err error
		p, err = strconv.ParseUint(port, 10, 16)
		if err != nil || p == 0 {
			return "", dsnError(fmt.Sprintf("port %q: want a number from 1 to 65535", port))
		}
	}
	if strings.Contains(host, ":") {
		return "[" + host + "]:" + strconv.FormatUint(p, 10), nil
	}
	return host + ":" + strconv.FormatUint(p, 10), nil
}

// parseParams applies the DSN's query parameters to o and returns the
// password_file parameter. Every returned error is a dsnError.
func parseParams(o *Options, query string) (passwordFile string, err error) {
	if query == "" {
		return "", nil
	}
	var explicitInsecure bool
	for _, kv := range strings.Split(query, "&") {
		if kv == "" {
			continue
		}
		k, v, _ := strings.Cut(kv, "=")
		key, err := url.QueryUnescape(k)
		if err != nil {
			return "", dsnError("a parameter name has an invalid %-escape")
		}
		val, err := url.QueryUnescape(v)
		if err != nil {
			return "", dsnError(fmt.Sprintf("parameter %s has an invalid %%-escape", key))
		}
		switch key {
		case "dial_timeout", "read_timeout":
			d, err := time.ParseDuration(val)
			if err != nil || d <= 0 {
				return "", dsnError(fmt.Sprintf("%s=%q: want a positive duration such as 10s", key, val))
			}
			if key == "dial_timeout" {
				o.DialTimeout = d
			} else {
				o.ReadTimeout = d
			}
		case "compress", "log_queries":
			b, err := strconv.ParseBool(val)
			if err != nil {
				return "", dsnError(fmt.Sprintf("%s=%q: want true or false", key, val))
			}
			if key == "compress" {
				o.Compress = b
			} else {
				o.LogQueries = b
			}
		case "max_open_conns":
			n, err := strconv.Atoi(val)
			if err != nil || n < 1 || n > 1024 {
				return "", dsnError(fmt.Sprintf("max_open_conns=%q: want a number from 1 to 1024", val))
			}
			o.MaxOpenConns = n
		case "password_file", "ca", "cert", "key":
			if val == "" {
				return "", dsnError(fmt.Sprintf("%s: want a file name", key))
			}
			switch key {
			case "password_file":
				passwordFile = val
			case "ca":
				o.CAFile, o.Secure = val, true
			case "cert":
				o.CertFile, o.Secure = val, true
			case "key":
				o.KeyFile, o.Secure = val, true
			}
		case "secure", "skip_verify":
			b, err := strconv.ParseBool(val)
			if err != nil {
				return "", dsnError(fmt.Sprintf("%s=%q: want true or false", key, val))
			}
			if key == "skip_verify" {
				o.SkipVerify = b
				o.Secure = o.Secure || b
			} else {
				o.Secure = o.Secure || b
				explicitInsecure = explicitInsecure || !b
			}
		default:
			return "", dsnError(fmt.Sprintf("unknown parameter %q (known: %s)", key, knownParams))
		}
	}
	if explicitInsecure && o.Secure {
		return "", dsnError("secure=false contradicts ca, cert, key or skip_verify")
	}
	if (o.CertFile == "") != (o.KeyFile == "") {
		return "", dsnError("cert and key come together: a client certificate needs its key")
	}
	return passwordFile, nil
}
