package replication

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/lagwise/lagwise/backend/resp"
)

// ProtocolError is a master that broke the replication protocol: a reply,
// header or stream that cannot be parsed. The link drops the connection;
// after a broken command stream it also forgets the master's history (as
// Redis discards its cached master), so the next sync is a full one.
type ProtocolError struct{ Msg string }

func (e *ProtocolError) Error() string { return "replication: " + e.Msg }

// MasterError is an error reply that ends a sync attempt: the link closes
// the connection and tries again later, as Redis does.
type MasterError struct {
	To    string // what the master was answering: "PING", "AUTH", "SYNC"
	Reply string // the line as received, e.g. "-NOPERM ..."
}

func (e *MasterError) Error() string {
	return "replication: master replied to " + e.To + ": " + e.Reply
}

// MaxLine bounds a reply or header line of the master. Redis reads these
// lines into 256- and 1024-byte buffers and cuts longer ones; lagwise
// refuses them.
const MaxLine = 1024

var errLineTooLong = &ProtocolError{fmt.Sprintf("a reply line of the master is longer than %d bytes", MaxLine)}

// readLine reads one line the way Redis's syncReadLine does: up to "\n",
// without it and without a "\r" before it. The slice aliases r's buffer
// (or, when the line is longer than that buffer, a fresh copy) and is
// valid until the next read from r. The connection ending before "\n" is
// io.ErrUnexpectedEOF.
func readLine(r *bufio.Reader) ([]byte, error) {
	line, err := r.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		long := append([]byte(nil), line...)
		for errors.Is(err, bufio.ErrBufferFull) && len(long) <= MaxLine {
			line, err = r.ReadSlice('\n')
			long = append(long, line...)
		}
		line = long
	}
	if err != nil {
		if errors.Is(err, bufio.ErrBufferFull) {
			return nil, errLineTooLong
		}
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	line = line[:len(line)-1]
	if len(line) > 0 && line[len(line)-1] == '\r' {
		line = line[:len(line)-1]
	}
	if len(line) > MaxLine {
		return nil, errLineTooLong
	}
	return line, nil
}

// PsyncResult is what the master's answer to PSYNC tells the replica to do.
type PsyncResult int

const (
	// FullResync: +FULLRESYNC <replid> <offset>; a snapshot follows
	// (ReadTransferHeader), then the stream from offset+1.
	FullResync PsyncResult = iota + 1
	// Continue: +CONTINUE [<replid>]; the stream continues at once from
	// the offset the replica asked for.
	Continue
	// TryLater: -NOMASTERLINK or -LOADING; the master cannot serve a sync
	// now. Close the connection and retry the handshake later.
	TryLater
	// NotSupported: any other reply (-ERR from a master that does not know
	// PSYNC, or something unexpected); Redis falls back to SYNC on the same
	// connection, whose answer is the transfer header directly.
	NotSupported
)

func (r PsyncResult) String() string {
	switch r {
	case FullResync:
		return "FULLRESYNC"
	case Continue:
		return "CONTINUE"
	case TryLater:
		return "try later"
	case NotSupported:
		return "PSYNC not supported"
	}
	return fmt.Sprintf("PsyncResult(%d)", int(r))
}

// PsyncReply is the master's answer to PSYNC.
type PsyncReply struct {
	Result PsyncResult
	// ReplID is the master's replication ID with FullResync; with Continue
	// the ID it announced, which may be new after a failover (the replica
	// then keeps its old ID as replid2), or "" from a master older than
	// PSYNC2 that announces none.
	ReplID string
	// Offset, with FullResync, is the offset of the snapshot: the stream
	// that follows it starts at Offset+1.
	Offset int64
	// Line is the reply as received with TryLater and NotSupported, for
	// the log.
	Line string
}

// ReadPsyncReply reads the master's answer to PSYNC, skipping the empty
// keep-alive lines ("\n") a master may send before it, as
// slaveTryPartialResynchronization does. The replication IDs must be
// exactly 40 characters and the offset a non-negative integer; a
// malformed +FULLRESYNC or +CONTINUE is a *ProtocolError (Redis itself
// goes on with a blanked ID or ignores the new one; lagwise drops the
// connection and retries instead).
func ReadPsyncReply(r *bufio.Reader) (PsyncReply, error) {
	for {
		line, err := readLine(r)
		if err != nil {
			return PsyncReply{}, err
		}
		if len(line) > 0 {
			return parsePsyncReply(line)
		}
	}
}

func parsePsyncReply(line []byte) (PsyncReply, error) {
	switch {
	case bytes.HasPrefix(line, []byte("+FULLRESYNC")):
		rest, ok := bytes.CutPrefix(line[len("+FULLRESYNC"):], []byte(" "))
		id, off, ok2 := bytes.Cut(rest, []byte(" "))
		if !ok || !ok2 || len(id) != IDLen {
			return PsyncReply{}, &ProtocolError{fmt.Sprintf("master replied with wrong +FULLRESYNC syntax: %q", line)}
		}
		n, ok := resp.ParseInt(off)
		if !ok || n < 0 {
			return PsyncReply{}, &ProtocolError{fmt.Sprintf("master replied with a bad offset to PSYNC: %q", line)}
		}
		return PsyncReply{Result: FullResync, ReplID: string(id), Offset: n}, nil
	case bytes.HasPrefix(line, []byte("+CONTINUE")):
		rest := line[len("+CONTINUE"):]
		if len(rest) == 0 {
			return PsyncReply{Result: Continue}, nil
		}
		if id, ok := bytes.CutPrefix(rest, []byte(" ")); ok && len(id) == IDLen && bytes.IndexByte(id, ' ') < 0 {
			return PsyncReply{Result: Continue, ReplID: string(id)}, nil
		}
		return PsyncReply{}, &ProtocolError{fmt.Sprintf("master replied with wrong +CONTINUE syntax: %q", line)}
	case bytes.HasPrefix(line, []byte("-NOMASTERLINK")), bytes.HasPrefix(line, []byte("-LOADING")):
		return PsyncReply{Result: TryLater, Line: string(line)}, nil
	}
	return PsyncReply{Result: NotSupported, Line: string(line)}, nil
}
