package replication

import (
	"errors"
	"io"
	"strconv"

	"github.com/lagwise/lagwise/backend/resp"
)

// MaxStreamBulk bounds one argument of the master's stream (1 TiB). Redis
// does not apply proto-max-bulk-len to its master; this is only a guard
// against lengths that overflow. Memory grows with the bytes actually
// received, never with a length that is only announced.
const MaxStreamBulk = 1 << 40

const (
	streamBufSize  = 16 << 10 // first buffer
	streamReadMin  = 4 << 10  // the least free space a read is given
	streamShrinkAt = 1 << 20  // an empty buffer larger than this is dropped
)

var errInline = &ProtocolError{"master using the inline protocol. Desync?"}

// Command is one complete command of the master's stream. Its slices alias
// the StreamReader's buffer: they are valid until the next call to Next.
type Command struct {
	// Argv is the command's arguments.
	Argv [][]byte
	// Raw is the command's bytes exactly as received.
	Raw []byte
	// Applied is the stream bytes this command makes processed, to be fed
	// to the replica's backlog and its own replicas (Redis's
	// replicationFeedStreamFromMasterStream): empty inside MULTI, the
	// whole block at EXEC, and any keep-alive newlines or empty requests
	// before the command. len(Applied) == Offset - Before.
	Applied []byte
	// Offset is the replica's processed offset (slave_repl_offset) once
	// the command is applied.
	Offset int64
	// Before is the processed offset before the command: what the replica
	// answers to REPLCONF GETACK with REPLCONF ACK (see IsGetAck).
	Before int64
}

// StreamReader parses the master's command stream and keeps the
// replica's offsets, the way Redis's master client does (verified against
// redis-server 7.0 as a replica of a scripted master):
//
//   - The processed offset advances only when a command is complete, by
//     all the bytes since the previous advance: the command's and those of
//     anything before it that was not a command.
//   - Between MULTI and EXEC (or DISCARD) it does not advance; at the end
//     of the block it advances by the whole block, MULTI included. Only
//     these commands without arguments begin and end a block (with
//     arguments they fail their arity check and change nothing); a
//     master never sends RESET, which Redis refuses to run for its master
//     client. The executor must follow the same rule.
//   - A lone "\n" or "\r\n" (a keep-alive) and an empty request ("*0",
//     "*-1") are not commands: they count toward the read offset at once
//     and toward the processed offset with the next command. A real 7.0
//     master sends newlines only before the snapshot, but a replica
//     accepts them in the stream.
//   - Any other inline (non-RESP) request is a *ProtocolError, as Redis's
//     "Master using the inline protocol. Desync?": the link drops the
//     connection and the master's history, so the next sync is a full one.
//   - REPLCONF GETACK is answered with the offset before it (Before); the
//     GETACK's own bytes count once it is applied, like any command.
//
// If the link breaks inside a MULTI block, the block is lost with the
// reader: the replica's offset is the one before MULTI and the master
// sends the block again from there. The executor must discard its own
// half-queued transaction in the same way.
//
// A StreamReader reads from src into its own buffer, which holds the
// stream from the first byte not yet processed: a MULTI block stays in
// memory until its EXEC. The reader never allocates per command. A command
// that arrives over many reads is parsed again after each of them (but a
// bulk of known length is awaited whole), as the server's client loop
// does.
type StreamReader struct {
	src io.Reader
	lim resp.Limits

	// Invariants: 0 <= applied <= pos <= end <= len(buf).
	// buf[applied:pos] is parsed but not yet processed (a MULTI block so
	// far, keep-alives); buf[pos:end] is read but not parsed.
	// offset is the processed offset, that of the byte before
	// buf[applied]; the read offset is offset + end - applied.
	buf                 []byte
	applied, pos, end   int
	offset              int64
	multi               bool
	need                int // bytes needed from pos before parsing is worth trying again
	argv                [][]byte
	readErr, protoError error
}

// NewStreamReader returns a reader of the command stream that follows a
// sync, from src (the link's bufio.Reader, positioned at the first byte
// of the stream); offset is the replica's offset at that point (the
// +FULLRESYNC offset, or the replica's own after +CONTINUE). From then on,
// only the StreamReader reads from src.
func NewStreamReader(src io.Reader, offset int64) *StreamReader {
	return &StreamReader{src: src, offset: offset, lim: resp.Limits{MaxBulk: MaxStreamBulk}}
}

// Offset is the processed offset: slave_repl_offset, what the replica
// acknowledges, and what it asks PSYNC for (plus one) after a break.
func (s *StreamReader) Offset() int64 { return s.offset }

// ReadOffset is the offset of the last byte read: slave_read_repl_offset.
func (s *StreamReader) ReadOffset() int64 { return s.offset + int64(s.end-s.applied) }

// InMulti reports whether the stream is inside a MULTI block.
func (s *StreamReader) InMulti() bool { return s.multi }

// Next returns the next complete command. Errors from src are returned as
// they are, except that the stream ending inside a command is
// io.ErrUnexpectedEOF; a malformed stream is a *ProtocolError, after which
// Next keeps failing.
func (s *StreamReader) Next() (Command, error) {
	if s.protoError != nil {
		return Command{}, s.protoError
	}
	for {
		if s.end-s.pos >= max(s.need, 1) {
			cmd, ok, err := s.parse()
			if err != nil {
				s.protoError = err
				return Command{}, err
			}
			if ok {
				return cmd, nil
			}
		}
		if err := s.fill(); err != nil {
			return Command{}, err
		}
	}
}

