package replication

// Backlog is the circular buffer of the latest bytes of the replication
// stream (repl-backlog-size), from which a replica that lost its link
// continues with a partial resync.
//
// Invariants: 0 <= histlen <= len(buf); the bytes held are the stream's
// offsets [First(), Offset()], First() = Offset() - histlen + 1; idx is
// where the next byte goes.
type Backlog struct {
	buf     []byte
	idx     int
	histlen int
	offset  int64 // offset of the last byte written: master_repl_offset
}

// NewBacklog returns an empty backlog of size bytes for a stream whose
// last byte so far is offset, so its first byte will be offset+1.
func NewBacklog(size int, offset int64) *Backlog {
	if size < 1 {
		size = 1
	}
	return &Backlog{buf: make([]byte, size), offset: offset}
}

// Size is the capacity in bytes.
func (b *Backlog) Size() int { return len(b.buf) }

// Offset is the offset of the last byte written.
func (b *Backlog) Offset() int64 { return b.offset }

// HistLen is how many bytes the backlog holds (repl_backlog_histlen).
func (b *Backlog) HistLen() int64 { return int64(b.histlen) }

// First is the offset of the oldest byte held (repl_backlog_first_byte_offset);
// Offset()+1 when the backlog is empty.
func (b *Backlog) First() int64 { return b.offset - int64(b.histlen) + 1 }

// Write appends stream bytes, dropping the oldest ones past the capacity.
func (b *Backlog) Write(p []byte) {
	b.offset += int64(len(p))
	if len(p) >= len(b.buf) {
		copy(b.buf, p[len(p)-len(b.buf):])
		b.idx = 0
		b.histlen = len(b.buf)
		return
	}
	n := copy(b.buf[b.idx:], p)
	if n < len(p) {
		copy(b.buf, p[n:])
	}
	b.idx = (b.idx + len(p)) % len(b.buf)
	b.histlen = min(b.histlen+len(p), len(b.buf))
}

// From returns the bytes from offset off (the first byte to send) to the
// end, as at most two slices of the backlog's memory, valid until the next
// Write. ok is false when off is outside [First(), Offset()+1]; off ==
// Offset()+1 is valid and returns nothing.
func (b *Backlog) From(off int64) (p1, p2 []byte, ok bool) {
	if off < b.First() || off > b.offset+1 {
		return nil, nil, false
	}
	n := int(b.offset + 1 - off) // bytes to return
	start := (b.idx - n + len(b.buf)) % len(b.buf)
	if start+n <= len(b.buf) {
		return b.buf[start : start+n], nil, true
	}
	return b.buf[start:], b.buf[:n-(len(b.buf)-start)], true
}

// Resize changes the capacity, keeping the newest bytes that fit.
func (b *Backlog) Resize(size int) {
	if size < 1 {
		size = 1
	}
	p1, p2, _ := b.From(b.First())
	keep := append(append(make([]byte, 0, b.histlen), p1...), p2...)
	if len(keep) > size {
		keep = keep[len(keep)-size:]
	}
	nb := &Backlog{buf: make([]byte, size), offset: b.offset - int64(len(keep))}
	nb.Write(keep)
	*b = *nb
}
