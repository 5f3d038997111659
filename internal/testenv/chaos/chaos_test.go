package chaos

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/ptrsweep/ptrsweep/internal/testenv"
	"github.com/ptrsweep/ptrsweep/internal/testenv/lab"
)

func TestSelect(t *testing.T) {
	tests := []struct {
		list    string
		want    string
		wantErr bool
	}{
		{"", "1,2,3,4,5,6a,6b,7,8", false},
		{"1,2,5", "1,2,5", false},
		{"6", "6a,6b", false},
		{" 6b , 7", "6b,7", false},
		{"9", "", true},
	}
	for _, tt := range tests {
		got, err := Select(tt.list)
		if (err != nil) != tt.wantErr {
			t.Errorf("Select(%q) error = %v, want error %v", tt.list, err, tt.wantErr)
			continue
		}
		if tt.wantErr {
			if !errors.Is(err, ErrUnknownScenario) {
				t.Errorf("Select(%q) error = %v, want ErrUnknownScenario", tt.list, err)
			}
			continue
		}
		var ids []string
		for _, s := range got {
			ids = append(ids, s.ID)
		}
		if g := strings.Join(ids, ","); g != tt.want {
			t.Errorf("Select(%q) = %s, want %s", tt.list, g, tt.want)
		}
	}
}

// TestHostileNeverAnswers checks that no reply of the hostile server is a
// usable answer: right ID, same question, not truncated.
func TestHostileNeverAnswers(t *testing.T) {
	l, err := lab.New(lab.DefaultSpace)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	good, err := lab.Start(ctx, l, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer good.Close()
	h, err := StartHostile("127.0.0.1:0", good.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	c := dns.Client{Net: "udp", Timeout: 200 * time.Millisecond}
	usable := 0
	for i := range 16 {
		q := new(dns.Msg)
		q.SetQuestion(dns.Fqdn(strconv.Itoa(i)+".0.18.198.in-addr.arpa"), dns.TypePTR)
		m, _, err := c.Exchange(q, h.Addr)
		if err == nil && m.Id == q.Id && !m.Truncated && len(m.Question) == 1 && strings.EqualFold(m.Question[0].Name, q.Question[0].Name) {
			usable++
		}
	}
	if usable != 0 {
		t.Errorf("hostile server gave %d usable answers of 16, want 0", usable)
	}
	var total uint64
	for _, n := range h.Stats() {
		total += n
	}
	if total != 16 {
		t.Errorf("hostile server counted %d queries, want 16", total)
	}
}

// TestQuickScenarios runs scenarios 1, 2, 5 and 8 in quick mode with real
// processes: a private clickhouse-server, nats-server, ptrlab, workers.
func TestQuickScenarios(t *testing.T) {
	if testing.Short() {
		t.Skip("runs real processes for about a minute; skipped with -short")
	}
	chBin, err := FindClickHouse()
	testenv.Require(t, "clickhouse-server (the chaos scenarios run a private one)", err)
	bin := testenv.BuildCommands(t, true, "coordinator", "worker", "ptrlab")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	h, err := New(ctx, Config{Bin: bin, ClickHouseServer: chBin, Quick: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := h.Close(); err != nil {
			t.Error(err)
		}
	})
	scenarios, err := Select("1,2,5,8")
	if err != nil {
		t.Fatal(err)
	}
	var results []Result
	for _, s := range scenarios {
		results = append(results, h.Run(ctx, s))
	}
	var b strings.Builder
	if err := WriteTable(&b, results, true); err != nil {
		t.Fatal(err)
	}
	t.Log("\n" + b.String())
	for _, r := range results {
		if !r.Pass {
			t.Errorf("scenario %s %s failed: missing %d, duplicates %d, foreign %d, err %v, notes %q",
				r.ID, r.Name, r.Missing, r.Duplicates, r.Foreign, r.Err, r.Notes)
		}
	}
}
