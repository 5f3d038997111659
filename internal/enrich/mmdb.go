package enrich

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/oschwald/maxminddb-golang/v2"
)

// mmdbRecord holds the fields ReadMMDB reads; GeoLite2-ASN fills the first
// two, GeoLite2-Country and -City the others.
type mmdbRecord struct {
	ASN     uint32 `maxminddb:"autonomous_system_number"`
	ASName  string `maxminddb:"autonomous_system_organization"`
	Country struct {
		ISOCode string `maxminddb:"iso_code"`
	} `maxminddb:"country"`
	RegisteredCountry struct {
		ISOCode string `maxminddb:"iso_code"`
	} `maxminddb:"registered_country"`
}

// ReadMMDB reads every IPv4 network of a MaxMind DB file (GeoLite2/GeoIP2
// ASN, Country or City, IPv4-only or IPv6 with the IPv4 subtree) into b.
// From each record it takes autonomous_system_number and
// autonomous_system_organization (ASN databases) and country.iso_code, or
// registered_country.iso_code when the former is missing (Country and City
// databases). An ASN and a Country database describe the same addresses
// with different networks: build a Table from each and join them with
// Merge(asnTable, countryTable). Stats.Date is the database's build date.
func ReadMMDB(path string, b *Builder) (Stats, error) {
	db, err := maxminddb.Open(path)
	if err != nil {
		return Stats{}, &ParseError{File: path, Msg: fmt.Sprintf("not a readable MaxMind DB (%v)", err)}
	}
	defer db.Close()
	return readMMDB(db, path, b)
}

// ReadMMDBBytes is ReadMMDB on a database held in memory; name labels
// errors.
func ReadMMDBBytes(data []byte, name string, b *Builder) (Stats, error) {
	db, err := maxminddb.OpenBytes(data)
	if err != nil {
		return Stats{}, &ParseError{File: name, Msg: fmt.Sprintf("not a readable MaxMind DB (%v)", err)}
	}
	defer db.Close()
	return readMMDB(db, name, b)
}

func readMMDB(db *maxminddb.Reader, name string, b *Builder) (Stats, error) {
	b.source(name)
	st := Stats{Date: time.Unix(int64(db.Metadata.BuildEpoch), 0).UTC().Truncate(24 * time.Hour)}
	for res := range db.NetworksWithin(netip.MustParsePrefix("0.0.0.0/0")) {
		if err := res.Err(); err != nil {
			return st, &ParseError{File: name, Msg: fmt.Sprintf("read networks: %v", err)}
		}
		p := res.Prefix()
		if !p.Addr().Is4() {
			st.SkippedIPv6++
			continue
		}
		var rec mmdbRecord
		if err := res.Decode(&rec); err != nil {
			return st, &ParseError{File: name, Msg: fmt.Sprintf("record of %s: %v", p, err)}
		}
		country := rec.Country.ISOCode
		if country == "" {
			country = rec.RegisteredCountry.ISOCode
		}
		if err := b.Add(p.Masked(), rec.ASN, country, 0); err != nil {
			return st, &ParseError{File: name, Msg: fmt.Sprintf("network %s: %v", p, err)}
		}
		st.Networks++
		if rec.ASN != 0 && rec.ASName != "" {
			b.SetName(rec.ASN, rec.ASName)
			st.Names++
		}
	}
	return st, nil
}
