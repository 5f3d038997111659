// Package bench is ptrsweep's benchmark harness (`make bench`, cmd/ptrbench):
// a synthetic reverse-DNS space served by Knot DNS on 127.0.0.1, measured
// with dnsperf as the ceiling, then with the engine alone (`worker
// resolve`) and the whole pipeline (`coordinator sweep`: embedded NATS
// JetStream, in-process workers, ClickHouse inserts), every answer checked
// against the generated truth.
//
// # The space
//
// A Space is the DNS lab's big world (lab.Big): the first N addresses (a
// multiple of 256) of an IPv4 prefix, by default 1,048,576 addresses of
// 10.0.0.0/12. Its records are a pure, deterministic function of the
// address (lab.BigExpect), so the truth is never stored: 1 /24 in 16 is
// empty (its name answers NXDOMAIN, so a pruning resolver skips its 256
// addresses); of the other addresses, picked by the lab's hash, about
// 70% have one PTR, 5% two and 25% none. So about 65.6% of the addresses
// have one PTR, 4.7% two and 29.7% are NXDOMAIN; Stats gives the exact
// counts of a Space. The addresses are only names in the zones: every
// query goes to Knot on 127.0.0.1.
//
// One zone per /16 (B.A.in-addr.arpa) is written as an RFC 1035 zone file.
// The dnsperf query list holds every address's PTR name once, in an order
// shuffled with a fixed seed (massdns gets the same names without " PTR").
// The engine is given the same addresses three ways: the space's /24s, one
// address a line (the dnsperf order), and a shuffled mix of /24s, /26s,
// ranges, addresses and reverse names (WriteMix). massdns is measured as
// a peer when Config.MassDNS names its binary; the repository holds
// neither its code nor a recipe that builds it.
package bench
