// Package replication is Redis 7.0's master/replica replication for
// lagwise server: the backlog, the PSYNC decision, the replica's sync state
// machine and the framing of a full resync. The pure parts (Backlog,
// Decide, the framing parsers) have no I/O; the server drives them and
// executes what the stream carries, so this package never runs a command
// itself.
//
// Offsets follow Redis: master_repl_offset counts every byte of the stream
// ever produced (or, on a replica, processed); the byte at offset N is the
// N-th byte, so a stream that holds offsets 1..N has "offset N", and a
// replica that has N asks for N+1.
package replication
