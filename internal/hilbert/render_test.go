package hilbert

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"net/netip"
	"strings"
	"testing"

	"github.com/ptrsweep/ptrsweep/internal/sweep"
)

// num returns the /24 number of an address.
func num(a string) uint32 { return addrNum(netip.MustParseAddr(a)) >> 8 }

// decode renders, encodes and decodes back, as a browser would.
func decode(t *testing.T, v View, m Mode, cells []Cell, hl []uint32) image.Image {
	t.Helper()
	img, err := Render(v, m, cells, hl)
	if err != nil {
		t.Fatalf("Render(%s, %s): %v", v, m, err)
	}
	var buf bytes.Buffer
	if err := EncodePNG(&buf, img); err != nil {
		t.Fatal(err)
	}
	out, err := png.Decode(&buf)
	if err != nil {
		t.Fatalf("decode the PNG: %v", err)
	}
	if out.Bounds() != v.Bounds() {
		t.Fatalf("PNG of %s is %v, want %v", v, out.Bounds(), v.Bounds())
	}
	return out
}

func hex(c color.Color) string {
	r, g, b, a := c.RGBA()
	return fmt.Sprintf("#%02x%02x%02x/%02x", r>>8, g>>8, b>>8, a>>8)
}

func TestRenderDensity(t *testing.T) {
	// 10.0.0.0/22 at one pixel a /24: a 2×2 image.
	v, err := NewView(netip.MustParsePrefix("10.0.0.0/22"), 24)
	if err != nil {
		t.Fatal(err)
	}
	cells := []Cell{
		{Net: num("10.0.2.0"), PTRs: 1},
		{Net: num("10.0.0.0"), PTRs: 256},
		{Net: num("10.0.1.0"), PTRs: 0},
		{Net: num("10.0.4.0"), PTRs: 256}, // outside the view
	}
	img := decode(t, v, ModeDensity, cells, []uint32{num("10.0.3.0"), num("192.0.2.0")})
	want := map[string]string{
		"10.0.0.0": "#fde725/ff", // a full /24: the top of viridis
		"10.0.1.0": "#303040/ff", // scanned, no PTR
		"10.0.2.0": "#440456/ff", // one PTR: viridis at 1/128
		"10.0.3.0": "#ff00ff/ff", // highlighted, no data
	}
	for a, w := range want {
		pt, ok := v.Pixel(num(a))
		if !ok {
			t.Fatalf("%s not in %s", a, v)
		}
		if got := hex(img.At(pt.X, pt.Y)); got != w {
			t.Errorf("pixel of %s/24 at %v = %s, want %s", a, pt, got, w)
		}
	}
}

func TestRenderAggregates(t *testing.T) {
	// 10.0.0.0/16 at one pixel a /20: 4×4 pixels of sixteen /24s each.
	v, err := NewView(netip.MustParsePrefix("10.0.0.0/16"), 20)
	if err != nil {
		t.Fatal(err)
	}
	st := func(s sweep.Status, n uint16) Cell { return Cell{PTRs: n, Outcome: s} }
	blocks := map[string][]Cell{
		"10.0.0.0":  {st(sweep.StatusOK, 256), st(sweep.StatusNXDomain, 0)},                                               // mean 128
		"10.0.16.0": {st(sweep.StatusServFail, 0), st(sweep.StatusServFail, 0), st(sweep.StatusOK, 1)},                    // mean 1/3
		"10.0.32.0": {st(sweep.StatusTimeout, 0), st(sweep.StatusRefused, 0)},                                             // a tie
		"10.0.48.0": {st(sweep.StatusNoData, 0)},                                                                          // scanned, no PTR
		"10.0.64.0": {st(sweep.StatusOK, 200), st(sweep.StatusOK, 200), st(sweep.StatusOK, 200), st(sweep.StatusOK, 201)}, // mean 200.25
	}
	var cells []Cell
	for a, cs := range blocks {
		for i, c := range cs {
			c.Net = num(a) + uint32(i)*3 // spread inside the /20
			cells = append(cells, c)
		}
	}
	density := decode(t, v, ModeDensity, cells, nil)
	outcome := decode(t, v, ModeOutcome, cells, nil)
	wantDensity := map[string]color.RGBA{
		"10.0.0.0":  DensityColor(128),
		"10.0.16.0": DensityColor(1), // any PTR shows
		"10.0.32.0": DensityColor(0),
		"10.0.48.0": DensityColor(0),
		"10.0.64.0": DensityColor(201), // ceil(200.25 / 2) = 101 = ceil(201 / 2)
		"10.0.80.0": {0, 0, 0, 0xff},   // no data
	}
	wantOutcome := map[string]sweep.Status{
		"10.0.0.0":  sweep.StatusOK, // a tie: the first listed
		"10.0.16.0": sweep.StatusServFail,
		"10.0.32.0": sweep.StatusRefused, // a tie: refused is listed before timeout
		"10.0.48.0": sweep.StatusNoData,
		"10.0.64.0": sweep.StatusOK,
	}
	for a, w := range wantDensity {
		pt, _ := v.Pixel(num(a))
		if got := hex(density.At(pt.X, pt.Y)); got != hex(w) {
			t.Errorf("density pixel of %s/20 = %s, want %s", a, got, hex(w))
		}
	}
	for a, s := range wantOutcome {
		pt, _ := v.Pixel(num(a))
		w, _ := OutcomeColor(s)
		if got := hex(outcome.At(pt.X, pt.Y)); got != hex(w) {
			t.Errorf("outcome pixel of %s/20 = %s, want %s (%s)", a, got, hex(w), s)
		}
	}
	if got := hex(DensityColor(128)); got != "#21918c/ff" {
		t.Errorf("DensityColor(128) = %s, want the middle of viridis #21918c", got)
	}
}

