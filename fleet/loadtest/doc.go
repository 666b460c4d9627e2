// Package loadtest measures the fleet server under many simulated kiosks
// (`make loadtest`; a short form in `make bench`). Each kiosk keeps its
// own TLS connection, pinned to the fleet's certificate as an agent does,
// and reports on its interval with the agent's queue: a report is made,
// sent, and kept until the fleet accepts it. The fleet runs as real
// `fleet serve` processes (built from this tree): one on SQLite, then two
// replicas on one PostgreSQL 15 started by the test, with the kiosks split
// between them; beside them the same kiosks hit a bare net/http handler
// that only decodes and answers, for the ratio.
//
// Each run prints the reports per second it got against those offered,
// the latency of the requests (p50, p99), reports lost (made but never
// accepted) and stored (counted in the database), 5xx answers, the
// servers' resident memory and CPU, the load generator's CPU and the
// machine's load average before and after. Then it raises the number of
// kiosks until the fleet no longer holds (p99 over 100 ms, a report lost,
// a 5xx, or fewer reports than offered): the knee. From the knee it
// projects 100,000 kiosks at a 30 s interval.
//
// Everything is on loopback; every loop is bounded in count and time.
package loadtest
