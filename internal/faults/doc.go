// Package faults holds the fault tests of durable work (issue 8): replicas
// killed with SIGKILL or stopped with SIGTERM under load, Redis restarted or
// unreachable, the chat platform answering 429 and 500. Each test prints its
// figures (in flight, lost, duplicated, recovery time) with t.Logf.
//
// The tests share a fake chat platform served over HTTP by the test process
// and a channel adapter for it ("plat"), so replicas running as separate
// processes (the test binary re-executed with FAULTS_REPLICA set) and
// in-process engines talk to the same platform. The platform redelivers an
// event that is not acknowledged in time, as Slack does, and drops a post
// whose idempotency key (bot.SendKey) it has seen, as a nonce-checking
// platform does; it counts such resends separately.
package faults
