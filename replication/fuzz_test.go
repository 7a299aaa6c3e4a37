package replication

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"testing"
	"testing/iotest"
)

// FuzzFullSync feeds arbitrary bytes to what a replica reads after PSYNC:
// the reply, the transfer header and the snapshot. Nothing may panic, and
// what is accepted must hold together: a body is exactly what the header
// announced, a diskless one ends right before the first occurrence of its
// mark, and the reader is left just after it.
func FuzzFullSync(f *testing.F) {
	mark := "0123456789abcdef0123456789abcdef01234567"
	for _, s := range []string{
		"+FULLRESYNC " + testID + " 0\r\n$4\r\nabcd*1\r\n$4\r\nping\r\n",
		"\n\n+FULLRESYNC " + testID + " 17\r\n\n$EOF:" + mark + "\r\nREDIS0010\xff12345678" + mark + "*1\r\n",
		"+FULLRESYNC " + testID + " 1\r\n$EOF:" + mark + "\r\n0123" + mark[:20] + mark,
		"-ERR unknown command 'PSYNC'\r\n$3\r\nabc",
		"+CONTINUE " + testID + "\r\n*1\r\n$4\r\nping\r\n",
		"+FULLRESYNC " + testID + " 1\r\n$1099511627776\r\nab",
		"+FULLRESYNC " + testID + " 1\r\n-ERR no\r\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		src := bytes.NewReader(in)
		r := bufio.NewReaderSize(src, 64)
		unread := func() []byte { return in[len(in)-r.Buffered()-src.Len():] }
		reply, err := ReadPsyncReply(r)
		if err != nil {
			return
		}
		switch reply.Result {
		case FullResync:
			if len(reply.ReplID) != IDLen || reply.Offset < 0 {
				t.Fatalf("accepted %+v", reply)
			}
		case Continue:
			if reply.ReplID != "" && len(reply.ReplID) != IDLen {
				t.Fatalf("accepted %+v", reply)
			}
			return
		case TryLater:
			return
		}
		tr, err := ReadTransferHeader(r)
		if err != nil {
			return
		}
		if tr.Size < -1 || tr.Size > MaxTransferSize {
			t.Fatalf("accepted size %d", tr.Size)
		}
		after := unread()
		body, err := io.ReadAll(tr.Body(r))
		if err != nil {
			return
		}
		rest := unread()
		if !tr.Diskless() {
			if int64(len(body)) != tr.Size || !bytes.Equal(after[:len(body)], body) {
				t.Fatalf("body of %d bytes for a header of %d", len(body), tr.Size)
			}
			return
		}
		if bytes.Contains(body, tr.Mark[:]) {
			t.Fatalf("the body contains the mark")
		}
		if want := append(append([]byte{}, body...), tr.Mark[:]...); !bytes.Equal(after[:len(after)-len(rest)], want) {
			t.Fatalf("consumed %q, want the body and the mark", after[:len(after)-len(rest)])
		}
	})
}

// FuzzStreamReader feeds arbitrary bytes to the command stream reader,
// whole and one byte at a time. Nothing may panic; both deliveries must
// give the same commands, offsets and error; the applied bytes, put
// together, must be the stream's prefix up to the processed offset; and
// the buffer must stay within a small multiple of the bytes received.
func FuzzStreamReader(f *testing.F) {
	f.Add([]byte(redisSession.wire))
	f.Add([]byte("*1\r\n$4\r\nping\r\n\n*3\r\n$8\r\nREPLCONF\r\n$6\r\nGETACK\r\n$1\r\n*\r\n"))
	f.Add([]byte("*1\r\n$5\r\nmulti\r\n*1\r\n$4\r\nping\r\n*1\r\n$4\r\nexec\r\n"))
	f.Add([]byte("*1\r\n$1099511627776\r\nabc"))
	f.Add([]byte("*2\r\n$3\r\nget\r\n$1\r\nk\r\nset b 2\r\n"))
	f.Add([]byte("\r\n*0\r\n*-1\r\n\r"))
	f.Fuzz(func(t *testing.T, in []byte) {
		type result struct {
			cmds   []string
			offset int64
			err    string
		}
		run := func(src io.Reader) result {
			const start = 1000
			s := NewStreamReader(src, start)
			r := result{offset: start}
			var applied []byte
			for {
				cmd, err := s.Next()
				if err != nil {
					r.err = errorKind(err)
					break
				}
				if cmd.Offset < cmd.Before || int64(len(cmd.Applied)) != cmd.Offset-cmd.Before || cmd.Before != r.offset {
					t.Fatalf("command %q: before %d offset %d, %d bytes applied", cmd.Argv, cmd.Before, cmd.Offset, len(cmd.Applied))
				}
				applied = append(applied, cmd.Applied...)
				r.offset = cmd.Offset
				r.cmds = append(r.cmds, fmt.Sprintf("%q %d", cmd.Argv, cmd.Offset))
				if len(s.buf) > 2*len(in)+streamBufSize+streamReadMin {
					t.Fatalf("buffer of %d bytes for %d bytes of input", len(s.buf), len(in))
				}
			}
			if s.Offset() != r.offset || !bytes.Equal(applied, in[:r.offset-start]) {
				t.Fatalf("offset %d (reader %d), applied bytes are not the input's prefix", r.offset, s.Offset())
			}
			if s.ReadOffset() > start+int64(len(in)) {
				t.Fatalf("read offset %d past the input", s.ReadOffset())
			}
			return r
		}
		whole := run(bytes.NewReader(in))
		bytewise := run(iotest.OneByteReader(bytes.NewReader(in)))
		if whole.err != bytewise.err || whole.offset != bytewise.offset || len(whole.cmds) != len(bytewise.cmds) {
			t.Fatalf("whole: %d commands, offset %d, %s; one byte at a time: %d, %d, %s",
				len(whole.cmds), whole.offset, whole.err, len(bytewise.cmds), bytewise.offset, bytewise.err)
		}
		for i := range whole.cmds {
			if whole.cmds[i] != bytewise.cmds[i] {
				t.Fatalf("command %d: %s whole, %s one byte at a time", i, whole.cmds[i], bytewise.cmds[i])
			}
		}
	})
}

// errorKind classes a StreamReader error. The message of a protocol error
// may depend on how the bytes arrive (an over-long line is noticed before
// the byte that would have made it invalid otherwise), its kind may not.
func errorKind(err error) string {
	var pe *ProtocolError
	switch {
	case errors.As(err, &pe):
		return "protocol error"
	case err == io.EOF, err == io.ErrUnexpectedEOF:
		return err.Error()
	}
	return "other: " + err.Error()
}
