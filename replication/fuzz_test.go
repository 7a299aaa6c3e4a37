package replication

import (
	"bufio"
	"bytes"
	"io"
	"testing"
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
