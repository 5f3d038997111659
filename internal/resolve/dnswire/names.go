package dnswire

// Names on the wire: walked, compared and decoded without miekg/dns.

// appendWire appends the name at off in uncompressed wire form.
func appendWire(dst []byte, pkt []byte, off int) ([]byte, bool) {
	ptrs := 0
	for {
		if off >= len(pkt) {
			return dst, false
		}
		c := int(pkt[off])
		switch c & 0xC0 {
		case 0x00:
			if off+1+c > len(pkt) || len(dst)+1+c > maxNameWire {
				return dst, false
			}
			dst = append(dst, pkt[off:off+1+c]...)
			if c == 0 {
				return dst, true
			}
			off += 1 + c
		case 0xC0:
			if off+1 >= len(pkt) {
				return dst, false
			}
			if ptrs++; ptrs > maxPointers {
				return dst, false
			}
			off = (c&0x3F)<<8 | int(pkt[off+1])
		default:
			return dst, false
		}
	}
}

// skipName returns the offset after the (possibly compressed) name at off,
// checking it as appendName does.
func skipName(pkt []byte, off int) (int, bool) {
	end, budget, ptrs := -1, maxNameWire, 0
	for {
		if off >= len(pkt) {
			return 0, false
		}
		c := int(pkt[off])
		off++
		switch c & 0xC0 {
		case 0x00:
			if c == 0 {
				if end < 0 {
					end = off
				}
				return end, true
			}
			if off+c > len(pkt) {
				return 0, false
			}
			if budget -= c + 1; budget <= 0 {
				return 0, false
			}
			off += c
		case 0xC0:
			if off >= len(pkt) {
				return 0, false
			}
			if end < 0 {
				end = off + 1
			}
			if ptrs++; ptrs > maxPointers {
				return 0, false
			}
			off = (c&0x3F)<<8 | int(pkt[off])
		default:
			return 0, false
		}
	}
}

// appendName appends the name at off in canonical presentation form: as
// miekg/dns writes it (special bytes backslash-escaped, bytes outside
// 0x20–0x7E as \DDD), ASCII letters lower-cased, no trailing dot, the root
// as ".".
func appendName(dst []byte, pkt []byte, off int) ([]byte, bool) {
	start, budget, ptrs := len(dst), maxNameWire, 0
	for {
		if off >= len(pkt) {
			return dst, false
		}
		c := int(pkt[off])
		off++
		switch c & 0xC0 {
		case 0x00:
			if c == 0 {
				if len(dst) == start {
					return append(dst, '.'), true
				}
				return dst, true
			}
			if off+c > len(pkt) {
				return dst, false
			}
			if budget -= c + 1; budget <= 0 {
				return dst, false
			}
			if len(dst) > start {
				dst = append(dst, '.')
			}
			for _, b := range pkt[off : off+c] {
				switch {
				case b == '.' || b == ' ' || b == '\'' || b == '@' || b == ';' || b == '(' || b == ')' || b == '"' || b == '\\':
					dst = append(dst, '\\', b)
				case b < ' ' || b > '~':
					dst = append(dst, '\\', '0'+b/100, '0'+b/10%10, '0'+b%10)
				default:
					dst = append(dst, lower(b))
				}
			}
			off += c
		case 0xC0:
			if off >= len(pkt) {
				return dst, false
			}
			if ptrs++; ptrs > maxPointers {
				return dst, false
			}
			off = (c&0x3F)<<8 | int(pkt[off])
		default:
			return dst, false
		}
	}
}

// ownerIs reports whether the name at off in pkt is the question name of q
// (uncompressed wire form), ignoring ASCII case.
func ownerIs(pkt []byte, off int, q []byte) bool {
	qi, ptrs := 0, 0
	for {
		if off >= len(pkt) {
			return false
		}
		c := int(pkt[off])
		switch c & 0xC0 {
		case 0x00:
			if qi >= len(q) || int(q[qi]) != c || off+1+c > len(pkt) {
				return false
			}
			if c == 0 {
				return true
			}
			for j := 0; j < c; j++ {
				if lower(pkt[off+1+j]) != lower(q[qi+1+j]) {
					return false
				}
			}
			off += 1 + c
			qi += 1 + c
		case 0xC0:
			if off+1 >= len(pkt) {
				return false
			}
			if ptrs++; ptrs > maxPointers {
				return false
			}
			off = (c&0x3F)<<8 | int(pkt[off+1])
		default:
			return false
		}
	}
}
