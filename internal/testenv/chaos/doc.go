// Package chaos runs ptrsweep's fault scenarios against real processes: a
// private clickhouse-server, a nats-server with JetStream on disk, the DNS
// lab (ptrlab), worker processes and coordinator commands. Each scenario
// sweeps a part of the lab, injects one kind of fault (SIGKILL, SIGTERM, a
// ClickHouse or NATS outage, a dead or hostile resolver, a unit that keeps
// failing) and compares what `coordinator export` stored with the lab's
// truth: expected rows, stored rows, missing, duplicated and foreign rows,
// and how long the sweep took to recover.
//
// A Harness owns every process and directory it creates; Close ends the
// processes (by PID) and removes the directories, also after a failure.
// cmd/ptrchaos is the command line; `go test ./internal/testenv/chaos` runs the
// quick mode.
//
// DNS traffic goes to 127.0.0.0/8 only: the lab servers and the hostile
// server listen on 127.0.0.2–127.0.0.4.
package chaos
