// Package lab is a synthetic reverse-DNS world with a known truth. It serves
// ptrsweep's integration tests, `make demo` and the benchmarks.
//
// A Lab is a pure, deterministic function of the address: New builds every
// record of one IPv4 /16 (by default 198.18.0.0/16, the IANA benchmarking
// range) up front, Expect and ExpectRecursive give what a correct sweep must
// find, Start serves the records from an in-process authoritative server
// (github.com/miekg/dns) and WriteZones writes them as RFC 1035 zone files for
// Knot DNS (see labproc to run Knot and Unbound).
//
// # Classes
//
// The class of a /24 is chosen by its third octet c, by c mod 16, so each
// class occurs 16 times (dense, sparse 32, empty 48) in the /16:
//
//	c%16  class     what the /24 serves
//	 0    dense     every address one PTR h-A-B-C-D.dense.lab.example
//	 1    sparse    about 1 address in 32 (always .1) has a PTR, the rest NXDOMAIN
//	 2    empty     the /24 name itself is NXDOMAIN: nothing below exists (RFC 8020)
//	 3    multi     every address 2–5 PTRs mI-A-B-C-D.multi.lab.example
//	 4    large     .0, .8, .16 … have 40 PTRs with 52-byte first labels (the answer
//	                exceeds 1232 bytes: UDP truncated with TC=1, full over TCP); the rest one PTR
//	 5    rfc2317   classless delegation: D.C.B.A.in-addr.arpa CNAME D.LO-HI.C.B.A.in-addr.arpa
//	                (LO-HI is 0-63, 64-127, 128-191 or 192-255); by D%8: 0–4 the target
//	                holds the PTR; 5 a 2-hop chain via D.hop.LO-HI…; 6 the target has only
//	                TXT (nodata); 7 the target does not exist (nxdomain)
//	 6    servfail  every name at or below the /24 answers SERVFAIL
//	 7    refused   every name at or below the /24 answers REFUSED
//	 8    silent    every query at or below the /24 is dropped, over UDP and TCP (timeout)
//	 9    nodata    every address has a TXT record and no PTR (NOERROR, empty answer, SOA)
//	10    odd       D%16==8: a PTR pointing at the root (stored as ".", forward outcome
//	                no_address without a lookup); D%16==9: a CNAME loop in the reverse
//	                zone (servfail); otherwise by D%8: 0 mixed case
//	                Host-D-C.MiXeD.Lab.Example; 1 a space in a label; 2 an escaped dot
//	                inside a label; 3 \ " ; ( ) @ ' in a label; 4 bytes ≥0x80 and <0x20;
//	                5 a 253-character name (255 bytes on the wire); 6 a numeric PTR
//	                "A.B.C.D"; 7 a 255-byte name of escaped bytes
//	11    fleet     D%8==1: scan-N.security.fleet.example (N 1–512, numbered across the
//	                16 fleet /24s); D%8==2: decoys x-N.notsecurity.fleet.example; in the
//	                first fleet /24 also .3 security.fleet.example, .4
//	                scan-1.security.fleet.example.evil.example, .5 x.notsecurity.fleet.example;
//	                all other addresses NXDOMAIN
//	12    dense
//	13    empty
//	14    sparse
//	15    empty
//
// # Forward zone (FCrDNS)
//
// Every PTR name except the numeric ones has a forward outcome. Names of the
// fleet, large, rfc2317 and odd classes confirm. Names of dense, sparse and
// multi are picked by a hash of address and index: 14 in 20 confirm (A is the
// address), 2 mismatch (A is the address with the last octet's high bit
// flipped), 1 has no name in the forward zone (NXDOMAIN), 1 has only a TXT
// record (NODATA) — both no_address — and 2 live in broken.example, a forward
// zone that answers SERVFAIL (error). Numeric PTR names are never looked up
// (numeric).
//
// # Zones and TTLs
//
// The lab serves the reverse zone of its /16 (B.A.in-addr.arpa) and the
// forward zones lab.example, fleet.example, evil.example and broken.example.
// Every record has TTL 3600 (TTL); SOA records have TTL and minimum 300
// (NegativeTTL), the TTL of nxdomain and nodata outcomes.
//
// Names outside the lab's zones are REFUSED by the in-process server.
//
// # The Internet world
//
// InternetExpect, InternetPTRs and StartInternet are a second world that
// answers for every IPv4 address with an Internet-like shape (see
// internet.go): `ptrlab serve --internet` serves it for `make rehearsal`.
package lab
