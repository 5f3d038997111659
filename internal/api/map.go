package api

import (
	"bytes"
	"fmt"
	"image"
	"net/http"
	"net/netip"
	"strconv"

	"github.com/ptrsweep/ptrsweep/internal/cidr"
	"github.com/ptrsweep/ptrsweep/internal/hilbert"
	"github.com/ptrsweep/ptrsweep/internal/store"
	"github.com/ptrsweep/ptrsweep/internal/sweep"
)

// MaxViewBits is the longest view prefix the map accepts: a /16 is 16×16
// pixels of one /24 each.
const MaxViewBits = 16

// pixelBits is the pixel size of the map of a view of prefix length bits:
// about 1024 pixels a side at /0 to /4, then one pixel a /24.
func pixelBits(bits int) int {
	return min(hilbert.FullBits, (bits+20)&^1)
}

// parseView reads the view parameter (default 0.0.0.0/0); on error it
// answers 400 and returns false.
func parseView(w http.ResponseWriter, r *http.Request) (hilbert.View, bool) {
	s := r.URL.Query().Get("view")
	if s == "" {
		s = "0.0.0.0/0"
	}
	p, err := netip.ParsePrefix(s)
	if err == nil && (!p.Addr().Is4() || p.Bits() > MaxViewBits) {
		err = fmt.Errorf("want an IPv4 CIDR from /0 to /%d", MaxViewBits)
	}
	var v hilbert.View
	if err == nil {
		v, err = hilbert.NewView(p, pixelBits(p.Bits()))
	}
	if err != nil {
		writeError(w, http.StatusBadRequest, "view "+quoteName(s)+": "+err.Error())
		return hilbert.View{}, false
	}
	return v, true
}

// parseMode reads the mode parameter (default density).
func parseMode(w http.ResponseWriter, r *http.Request) (hilbert.Mode, bool) {
	s := r.URL.Query().Get("mode")
	if s == "" {
		s = "density"
	}
	m, err := hilbert.ParseMode(s)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return 0, false
	}
	return m, true
}

// viewRange returns the first and last address number of a view.
func viewRange(v hilbert.View) (lo, hi uint32) {
	lo = cidr.AddrToUint32(v.Prefix().Addr())
	return lo, lo | uint32(uint64(1)<<(32-v.Prefix().Bits())-1)
}

func (s *Server) handleMap(w http.ResponseWriter, r *http.Request) {
	v, ok := parseView(w, r)
	if !ok {
		return
	}
	m, ok := parseMode(w, r)
	if !ok {
		return
	}
	key := hilbert.Key{View: v, Mode: m}
	var highlight func() ([]uint32, error)
	lo, hi := viewRange(v)
	if src := r.URL.Query().Get("query"); src != "" {
		n, where, ok := compileQuery(w, src)
		if !ok {
			return
		}
		key.Highlight = n.String()
		highlight = func() ([]uint32, error) {
			return s.cfg.Store.MatchingNets(r.Context(), where, lo, hi, maxHighlightNets, s.cfg.Limits)
		}
	}
	var err error
	if key.Data, err = s.cfg.Store.DataVersion(r.Context()); err != nil {
		s.storeError(w, r, "map", err)
		return
	}
	png, hit := s.maps.Get(key)
	if !hit {
		if png, err = s.render(r, v, m, lo, hi, highlight); err != nil {
			s.storeError(w, r, "map", err)
			return
		}
		s.maps.Add(key, png)
	}
	w.Header().Set("Content-Type", "image/png")
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("X-Map-Cache", map[bool]string{true: "hit", false: "miss"}[hit])
	w.Header().Set("X-Map-Pixel", "/"+strconv.Itoa(v.PixelBits()))
	_, _ = w.Write(png)
}

// render draws a map: per-/24 cells from the store's aggregation, the
// query's /24s highlighted.
func (s *Server) render(r *http.Request, v hilbert.View, m hilbert.Mode, lo, hi uint32, highlight func() ([]uint32, error)) ([]byte, error) {
	outs, err := s.cfg.Store.NetOutcomes(r.Context(), lo, hi, s.cfg.Limits)
	if err != nil {
		return nil, err
	}
	cells := cellsOf(outs)
	var hl []uint32
	if highlight != nil {
		if hl, err = highlight(); err != nil {
			return nil, err
		}
	}
	img, err := hilbert.Render(v, m, cells, hl)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	if err := hilbert.EncodePNG(&b, img); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// cellsOf turns per-(/24, outcome) counts, ordered by /24, into cells: PTRs
// is the number of ok addresses, Outcome the most frequent outcome (on a
// tie the one listed first in sweep.Statuses).
func cellsOf(outs []store.NetOutcome) []hilbert.Cell {
	var cells []hilbert.Cell
	var best uint32
	for i, o := range outs {
		if i == 0 || o.Net != outs[i-1].Net {
			cells = append(cells, hilbert.Cell{Net: o.Net, Outcome: o.Status})
			best = 0
		}
		c := &cells[len(cells)-1]
		if o.Status == sweep.StatusOK {
			c.PTRs = uint16(min(o.Addresses, 256))
		}
		if o.Addresses > best || o.Addresses == best && o.Status < c.Outcome {
			c.Outcome, best = o.Status, o.Addresses
		}
	}
	return cells
}

// LegendResponse is the answer of GET /api/v1/map/legend.
type LegendResponse struct {
	Mode     string           `json:"mode"`
	Swatches []hilbert.Swatch `json:"swatches"`
}

func (s *Server) handleLegend(w http.ResponseWriter, r *http.Request) {
	m, ok := parseMode(w, r)
	if !ok {
		return
	}
	writeJSON(w, http.StatusOK, LegendResponse{Mode: m.String(), Swatches: hilbert.Legend(m)})
}

// BlockResponse is the answer of GET /api/v1/map/block.
type BlockResponse struct {
	// Pixel is the block one pixel of the view covers.
	Pixel string `json:"pixel"`
	// Zoom is the block of the asked prefix length (bits) holding it, the
	// view to show next; at most the pixel's block.
	Zoom string `json:"zoom"`
}

func (s *Server) handleBlock(w http.ResponseWriter, r *http.Request) {
	v, ok := parseView(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	x, errX := strconv.Atoi(q.Get("x"))
	y, errY := strconv.Atoi(q.Get("y"))
	bits, errB := strconv.Atoi(q.Get("bits"))
	if errX != nil || errY != nil || errB != nil || bits < 0 || bits > MaxViewBits {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("want integer x and y (pixels of the view's image) and bits (0 to %d)", MaxViewBits))
		return
	}
	pix, ok := v.Block(image.Pt(x, y))
	if !ok {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("pixel (%d,%d) is outside the view %s (%v)", x, y, v.Prefix(), v.Bounds().Max))
		return
	}
	zoom := pix
	if bits < pix.Bits() {
		zoom = netip.PrefixFrom(pix.Addr(), bits).Masked()
	}
	writeJSON(w, http.StatusOK, BlockResponse{Pixel: pix.String(), Zoom: zoom.String()})
}
