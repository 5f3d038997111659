package store

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"os"
)

// maxFileBytes bounds the password, CA, certificate and key files read.
const maxFileBytes = 1 << 20

// TLSConfig returns the client TLS configuration of o, or nil when o does
// not ask for TLS. The server name is the host of o.Addr; RootCAs holds the
// CAs of o.CAFile (nil: the system roots); Certificates holds the client
// certificate of o.CertFile and o.KeyFile. A file that cannot be read or
// parsed is an error wrapping ErrInvalidDSN that names the file (never its
// content). Each call reads the files again.
func (o Options) TLSConfig() (*tls.Config, error) {
	if !o.Secure {
		return nil, nil
	}
	host, _, err := net.SplitHostPort(o.Addr)
	if err != nil {
		host = o.Addr
	}
	cfg := &tls.Config{
		MinVersion:         tls.VersionTLS12,
		ServerName:         host,
		InsecureSkipVerify: o.SkipVerify,
	}
	if o.CAFile != "" {
		pem, err := readFile(o.CAFile)
		if err != nil {
			return nil, fmt.Errorf("%w: ca: %w", ErrInvalidDSN, err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("%w: ca file %s: no PEM certificate in it", ErrInvalidDSN, o.CAFile)
		}
		cfg.RootCAs = pool
	}
	if (o.CertFile == "") != (o.KeyFile == "") {
		return nil, fmt.Errorf("%w: cert and key come together: a client certificate needs its key", ErrInvalidDSN)
	}
	if o.CertFile != "" {
		certPEM, err := readFile(o.CertFile)
		if err != nil {
			return nil, fmt.Errorf("%w: cert: %w", ErrInvalidDSN, err)
		}
		keyPEM, err := readFile(o.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("%w: key: %w", ErrInvalidDSN, err)
		}
		cert, err := tls.X509KeyPair(certPEM, keyPEM)
		if err != nil {
			return nil, fmt.Errorf("%w: client certificate %s with key %s: %w", ErrInvalidDSN, o.CertFile, o.KeyFile, err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return cfg, nil
}

// readFile reads path, refusing files over maxFileBytes (or endless ones
// such as /dev/zero). Errors name the file, never its content.
func readFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxFileBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if len(b) > maxFileBytes {
		return nil, fmt.Errorf("%s: larger than %d bytes", path, maxFileBytes)
	}
	return b, nil
}
