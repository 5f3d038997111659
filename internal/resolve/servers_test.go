package resolve

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestParseServers(t *testing.T) {
	tests := []struct {
		in      string
		want    []string
		wantErr error
	}{
		{"127.0.0.1:53,127.0.0.2", []string{"127.0.0.1:53", "127.0.0.2:53"}, nil},
		{" 127.0.0.1:5353 , 127.0.0.3 ", []string{"127.0.0.1:5353", "127.0.0.3:53"}, nil},
		{"[::1]:53,::1,[::1]", []string{"[::1]:53", "[::1]:53", "[::1]:53"}, nil},
		{"", nil, ErrNoServers},
		{"  ", nil, ErrNoServers},
		{"127.0.0.1,,127.0.0.2", nil, ErrBadServer},
		{"127.0.0.1,", nil, ErrBadServer},
		{"localhost:53", nil, ErrBadServer},
		{"127.0.0.1:dns", nil, ErrBadServer},
		{"127.0.0.1:99999", nil, ErrBadServer},
		{"::1:53", []string{"[::1:53]:53"}, nil}, // a bare IPv6 address, as written
		{"[::1]:53:53", nil, ErrBadServer},
	}
	for _, tt := range tests {
		got, err := ParseServers(tt.in)
		if !errors.Is(err, tt.wantErr) || !slices.Equal(got, tt.want) {
			t.Errorf("ParseServers(%q) = %q, %v, want %q, %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
	if _, err := ParseServers("127.0.0.1,dns.example"); err == nil || !strings.Contains(err.Error(), `"dns.example"`) {
		t.Errorf("ParseServers error %v does not name the bad item", err)
	}
}

func TestSystemServers(t *testing.T) {
	tests := []struct {
		name    string
		conf    string
		want    []string
		wantErr error
	}{
		{"debian", "# generated\nsearch example\nnameserver 127.0.0.53\noptions edns0 trust-ad\n", []string{"127.0.0.53:53"}, nil},
		{"several", "nameserver 127.0.0.1\n; comment\nnameserver ::1\n  nameserver\t127.0.0.2  # tail\n", []string{"127.0.0.1:53", "[::1]:53", "127.0.0.2:53"}, nil},
		{"none", "search example\n", nil, ErrNoServers},
		{"empty", "", nil, ErrNoServers},
		{"bad", "nameserver 127.0.0.1\nnameserver dns.example\n", nil, ErrBadServer},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "resolv.conf")
			if err := os.WriteFile(path, []byte(tt.conf), 0o644); err != nil {
				t.Fatal(err)
			}
			got, err := SystemServers(path)
			if !errors.Is(err, tt.wantErr) || !slices.Equal(got, tt.want) {
				t.Errorf("SystemServers = %q, %v, want %q, %v", got, err, tt.want, tt.wantErr)
			}
		})
	}
	if _, err := SystemServers(filepath.Join(t.TempDir(), "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("SystemServers(missing) = %v, want os.ErrNotExist", err)
	}
}
