// Package replication is Redis 7.0's master/replica replication for
// lagwise server: the backlog, the PSYNC decision, the replica's sync state
// machine and the framing of a full resync. The pure parts have no
// sockets: on the master, Backlog and Decide; on the replica,
// HandshakeCommands and ReadHandshakeReply, ReadPsyncReply,
// ReadTransferHeader and Transfer.Body, and StreamReader, which keeps the
// replica's offsets over the command stream. They read from a
// bufio.Reader the link owns; the server drives them and executes what
// the stream carries, so this package never runs a command itself.
//
// Offsets follow Redis: master_repl_offset counts every byte of the stream
// ever produced (or, on a replica, processed); the byte at offset N is the
// N-th byte, so a stream that holds offsets 1..N has "offset N", and a
// replica that has N asks for N+1.
package replication
