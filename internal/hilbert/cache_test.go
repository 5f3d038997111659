package hilbert

import (
	"net/netip"
	"testing"
)

func TestCache(t *testing.T) {
	v8, err := NewView(netip.MustParsePrefix("10.0.0.0/8"), 24)
	if err != nil {
		t.Fatal(err)
	}
	key := func(data string) Key { return Key{View: v8, Mode: ModeDensity, Data: data} }
	c := NewCache(10)
	c.Add(key("a"), []byte("aaaa"))
	c.Add(key("b"), []byte("bbbb"))
	if got, ok := c.Get(key("a")); !ok || string(got) != "aaaa" { // a is now the most recent
		t.Fatalf("Get(a) = %q, %v", got, ok)
	}
	c.Add(key("c"), []byte("cccc")) // 12 bytes > 10: b, the least recent, goes
	if _, ok := c.Get(key("b")); ok {
		t.Errorf("b still cached after c pushed the cache over its budget")
	}
	for _, k := range []string{"a", "c"} {
		if _, ok := c.Get(key(k)); !ok {
			t.Errorf("%s evicted; only b should be", k)
		}
	}
	c.Add(key("a"), []byte("AA")) // replacing frees the old bytes
	c.Add(key("d"), []byte("dddd"))
	if got, ok := c.Get(key("a")); !ok || string(got) != "AA" || c.Len() != 3 {
		t.Errorf("after replacing a: Get(a) = %q, %v; Len = %d, want AA, true, 3", got, ok, c.Len())
	}
	c.Add(key("big"), make([]byte, 11)) // larger than the budget: not stored, nothing evicted
	if _, ok := c.Get(key("big")); ok || c.Len() != 3 {
		t.Errorf("an entry over the budget was stored (Len %d)", c.Len())
	}
	other := Key{View: Full(), Mode: ModeDensity, Data: "a"}
	if _, ok := c.Get(other); ok {
		t.Errorf("Get of another view hit the entry of %s", v8)
	}
	if _, ok := c.Get(Key{View: v8, Mode: ModeOutcome, Data: "a"}); ok {
		t.Errorf("Get of another mode hit")
	}
	if _, ok := c.Get(Key{View: v8, Mode: ModeDensity, Data: "a", Highlight: "q"}); ok {
		t.Errorf("Get of another highlight hit")
	}
}
