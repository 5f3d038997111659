package enrich

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/ptrsweep/ptrsweep/internal/cidr"
)

// benchDump returns a location dump to parse: the file named by
// PTRSWEEP_LOCATION_DUMP (e.g. the output of `location dump` on Debian's
// libloc-database, 1.29M networks), or a synthetic dump of 1.3M nested IPv4
// networks and 100k AS names written to a temporary file.
func benchDump(b *testing.B) string {
	if p := os.Getenv("PTRSWEEP_LOCATION_DUMP"); p != "" {
		return p
	}
	path := filepath.Join(b.TempDir(), "dump.txt")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriter(f)
	fmt.Fprintf(w, "# Generated: Sat, 29 Oct 2022 05:59:54 GMT\n\n")
	for asn := 1; asn <= 100_000; asn++ {
		fmt.Fprintf(w, "aut-num:                 AS%d\nname:                    Example Network %d\n\n", asn, asn)
	}
	// 1.3M networks: each /20 of 1.0.0.0-20.255.255.255 with two nested /24s
	n := 0
	for u := uint32(0x01000000); n < 1_300_000; u += 1 << 12 {
		for _, p := range []string{fmt.Sprintf("%v/20", cidr.Uint32ToAddr(u)), fmt.Sprintf("%v/24", cidr.Uint32ToAddr(u+256)), fmt.Sprintf("%v/24", cidr.Uint32ToAddr(u+1024))} {
			fmt.Fprintf(w, "net:                     %s\ncountry:                 JP\naut-num:                 %d\n\n", p, 1+n%100_000)
			n++
		}
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
	return path
}

// BenchmarkLoadLocationDump measures reading and flattening a whole location
// dump (run with -benchtime=3x -benchmem; B/op is the allocation total, the
// table itself is reported as table_MB).
func BenchmarkLoadLocationDump(b *testing.B) {
	path := benchDump(b)
	b.ResetTimer()
	for b.Loop() {
		tab, st, err := LoadFile(path, FormatLocation)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(st.Networks), "networks")
		b.ReportMetric(float64(tab.Len()), "ranges")
		b.ReportMetric(float64(tab.Len()*24)/1e6, "table_MB")
	}
}

// BenchmarkLookup measures one lookup in a table of the dump.
func BenchmarkLookup(b *testing.B) {
	tab, _, err := LoadFile(benchDump(b), FormatLocation)
	if err != nil {
		b.Fatal(err)
	}
	addrs := make([]uint32, 4096)
	for i := range addrs {
		addrs[i] = uint32(i) * 0x00F0F0F1
	}
	b.ResetTimer()
	i := 0
	for b.Loop() {
		tab.Lookup(cidr.Uint32ToAddr(addrs[i%len(addrs)]))
		i++
	}
}

// BenchmarkRoute measures one Route (AS and country, what a worker stores
// with each row) in a table of the dump, over addresses spread across the
// space.
func BenchmarkRoute(b *testing.B) {
	tab, _, err := LoadFile(benchDump(b), FormatLocation)
	if err != nil {
		b.Fatal(err)
	}
	addrs := make([]uint32, 1<<16)
	for i := range addrs {
		addrs[i] = uint32(i) * 2654435761
	}
	b.ResetTimer()
	i := 0
	for b.Loop() {
		tab.Route(cidr.Uint32ToAddr(addrs[i%len(addrs)]))
		i++
	}
}
