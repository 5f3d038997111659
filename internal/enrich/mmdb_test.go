package enrich

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"
)

// writeMMDB writes a MaxMind DB of the given type with one record per
// network and returns its path.
func writeMMDB(t *testing.T, dbType string, ipVersion int, records map[string]mmdbtype.Map) string {
	t.Helper()
	tree, err := mmdbwriter.New(mmdbwriter.Options{
		DatabaseType: dbType,
		IPVersion:    ipVersion,
		RecordSize:   24,
		BuildEpoch:   time.Date(2026, 11, 24, 13, 5, 0, 0, time.UTC).Unix(),
	})
	if err != nil {
		t.Fatal(err)
	}
	for cidr, rec := range records {
		_, n, err := net.ParseCIDR(cidr)
		if err != nil {
			t.Fatal(err)
		}
		if err := tree.Insert(n, rec); err != nil {
			t.Fatalf("insert %s: %v", cidr, err)
		}
	}
	path := filepath.Join(t.TempDir(), dbType+".mmdb")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tree.WriteTo(f); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

func asnRecord(asn uint32, org string) mmdbtype.Map {
	return mmdbtype.Map{"autonomous_system_number": mmdbtype.Uint32(asn), "autonomous_system_organization": mmdbtype.String(org)}
}

func countryRecord(field, iso string) mmdbtype.Map {
	return mmdbtype.Map{mmdbtype.String(field): mmdbtype.Map{"iso_code": mmdbtype.String(iso)}}
}

func TestReadMMDB(t *testing.T) {
	asnPath := writeMMDB(t, "GeoLite2-ASN", 6, map[string]mmdbtype.Map{
		"45.118.132.0/22": asnRecord(63949, "Linode, LLC"),
		"139.162.64.0/19": asnRecord(63949, "Linode, LLC"),
		"106.128.0.0/10":  asnRecord(2516, "KDDI CORPORATION"),
		"2600:3c00::/32":  asnRecord(63949, "Linode, LLC"),
	})
	countryPath := writeMMDB(t, "GeoLite2-Country", 6, map[string]mmdbtype.Map{
		"45.118.132.0/23": countryRecord("country", "SG"),
		"45.118.134.0/23": countryRecord("registered_country", "SG"),
		"139.162.64.0/19": countryRecord("country", "JP"),
		"106.0.0.0/8":     countryRecord("country", "JP"),
	})
	v4Path := writeMMDB(t, "GeoLite2-ASN", 4, map[string]mmdbtype.Map{
		"45.118.132.0/22": asnRecord(63949, "Linode, LLC"),
	})

	asn, st := build(t, func(b *Builder) (Stats, error) { return ReadMMDB(asnPath, b) })
	if st.Networks != 3 || st.Names != 3 {
		t.Errorf("ASN stats = %+v, want 3 IPv4 networks with names", st)
	}
	if want := time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC); !st.Date.Equal(want) {
		t.Errorf("Date = %v, want %v", st.Date, want)
	}
	country, _ := build(t, func(b *Builder) (Stats, error) { return ReadMMDB(countryPath, b) })
	checkLookups(t, country, []lookupCase{
		{"45.118.133.1", "45.118.132.0/23", 0, "", "SG"},
		{"45.118.134.1", "45.118.134.0/23", 0, "", "SG"},
	})
	merged := Merge(asn, country)
	checkTable(t, merged)
	checkLookups(t, merged, []lookupCase{
		{"45.118.132.1", "45.118.132.0/22", 63949, "Linode, LLC", "SG"},
		{"139.162.77.6", "139.162.64.0/19", 63949, "Linode, LLC", "JP"},
		{"106.128.1.1", "106.128.0.0/10", 2516, "KDDI CORPORATION", "JP"},
		{"106.1.1.1", "106.0.0.0/8", 0, "", "JP"},
		{"8.8.8.8", "", 0, "", ""},
	})

	v4, _ := build(t, func(b *Builder) (Stats, error) { return ReadMMDB(v4Path, b) })
	checkLookups(t, v4, []lookupCase{{"45.118.135.1", "45.118.132.0/22", 63949, "Linode, LLC", ""}})

	// LoadFile recognises a MaxMind DB by its metadata, whatever its name
	data, err := os.ReadFile(asnPath)
	if err != nil {
		t.Fatal(err)
	}
	renamed := filepath.Join(t.TempDir(), "asn.bin")
	if err := os.WriteFile(renamed, data, 0o644); err != nil {
		t.Fatal(err)
	}
	tab, _, err := LoadFile(renamed, FormatAuto)
	if err != nil {
		t.Fatalf("LoadFile(mmdb renamed): %v", err)
	}
	checkLookups(t, tab, []lookupCase{{"139.162.77.6", "139.162.64.0/19", 63949, "Linode, LLC", ""}})

	var b Builder
	if _, err := ReadMMDBBytes([]byte("not a database"), "x.mmdb", &b); !errors.Is(err, ErrFormat) {
		t.Errorf("ReadMMDBBytes(garbage) = %v, want ErrFormat", err)
	}
}