// TryNext is Next without reading from src: it returns the next command
// if one is already complete in the buffer (ok), so a caller can apply a
// run of commands under one lock without waiting for the network.
func (s *StreamReader) TryNext() (cmd Command, ok bool, err error) {
	if s.protoError != nil {
		return Command{}, false, s.protoError
	}
	if s.end-s.pos < max(s.need, 1) {
		return Command{}, false, nil
	}
	cmd, ok, err = s.parse()
	if err != nil {
		s.protoError = err
		return Command{}, false, err
	}
	return cmd, ok, nil
}

// parse returns the next command in buf[pos:end], if complete, skipping
// keep-alives and empty requests.
func (s *StreamReader) parse() (Command, bool, error) {
	s.need = 0
	for s.pos < s.end {
		switch s.buf[s.pos] {
		case '*':
		case '\n':
			s.pos++
			continue
		case '\r':
			if s.pos+1 == s.end {
				s.need = 2
				return Command{}, false, nil
			}
			if s.buf[s.pos+1] == '\n' {
				s.pos += 2
				continue
			}
			return Command{}, false, errInline
		default:
			return Command{}, false, errInline
		}
		args, n, need, err := resp.ParseCommand(s.buf[s.pos:s.end], s.argv, s.lim)
		s.argv = args[:0]
		if err != nil {
			return Command{}, false, &ProtocolError{"master stream: " + err.Error()}
		}
		if n == 0 {
			s.need = need
			return Command{}, false, nil
		}
		start := s.pos
		s.pos += n
		if len(args) == 0 {
			continue // "*0" or "*-1": counted with the next command
		}
		s.argv = args
		cmd := Command{Argv: args, Raw: s.buf[start:s.pos:s.pos], Before: s.offset}
		if len(args) == 1 {
			switch {
			case !s.multi && equalFold(args[0], "multi"):
				s.multi = true
			case s.multi && (equalFold(args[0], "exec") || equalFold(args[0], "discard")):
				s.multi = false
			}
		}
		if !s.multi {
			cmd.Applied = s.buf[s.applied:s.pos:s.pos]
			s.offset += int64(s.pos - s.applied)
			s.applied = s.pos
		}
		cmd.Offset = s.offset
		return cmd, true, nil
	}
	return Command{}, false, nil
}

// fill reads once from src into free space after end.
func (s *StreamReader) fill() error {
	if s.readErr != nil {
		return s.failRead()
	}
	s.makeRoom()
	n, err := s.src.Read(s.buf[s.end:])
	s.end += n
	if err != nil {
		s.readErr = err
		if n == 0 {
			return s.failRead()
		}
	}
	return nil
}

func (s *StreamReader) failRead() error {
	err := s.readErr
	if s.pos < s.end && errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	if !errors.Is(err, io.EOF) {
		s.readErr = nil // a timeout may pass; io.EOF stays
	}
	return err
}

// makeRoom ensures at least streamReadMin free bytes after end, moving the
// unprocessed bytes to the front of the buffer or into a larger one. The
// buffer grows only when it is nearly full, at most to twice its size (or
// at once to what the pending command needs, if less), so its size stays
// within twice the bytes actually held.
func (s *StreamReader) makeRoom() {
	keep := s.end - s.applied
	if keep == 0 {
		s.applied, s.pos, s.end = 0, 0, 0
		if len(s.buf) > streamShrinkAt {
			s.buf = nil
		}
	}
	if s.buf == nil {
		s.buf = make([]byte, streamBufSize)
	}
	if len(s.buf)-s.end >= streamReadMin {
		return
	}
	want := keep + streamReadMin
	if s.need > 0 {
		want = max(want, s.pos-s.applied+s.need)
	}
	buf := s.buf
	if want > len(buf) {
		buf = make([]byte, max(keep+streamReadMin, min(want, 2*len(buf))))
	}
	copy(buf, s.buf[s.applied:s.end])
	s.buf = buf
	s.pos -= s.applied
	s.end -= s.applied
	s.applied = 0
}

// IsGetAck reports whether argv is REPLCONF GETACK, which the replica
// answers with REPLCONF ACK <Before> (AppendAck) at once. As in Redis's
// replconfCommand, the options come in pairs, so the argument count must
// be odd.
func IsGetAck(argv [][]byte) bool {
	return len(argv) >= 3 && len(argv)%2 == 1 && equalFold(argv[0], "replconf") && equalFold(argv[1], "getack")
}

// AppendAck appends REPLCONF ACK <offset> as the replica sends it.
func AppendAck(dst []byte, offset int64) []byte {
	var num [20]byte
	return resp.AppendCommand(dst, []byte("REPLCONF"), []byte("ACK"), strconv.AppendInt(num[:0], offset, 10))
}

// equalFold compares an argument with a lowercase ASCII name.
func equalFold(b []byte, lower string) bool {
	if len(b) != len(lower) {
		return false
	}
	for i := range len(b) {
		c := b[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}
