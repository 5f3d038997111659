// Package e2e holds ptrsweep's end-to-end tests: whole sweeps on embedded
// JetStream, the real ClickHouse and the DNS lab (in-process, and Knot behind
// Unbound), compared address by address with the lab's truth. It has no
// non-test code.
package e2e
