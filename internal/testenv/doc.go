// Package testenv is the root of ptrsweep's test harness: the DNS lab, its
// real servers, the chaos scenarios, the benchmark, test certificates and
// test databases live in the packages below it. Product code never imports
// any of it (internal/arch checks that); tests and the harness commands
// (cmd/ptrlab, cmd/ptrbench, cmd/ptrchaos) do.
//
// This package holds the helpers every part of the harness shares: a child
// process with its log, readiness waits and a stop that reaps it (Proc),
// a free loopback port (FreePort), and the rule for missing dependencies
// (Require: under CI=true a missing dependency fails, never skips).
package testenv
