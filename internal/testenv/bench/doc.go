// Package bench is ptrsweep's benchmark harness (`make bench`, cmd/ptrbench):
// a synthetic reverse-DNS space served by Knot DNS on 127.0.0.1, measured
// with dnsperf as the ceiling, then with the engine alone (`worker
// resolve`) and the whole pipeline (`coordinator sweep`: embedded NATS
// JetStream, in-process workers, ClickHouse inserts), every answer checked
// against the generated truth.
//
// # The space
//
// A Space is the first N addresses (a multiple of 256) of an IPv4 prefix,
// by default 1,048,576 addresses of 10.0.0.0/12. Its records are a pure,
// deterministic function of the address, so the truth is never stored:
//
//   - A /24 whose third octet c has c%16 == 15 is empty: nothing below
//     c.b.a.in-addr.arpa exists, so the /24's name answers NXDOMAIN and a
//     pruning resolver (RFC 8020) skips its 256 addresses. That is 1 /24 in
//     16 (6.25% of the addresses).
//   - Every other address is picked by h = splitmix64(address) % 100:
//     h < 70 one PTR, h-A-B-C-D.rB.bench.example; 70 ≤ h < 75 two PTRs,
//     that name and alias-D.cC.bB.aA.bench.example; h ≥ 75 none (the
//     address's name answers NXDOMAIN).
//
// So about 65.6% of the addresses have one PTR, 4.7% two and 29.7% are
// NXDOMAIN; Stats gives the exact counts of a Space. The addresses are
// only names in the zones: every query goes to Knot on 127.0.0.1.
//
// One zone per /16 (B.A.in-addr.arpa) is written as an RFC 1035 zone file.
// The dnsperf query list holds every address's PTR name once, in an order
// shuffled with a fixed seed; the engine is given the space's /24s in an
// order shuffled with the same seed.
package bench
