package analytics

import (
	"bytes"
	"testing"
)

func TestWriteGroupsCSV(t *testing.T) {
	tab := caseTable(t)
	var g Grouper
	for _, r := range caseRows() {
		_ = g.Add(r)
	}
	for _, tt := range []struct{ group, want string }{
		{GroupNetblock, "netblock,asn,as_name,country,addresses\n45.118.132.0/23,63949,\"Linode, LLC\",SG,1\n"},
		{GroupASN, "asn,as_name,addresses,netblocks,countries\n63949,\"Linode, LLC\",4,45.118.132.0/23 139.162.0.0/16 139.162.64.0/19,JP SG US\n"},
		{GroupCountry, "country,addresses,netblocks,asns\nJP,3,106.128.0.0/10 139.162.64.0/19,2516 63949\n"},
	} {
		var out bytes.Buffer
		if err := WriteGroupsCSV(&out, g.Groups(tt.group, tab), tt.group); err != nil {
			t.Fatal(err)
		}
		if !bytes.HasPrefix(out.Bytes(), []byte(tt.want)) {
			t.Errorf("WriteGroupsCSV(%s) = %q, want it to start with %q", tt.group, out.String(), tt.want)
		}
		if lines, groups := bytes.Count(out.Bytes(), []byte("\n")), len(g.Groups(tt.group, tab).Netblocks)+len(g.Groups(tt.group, tab).ASNs)+len(g.Groups(tt.group, tab).Countries); lines != groups+1 {
			t.Errorf("WriteGroupsCSV(%s): %d lines, want a header and %d groups", tt.group, lines, groups)
		}
	}
	var out bytes.Buffer
	if err := WriteGroupsCSV(&out, Groups{}, GroupASN); err != nil || out.String() != "asn,as_name,addresses,netblocks,countries\n" {
		t.Errorf("WriteGroupsCSV of no groups = %q, %v; want the header only", out.String(), err)
	}
}
