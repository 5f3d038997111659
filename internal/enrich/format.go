package enrich

import (
	"bufio"
	"bytes"
	"compress/bzip2"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"strings"
)

// Format names an input file format. The names are what `coordinator asn
// load --format` takes.
type Format string

// The formats LoadFile reads.
const (
	// FormatAuto lets LoadFile detect the format (see DetectFormat).
	FormatAuto Format = ""
	// FormatPfx2AS is RouteViews/CAIDA pfx2as and pyasn's ipasn files.
	FormatPfx2AS Format = "pfx2as"
	// FormatIPtoASN is iptoasn.com's ip2asn-v4.tsv.
	FormatIPtoASN Format = "ip2asn"
	// FormatMMDB is a MaxMind DB (GeoLite2 ASN, Country or City).
	FormatMMDB Format = "mmdb"
	// FormatLocation is the text dump of IPFire's location database.
	FormatLocation Format = "location"
)

// Formats lists the formats in the order of the documentation.
var Formats = []Format{FormatPfx2AS, FormatIPtoASN, FormatMMDB, FormatLocation}

// ParseFormat returns the Format of a name ("auto" or "" is FormatAuto), or
// an error wrapping ErrUnknownFormat that lists the names.
func ParseFormat(s string) (Format, error) {
	if s == "" || s == "auto" {
		return FormatAuto, nil
	}
	for _, f := range Formats {
		if string(f) == s {
			return f, nil
		}
	}
	return "", fmt.Errorf("%w: %q: want one of auto, pfx2as, ip2asn, mmdb, location", ErrUnknownFormat, s)
}

// mmdbMarker precedes the metadata at the end of every MaxMind DB.
var mmdbMarker = []byte("\xab\xcd\xefMaxMind.com")

// DetectFormat guesses the format of a file from its first bytes (after
// decompression): a location dump starts with its "# Location Database
// Export" header or a "net:"/"aut-num:" line; an iptoasn line has five
// tab-separated fields beginning with two addresses; a pfx2as line has two
// or three fields beginning with a prefix or an address. MaxMind DBs are
// binary: LoadFile recognises them by their metadata marker instead. It
// returns an error wrapping ErrUnknownFormat when nothing matches.
func DetectFormat(head []byte) (Format, error) {
	if bytes.Contains(head, []byte("# Location Database Export")) {
		return FormatLocation, nil
	}
	for _, l := range bytes.Split(head, []byte("\n")) {
		l = bytes.TrimSpace(l)
		if len(l) == 0 || l[0] == '#' || l[0] == ';' {
			continue
		}
		if bytes.HasPrefix(l, []byte("net:")) || bytes.HasPrefix(l, []byte("aut-num:")) {
			return FormatLocation, nil
		}
		if f := bytes.Split(l, []byte("\t")); len(f) == 5 {
			return FormatIPtoASN, nil
		}
		if f := bytes.Fields(l); len(f) == 2 || len(f) == 3 {
			if bytes.IndexByte(f[0], '.') > 0 || bytes.IndexByte(f[0], ':') >= 0 {
				return FormatPfx2AS, nil
			}
		}
		break
	}
	return "", fmt.Errorf("%w: the first lines look like none of pfx2as, ip2asn, location: name the format", ErrUnknownFormat)
}

// LoadFile reads one file into a new Table. Gzip and bzip2 files are
// decompressed (recognised by their magic bytes). With FormatAuto the format
// is detected: a file ending in ".mmdb" or containing MaxMind DB metadata is
// FormatMMDB, others go to DetectFormat. When the file does not give
// Stats.Date, a yyyymmdd date in the file name does (see DateFromName); it
// stays zero otherwise and the caller must supply one.
func LoadFile(path string, format Format) (*Table, Stats, error) {
	var b Builder
	st, err := ReadFile(path, format, &b)
	if err != nil {
		return nil, st, err
	}
	t, err := b.Table()
	return t, st, err
}

// ReadFile is LoadFile into an existing Builder, for reading several files
// of nested networks into one Table.
func ReadFile(path string, format Format, b *Builder) (Stats, error) {
	f, err := os.Open(path)
	if err != nil {
		return Stats{}, fmt.Errorf("open IP-to-ASN file: %w", err)
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, 1<<20)
	var r io.Reader = br
	magic, _ := br.Peek(3)
	switch {
	case len(magic) >= 2 && magic[0] == 0x1f && magic[1] == 0x8b:
		zr, err := gzip.NewReader(br)
		if err != nil {
			return Stats{}, &ParseError{File: path, Msg: fmt.Sprintf("gzip: %v", err)}
		}
		defer zr.Close()
		r = bufio.NewReaderSize(zr, 1<<20)
	case bytes.Equal(magic, []byte("BZh")):
		r = bufio.NewReaderSize(bzip2.NewReader(br), 1<<20)
	}
	if format == FormatAuto || format == FormatMMDB {
		isMMDB := strings.HasSuffix(path, ".mmdb")
		if !isMMDB && r == io.Reader(br) {
			if st, err := f.Stat(); err == nil && st.Size() > 0 {
				tail := make([]byte, min(st.Size(), 128<<10))
				if _, err := f.ReadAt(tail, st.Size()-int64(len(tail))); err == nil {
					isMMDB = bytes.Contains(tail, mmdbMarker)
				}
			}
		}
		if isMMDB || format == FormatMMDB {
			if r != io.Reader(br) {
				data, err := io.ReadAll(r)
				if err != nil {
					return Stats{}, &ParseError{File: path, Msg: fmt.Sprintf("decompress: %v", err)}
				}
				return withNameDate(ReadMMDBBytes(data, path, b))(path)
			}
			return withNameDate(ReadMMDB(path, b))(path)
		}
		pr := bufio.NewReaderSize(r, 64<<10)
		head, _ := pr.Peek(16 << 10)
		if format, err = DetectFormat(head); err != nil {
			return Stats{}, fmt.Errorf("%s: %w", path, err)
		}
		r = pr
	}
	var read func(io.Reader, string, *Builder) (Stats, error)
	switch format {
	case FormatPfx2AS:
		read = ReadPfx2AS
	case FormatIPtoASN:
		read = ReadIPtoASN
	case FormatLocation:
		read = ReadLocationDump
	default:
		return Stats{}, fmt.Errorf("%w: %q", ErrUnknownFormat, format)
	}
	return withNameDate(read(r, path, b))(path)
}

// withNameDate fills a missing Stats.Date from the file name.
func withNameDate(st Stats, err error) func(string) (Stats, error) {
	return func(path string) (Stats, error) {
		if err == nil && st.Date.IsZero() {
			if d, ok := DateFromName(path[strings.LastIndexByte(path, '/')+1:]); ok {
				st.Date = d
			}
		}
		return st, err
	}
}
