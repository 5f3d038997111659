package hilbert

import (
	"container/list"
	"sync"
)

// Key identifies a rendered map: the view, the mode, the version of the data
// it was drawn from (chosen by the caller, such as the scan and its count of
// stored units: any change of data must change it) and the highlight (such
// as the canonical query text).
type Key struct {
	View      View
	Mode      Mode
	Data      string
	Highlight string
}

// Cache keeps rendered PNGs, least recently used first out, within a byte
// budget. It is safe for concurrent use; the zero value is not usable: make
// one with NewCache. Stored slices must not be modified.
type Cache struct {
	mu       sync.Mutex
	maxBytes int
	bytes    int
	order    *list.List // of *entry, most recently used at the front
	entries  map[Key]*list.Element
}

type entry struct {
	key Key
	png []byte
}

// NewCache returns a cache holding at most maxBytes bytes of PNG.
func NewCache(maxBytes int) *Cache {
	return &Cache{maxBytes: maxBytes, order: list.New(), entries: make(map[Key]*list.Element)}
}

// Get returns the PNG stored under k and marks it recently used.
func (c *Cache) Get(k Key) ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[k]
	if !ok {
		return nil, false
	}
	c.order.MoveToFront(e)
	return e.Value.(*entry).png, true
}

// Add stores png under k, replacing what k held, and evicts the least
// recently used entries beyond the budget. A PNG larger than the whole
// budget is not stored.
func (c *Cache) Add(k Key, png []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.entries[k]; ok {
		c.remove(e)
	}
	if len(png) > c.maxBytes {
		return
	}
	c.entries[k] = c.order.PushFront(&entry{k, png})
	c.bytes += len(png)
	for c.bytes > c.maxBytes {
		c.remove(c.order.Back())
	}
}

// Len returns the number of stored PNGs.
func (c *Cache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries)
}

func (c *Cache) remove(e *list.Element) {
	en := c.order.Remove(e).(*entry)
	delete(c.entries, en.key)
	c.bytes -= len(en.png)
}