func TestRenderErrors(t *testing.T) {
	v := Full()
	tests := []struct {
		name  string
		v     View
		m     Mode
		cells []Cell
		hl    []uint32
		want  string
	}{
		{"net", v, ModeDensity, []Cell{{Net: 1 << 24}}, nil, "cell number 16777216 is not a /24 number"},
		{"ptrs", v, ModeDensity, []Cell{{Net: 5, PTRs: 257}}, nil, "cell 0.0.5.0/24 has 257 PTRs"},
		{"twice", v, ModeDensity, []Cell{{Net: 5}, {Net: 6}, {Net: 5}}, nil, "cell 0.0.5.0/24 given twice"},
		{"outcome", v, ModeOutcome, []Cell{{Net: 5, Outcome: 0}}, nil, "cell 0.0.5.0/24 has outcome status(0)"},
		{"highlight", v, ModeDensity, nil, []uint32{1 << 24}, "highlight number 16777216"},
		{"mode", v, Mode(9), nil, nil, "unknown mode 9"},
		{"zero view", View{}, ModeDensity, nil, nil, "the zero View"},
	}
	for _, tt := range tests {
		_, err := Render(tt.v, tt.m, tt.cells, tt.hl)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: Render error = %v, want one containing %q", tt.name, err, tt.want)
		}
	}
	// The density mode ignores outcomes.
	if _, err := Render(v, ModeDensity, []Cell{{Net: 5, Outcome: 0}}, nil); err != nil {
		t.Errorf("Render(density) of a cell without outcome: %v", err)
	}
}

func TestModeAndLegend(t *testing.T) {
	for _, m := range []Mode{ModeDensity, ModeOutcome} {
		if got, err := ParseMode(m.String()); err != nil || got != m {
			t.Errorf("ParseMode(%q) = %v, %v", m.String(), got, err)
		}
	}
	if _, err := ParseMode("heat"); err == nil || !strings.Contains(err.Error(), "want density or outcome") {
		t.Errorf("ParseMode(heat) error = %v", err)
	}
	tests := []struct {
		m    Mode
		want string
	}{
		{ModeDensity, "no data #000000|0 PTRs per /24 #303040|1 PTRs per /24 #440456|64 PTRs per /24 #3b528b|" +
			"128 PTRs per /24 #21918c|192 PTRs per /24 #5ec962|256 PTRs per /24 #fde725|matches the query #ff00ff"},
		{ModeOutcome, "no data #000000|ok #2ca02c|nxdomain #3b4a6b|nodata #1f77b4|servfail #d62728|refused #ff7f0e|" +
			"timeout #9467bd|matches the query #ff00ff"},
	}
	for _, tt := range tests {
		var parts []string
		for _, s := range Legend(tt.m) {
			parts = append(parts, s.Label+" "+s.Color)
		}
		if got := strings.Join(parts, "|"); got != tt.want {
			t.Errorf("Legend(%s) =\n  %s\nwant\n  %s", tt.m, got, tt.want)
		}
	}
}
