// Package e2e holds lagwise's black-box tests. They build the real lagwise
// binary, start it next to a real redis-server 7.0 on free local ports, send
// both servers the same commands over plain TCP and compare the raw RESP
// replies byte for byte.
//
// The persistence tests (persistence_test.go) move RDB files between
// Redis and lagwise in both directions, check files with redis-check-rdb,
// stop servers with SHUTDOWN and SIGTERM, and kill lagwise in the middle
// of a BGSAVE.
//
// replica_stream_test.go plays master to a redis-server replica and checks
// package replication's replica side (handshake, offsets, GETACK answers)
// against what Redis does with the same bytes.
//
// replication_test.go runs lagwise servers (and redis-servers) as masters,
// replicas and chains of them: the replication spec's seed scenarios,
// PSYNC2, the stream's exact bytes, WAIT and min-replicas, interop with
// Redis, a bad master, and a randomized run. LAGWISE_REPL_SEED repeats a
// randomized run.
//
// Run them from the module root:
//
//	go test ./e2e/ -run Differential -v -count=1
//
// Environment:
//
//	CI=true                       a missing redis-server fails the tests instead of skipping them
//	LAGWISE_DIFF_AGAINST=redis    compare against a second redis-server instead of lagwise;
//	                              the lagwise binary is not built. With two Redis servers the
//	                              differential run must report zero mismatches, which checks
//	                              that the command list is deterministic and its
//	                              normalisations are right.
//	LAGWISE_DIFF_VERBOSE=1        log every command of the differential run with both replies
//	LAGWISE_REPL_SEED=n           the seed of TestReplRandomized (logged by every run)
//
// The command list and its normalisation rules are in testdata/differential.txt.
package e2e
