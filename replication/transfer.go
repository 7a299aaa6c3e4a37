package replication

import (
	"bufio"
	"bytes"
	"fmt"
	"io"

	"github.com/lagwise/lagwise/backend/resp"
)

// MaxTransferSize bounds the length a "$<len>" transfer header may announce
// (1 TiB): a guard against garbage, far above any real snapshot.
const MaxTransferSize = 1 << 40

// Transfer is the header of a full resync's snapshot.
//
// Invariant: Size >= 0 for a disk-based transfer ("$<len>\r\n" then exactly
// Size bytes); Size == -1 for a diskless one ("$EOF:<mark>\r\n", then the
// RDB, then the 40 bytes of Mark again).
type Transfer struct {
	Size int64
	Mark [IDLen]byte
}

// Diskless reports whether the snapshot ends with Mark rather than after
// Size bytes.
func (t Transfer) Diskless() bool { return t.Size < 0 }

// ReadTransferHeader reads the header of the snapshot that follows
// +FULLRESYNC (or the answer to SYNC), skipping the empty keep-alive lines
// a master sends while it makes the snapshot, as readSyncBulkPayload does.
// An error line from the master is a *MasterError; anything else than
// "$<len>" with 0 <= len <= MaxTransferSize or "$EOF:" and exactly 40 mark
// bytes is a *ProtocolError. (Redis takes the first 40 bytes of a longer
// mark and reads a malformed length as 0.)
func ReadTransferHeader(r *bufio.Reader) (Transfer, error) {
	for {
		line, err := readLine(r)
		if err != nil {
			return Transfer{}, err
		}
		if len(line) > 0 {
			return parseTransferHeader(line)
		}
	}
}

func parseTransferHeader(line []byte) (Transfer, error) {
	switch line[0] {
	case '-':
		return Transfer{}, &MasterError{To: "SYNC", Reply: string(line)}
	case '$':
	default:
		return Transfer{}, &ProtocolError{fmt.Sprintf("the first byte of the transfer header is not '$' (received %q)", line)}
	}
	if mark, ok := bytes.CutPrefix(line[1:], []byte("EOF:")); ok {
		if len(mark) != IDLen {
			return Transfer{}, &ProtocolError{fmt.Sprintf("the EOF mark of a diskless transfer is %d bytes, not %d", len(mark), IDLen)}
		}
		t := Transfer{Size: -1}
		copy(t.Mark[:], mark)
		return t, nil
	}
	n, ok := resp.ParseInt(line[1:])
	if !ok || n < 0 || n > MaxTransferSize {
		return Transfer{}, &ProtocolError{fmt.Sprintf("bad transfer length %q (0 to %d bytes)", line[1:], int64(MaxTransferSize))}
	}
	return Transfer{Size: n}, nil
}

// Body returns a reader of exactly the snapshot's bytes from r, which must
// be positioned just after the header. Once the reader has returned
// io.EOF, r is positioned at the first byte of the command stream (the
// mark of a diskless transfer consumed): a loader that stops at the RDB's
// own end must drain the reader to io.EOF before the stream is read.
// A stream that ends early gives io.ErrUnexpectedEOF.
//
// A diskless transfer ends at the first place where the last 40 bytes
// received equal the mark. Redis checks the same condition, but only at
// the end of each socket read (which works because a master holds the
// stream back until the replica's first ACK); checking at every byte makes
// the end independent of how the bytes arrive. The mark is random, so the
// snapshot (which itself ends with the EOF opcode and an 8-byte CRC) never
// contains it. The reader looks ahead in r's buffer instead of copying:
// r's buffer must hold at least 40 bytes (bufio's default holds 4096).
func (t Transfer) Body(r *bufio.Reader) io.Reader {
	if !t.Diskless() {
		return &sizedBody{r: r, left: t.Size}
	}
	if r.Size() < IDLen {
		return errReader{fmt.Errorf("replication: a diskless transfer needs a read buffer of at least %d bytes, not %d", IDLen, r.Size())}
	}
	return &markedBody{r: r, mark: t.Mark}
}

// sizedBody yields the next left bytes of r.
type sizedBody struct {
	r    *bufio.Reader
	left int64
}

func (b *sizedBody) Read(p []byte) (int, error) {
	if b.left == 0 {
		return 0, io.EOF
	}
	if len(p) == 0 {
		return 0, nil
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.r.Read(p)
	b.left -= int64(n)
	if err == io.EOF && b.left > 0 {
		err = io.ErrUnexpectedEOF
	}
	return n, err
}

// markedBody yields the bytes of r up to the first occurrence of mark.
//
// Invariant: the next safe bytes buffered in r are payload (no occurrence
// of the mark starts among them); safe <= r.Buffered().
type markedBody struct {
	r    *bufio.Reader
	mark [IDLen]byte
	safe int
	done bool
}

func (b *markedBody) Read(p []byte) (int, error) {
	if b.done {
		return 0, io.EOF
	}
	if len(p) == 0 {
		return 0, nil
	}
	if b.safe == 0 {
		if _, err := b.r.Peek(IDLen); err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return 0, err
		}
		w, _ := b.r.Peek(b.r.Buffered())
		switch i := bytes.Index(w, b.mark[:]); {
		case i == 0:
			b.r.Discard(IDLen)
			b.done = true
			return 0, io.EOF
		case i > 0:
			b.safe = i
		default:
			// The last 39 bytes may begin the mark: look at them again
			// once more bytes have arrived.
			b.safe = len(w) - (IDLen - 1)
		}
	}
	// Served from r's buffer: no I/O.
	n, _ := b.r.Read(p[:min(len(p), b.safe)])
	b.safe -= n
	return n, nil
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }
