package enrich

import (
	"os"
	"strings"
	"testing"
)

// fuzzReader checks that a reader never panics and that whatever it accepts
// builds a consistent table.
func fuzzReader(f *testing.F, seeds []string, read func(string, *Builder) (Stats, error)) {
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		var b Builder
		st, err := read(in, &b)
		if err != nil {
			return
		}
		if st.Networks != b.Networks() {
			t.Fatalf("Stats.Networks = %d, Builder has %d", st.Networks, b.Networks())
		}
		tab, err := b.Table()
		if err != nil {
			return
		}
		checkTable(t, tab)
	})
}

func FuzzReadLocationDump(f *testing.F) {
	slice, err := os.ReadFile("testdata/location-slice.txt")
	if err != nil {
		f.Fatal(err)
	}
	fuzzReader(f, []string{string(slice[:2000]), "net: 1.0.0.0/8\ncountry: AU\n\nnet: 1.0.0.0/24\naut-num: 13335\n",
		"aut-num: AS1\nname: X\n", "net: 0.0.0.0/0\n\nnet: 255.255.255.255/32\n"},
		func(in string, b *Builder) (Stats, error) { return ReadLocationDump(strings.NewReader(in), "f", b) })
}

func FuzzReadPfx2AS(f *testing.F) {
	fuzzReader(f, []string{"1.0.0.0/24\t15169\n1.0.0.0\t16\t1_2\n", "; c\n0.0.0.0\t0\t{1,2}\n", "1.0.0.0/24 1\n1.0.0.0/24 2\n"},
		func(in string, b *Builder) (Stats, error) { return ReadPfx2AS(strings.NewReader(in), "f", b) })
}

func FuzzReadIPtoASN(f *testing.F) {
	fuzzReader(f, []string{"1.0.0.0\t1.0.0.255\t13335\tUS\tCLOUDFLARENET\n1.0.1.0\t1.0.3.255\t0\tNone\tNot routed\n",
		"0.0.0.0\t255.255.255.255\t1\tNone\tall\n", "1.0.0.1\t1.0.0.6\t1\tus\tx\n"},
		func(in string, b *Builder) (Stats, error) { return ReadIPtoASN(strings.NewReader(in), "f", b) })
}
