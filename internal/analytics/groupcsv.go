package analytics

import (
	"encoding/csv"
	"io"
	"strconv"
	"strings"
)

// DefaultMinAddresses is the smallest fleet shown when no minimum is
// given (`coordinator fleets` without --min-addresses, the API without
// min_addresses).
const DefaultMinAddresses = 2

// WriteGroupsCSV writes the groups of g by group (see ParseGroup) as CSV
// with a header line: the fields of the group's JSON object, lists joined
// by spaces.
func WriteGroupsCSV(w io.Writer, g Groups, group string) error {
	cw := csv.NewWriter(w)
	asn := func(a uint32) string { return strconv.FormatUint(uint64(a), 10) }
	switch group {
	case GroupNetblock:
		_ = cw.Write([]string{"netblock", "asn", "as_name", "country", "addresses"})
		for _, x := range g.Netblocks {
			_ = cw.Write([]string{x.Netblock, asn(x.ASN), x.ASName, x.Country, strconv.Itoa(x.Addresses)})
		}
	case GroupASN:
		_ = cw.Write([]string{"asn", "as_name", "addresses", "netblocks", "countries"})
		for _, x := range g.ASNs {
			_ = cw.Write([]string{asn(x.ASN), x.ASName, strconv.Itoa(x.Addresses), strings.Join(x.Netblocks, " "), strings.Join(x.Countries, " ")})
		}
	default:
		_ = cw.Write([]string{"country", "addresses", "netblocks", "asns"})
		for _, x := range g.Countries {
			asns := make([]string, len(x.ASNs))
			for i, a := range x.ASNs {
				asns[i] = asn(a)
			}
			_ = cw.Write([]string{x.Country, strconv.Itoa(x.Addresses), strings.Join(x.Netblocks, " "), strings.Join(asns, " ")})
		}
	}
	cw.Flush()
	return cw.Error()
}
