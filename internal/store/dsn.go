package store

import (
	"fmt"
	"net/netip"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// DefaultDatabase is the database used when a DSN names none.
const DefaultDatabase = "ptrsweep"

// DefaultPort is ClickHouse's native-protocol port, used when a DSN names none.
const DefaultPort = 9000

const dsnScheme = "clickhouse://"

// dsnForm is shown in DSN errors.
const dsnForm = "want clickhouse://[user[:password]@]host[:port][/database][?dial_timeout=10s&read_timeout=5m&compress=true&max_open_conns=8]"

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
	// MaxOpenConns bounds the connection pool (max_open_conns; default 8).
	MaxOpenConns int
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
	return b.String()
}

var (
	validDatabase = regexp.MustCompile(`^[A-Za-z0-9_]+$`)
	validHost     = regexp.MustCompile(`^[A-Za-z0-9_]([A-Za-z0-9_.-]*[A-Za-z0-9_])?$`)
)

// ParseDSN parses clickhouse://[user[:password]@]host[:port][/database][?params].
// The port defaults to 9000 and the database to "ptrsweep"; user and password
// are percent-decoded. Parameters: dial_timeout and read_timeout (Go
// durations), compress (bool), max_open_conns (int). Errors wrap ErrInvalidDSN,
// say what is wrong and never contain the password.
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
	addr, err := parseHostPort(hostport)
	if err != nil {
		return Options{}, err
	}
	o.Addr = addr

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
	if err := parseParams(&o, query); err != nil {
		return Options{}, err
	}
	return o, nil
}

func dsnError(msg string) error {
	return fmt.Errorf("%w: %s (%s)", ErrInvalidDSN, msg, dsnForm)
}

// parseHostPort validates host[:port] or [ipv6][:port] and returns host:port.
func parseHostPort(hp string) (string, error) {
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
	p := uint64(DefaultPort)
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

// parseParams applies the DSN's query parameters to o.
func parseParams(o *Options, query string) error {
	if query == "" {
		return nil
	}
	for _, kv := range strings.Split(query, "&") {
		if kv == "" {
			continue
		}
		k, v, _ := strings.Cut(kv, "=")
		key, err := url.QueryUnescape(k)
		if err != nil {
			return dsnError("a parameter name has an invalid %-escape")
		}
		val, err := url.QueryUnescape(v)
		if err != nil {
			return dsnError(fmt.Sprintf("parameter %s has an invalid %%-escape", key))
		}
		switch key {
		case "dial_timeout", "read_timeout":
			d, err := time.ParseDuration(val)
			if err != nil || d <= 0 {
				return dsnError(fmt.Sprintf("%s=%q: want a positive duration such as 10s", key, val))
			}
			if key == "dial_timeout" {
				o.DialTimeout = d
			} else {
				o.ReadTimeout = d
			}
		case "compress":
			b, err := strconv.ParseBool(val)
			if err != nil {
				return dsnError(fmt.Sprintf("compress=%q: want true or false", val))
			}
			o.Compress = b
		case "max_open_conns":
			n, err := strconv.Atoi(val)
			if err != nil || n < 1 || n > 1024 {
				return dsnError(fmt.Sprintf("max_open_conns=%q: want a number from 1 to 1024", val))
			}
			o.MaxOpenConns = n
		default:
			return dsnError(fmt.Sprintf("unknown parameter %q (known: dial_timeout, read_timeout, compress, max_open_conns)", key))
		}
	}
	return nil
}
