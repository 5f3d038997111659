package resolve

import "testing"

// BenchmarkWindowSlot is one address's window bookkeeping on the fast
// path: take a slot, record the answer, give the slot back.
func BenchmarkWindowSlot(b *testing.B) {
	win := newWindow(DefaultConcurrency)
	b.ReportAllocs()
	for b.Loop() {
		if !win.tryAcquire() {
			b.Fatal("no slot")
		}
		win.answered()
		win.release()
	}
}
