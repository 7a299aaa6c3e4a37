package rdb

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"iter"
	"math"
	"slices"
	"strconv"
)

// WriterOptions configure a Writer.
type WriterOptions struct {
	// Compress LZF-compresses strings longer than 20 bytes when that saves
	// at least 4 bytes, as Redis does with rdbcompression yes.
	Compress bool
	// Checksum writes the CRC64 of the file after the EOF opcode. Without
	// it the checksum is 8 zero bytes, which readers take to mean "not
	// computed" (Redis's rdbchecksum no).
	Checksum bool
	// Fragment makes a Writer of keys only, to be spliced into a file by
	// another Writer's Raw: no header, and Close flushes without writing
	// the EOF opcode or a checksum.
	Fragment bool
}

// ErrClosed is returned by a Writer used after Close.
var ErrClosed = errors.New("rdb: writer is closed")

const writeBufSize = 64 << 10

// Writer encodes an RDB file (version 10, as Redis 7.0 writes it) to an
// io.Writer. It buffers up to 64 KiB and never holds more of the file.
//
// Call Header (or let the first other call write it), then Aux fields,
// then for each database SelectDB, optionally ResizeDB, and its keys, then
// Close. Values are written in the plain encodings (string, list, set,
// hash, zset-2), which every Redis version since 4.0 loads.
//
// The Writer does not keep any slice passed to it after the call returns.
// Redis has no empty collections: a list, set, hash or sorted set with no
// elements is not written at all. Set members and hash fields must be
// unique, and scores must not be NaN; Redis refuses to load a file that
// breaks these rules.
//
// Errors are sticky: after the first error (from the destination or a
// call that cannot be encoded), every call returns it and nothing more is
// written.
type Writer struct {
	dst     io.Writer
	opts    WriterOptions
	buf     []byte
	crc     uint64
	n       int64 // bytes handed to dst
	err     error
	started bool
	closed  bool
	lzf     lzfCompressor
	lzfOut  []byte
}

// NewWriter returns a Writer that encodes to dst.
func NewWriter(dst io.Writer, opts WriterOptions) *Writer {
	return &Writer{dst: dst, opts: opts, buf: make([]byte, 0, writeBufSize), started: opts.Fragment}
}

// Reset makes w a new Writer to dst with the same options, keeping its
// buffers, so a Writer can encode many fragments without allocating.
func (w *Writer) Reset(dst io.Writer) {
	*w = Writer{dst: dst, opts: w.opts, buf: w.buf[:0], started: w.opts.Fragment, lzf: w.lzf, lzfOut: w.lzfOut}
}

// Raw writes p, entries encoded by a Fragment Writer, into the file; they
// count toward the checksum like everything else.
func (w *Writer) Raw(p []byte) error {
	if w.ready() {
		w.write(p)
	}
	return w.err
}

// Written returns the number of bytes written to the destination so far.
func (w *Writer) Written() int64 { return w.n }

// Header writes the magic string and version, "REDIS0010". Other calls
// write it first if it has not been written.
func (w *Writer) Header() error {
	if w.err == nil && !w.started {
		w.started = true
		w.buf = fmt.Appendf(w.buf, "REDIS%04d", Version)
	}
	return w.err
}

func (w *Writer) ready() bool {
	if w.err != nil {
		return false
	}
	if w.closed {
		w.err = ErrClosed
		return false
	}
	if !w.started {
		w.Header()
	}
	return true
}

// Aux writes an auxiliary field. Redis writes redis-ver, redis-bits, ctime,
// used-mem, then repl-stream-db, repl-id and repl-offset when it has
// replication info, then aof-base.
func (w *Writer) Aux(key, value string) error {
	if w.ready() {
		w.buf = append(w.buf, opAux)
		w.writeString([]byte(key))
		w.writeString([]byte(value))
		w.maybeFlush()
	}
	return w.err
}

// AuxInt writes an auxiliary field with an integer value. As in Redis the
// value is a string, stored in integer encoding when it fits in 32 bits.
func (w *Writer) AuxInt(key string, v int64) error {
	return w.Aux(key, strconv.FormatInt(v, 10))
}

// SelectDB starts database n.
func (w *Writer) SelectDB(n int) error {
	if w.ready() {
		if n < 0 || n > math.MaxInt32 {
			w.err = fmt.Errorf("rdb: database number %d out of range", n)
			return w.err
		}
		w.buf = append(w.buf, opSelectDB)
		w.writeLen(uint64(n))
	}
	return w.err
}

// ResizeDB writes the number of keys, and of keys with an expire time, of
// the current database, which readers use to size their tables.
func (w *Writer) ResizeDB(size, expires uint64) error {
	if w.ready() {
		w.buf = append(w.buf, opResizeDB)
		w.writeLen(size)
		w.writeLen(expires)
	}
	return w.err
}

// String writes a string key. expireMs is the expire time in unix
// milliseconds; a negative value means none.
func (w *Writer) String(key, value []byte, expireMs int64) error {
	if w.begin(key, expireMs, EncString, -1) {
		w.writeString(value)
		w.maybeFlush()
	}
	return w.err
}

// List writes a list key, elements from head to tail.
func (w *Writer) List(key []byte, expireMs int64, elems [][]byte) error {
	return w.ListSeq(key, expireMs, len(elems), slices.Values(elems))
}

// Set writes a set key.
func (w *Writer) Set(key []byte, expireMs int64, members [][]byte) error {
	return w.SetSeq(key, expireMs, len(members), slices.Values(members))
}

// Hash writes a hash key from field/value pairs.
func (w *Writer) Hash(key []byte, expireMs int64, pairs [][2][]byte) error {
	return w.HashSeq(key, expireMs, len(pairs), func(yield func([]byte, []byte) bool) {
		for _, p := range pairs {
			if !yield(p[0], p[1]) {
				return
			}
		}
	})
}

// ZSet writes a sorted set key.
func (w *Writer) ZSet(key []byte, expireMs int64, members []ZMember) error {
	return w.ZSetSeq(key, expireMs, len(members), func(yield func([]byte, float64) bool) {
		for _, m := range members {
			if !yield(m.Member, m.Score) {
				return
			}
		}
	})
}

// ListSeq writes a list key of n elements, taken from elems, which must
// yield exactly n of them. It suits collections too large to copy into a
// slice: each element is encoded as it is yielded.
func (w *Writer) ListSeq(key []byte, expireMs int64, n int, elems iter.Seq[[]byte]) error {
	return w.strings(key, expireMs, EncList, n, elems)
}

// SetSeq writes a set key of n members, taken from members.
func (w *Writer) SetSeq(key []byte, expireMs int64, n int, members iter.Seq[[]byte]) error {
	return w.strings(key, expireMs, EncSet, n, members)
}

func (w *Writer) strings(key []byte, expireMs int64, enc Encoding, n int, elems iter.Seq[[]byte]) error {
	if !w.begin(key, expireMs, enc, n) {
		return w.err
	}
	count := 0
	for e := range elems {
		if !w.element(key, &count, n) {
			break
		}
		w.writeString(e)
	}
	return w.end(key, count, n)
}

// HashSeq writes a hash key of n fields, taken from pairs.
func (w *Writer) HashSeq(key []byte, expireMs int64, n int, pairs iter.Seq2[[]byte, []byte]) error {
	if !w.begin(key, expireMs, EncHash, n) {
		return w.err
	}
	count := 0
	for f, v := range pairs {
		if !w.element(key, &count, n) {
			break
		}
		w.writeString(f)
		w.writeString(v)
	}
	return w.end(key, count, n)
}

// ZSetSeq writes a sorted set key of n members, taken from members with
// their scores.
func (w *Writer) ZSetSeq(key []byte, expireMs int64, n int, members iter.Seq2[[]byte, float64]) error {
	if !w.begin(key, expireMs, EncZSet2, n) {
		return w.err
	}
	count := 0
	for m, score := range members {
		if !w.element(key, &count, n) {
			break
		}
		if math.IsNaN(score) {
			w.err = fmt.Errorf("rdb: key %s: member %s has a NaN score", quoteKey(key), quoteKey(m))
			break
		}
		w.writeString(m)
		w.buf = binary.LittleEndian.AppendUint64(w.buf, math.Float64bits(score))
	}
	return w.end(key, count, n)
}

// Entry writes an entry as returned by Reader.Next, so that a file can be
// copied or filtered. A Key is written in the plain encoding of its Type,
// whatever its Encoding.
func (w *Writer) Entry(e Entry) error {
	switch e := e.(type) {
	case Aux:
		return w.Aux(e.Key, e.Value)
	case SelectDB:
		return w.SelectDB(e.DB)
	case ResizeDB:
		return w.ResizeDB(e.Size, e.Expires)
	case Key:
		return w.Key(&e)
	}
	if w.err == nil {
		w.err = fmt.Errorf("rdb: cannot write entry of type %T", e)
	}
	return w.err
}

// Key writes a key and its value, in the plain encoding of k.Type.
func (w *Writer) Key(k *Key) error {
	switch k.Type {
	case TypeString:
		return w.String(k.Key, k.String, k.Expire)
	case TypeList:
		return w.List(k.Key, k.Expire, k.List)
	case TypeSet:
		return w.Set(k.Key, k.Expire, k.Set)
	case TypeHash:
		return w.Hash(k.Key, k.Expire, k.Hash)
	case TypeZSet:
		return w.ZSet(k.Key, k.Expire, k.ZSet)
	}
	if w.err == nil {
		w.err = fmt.Errorf("rdb: key %s: cannot write type %v", quoteKey(k.Key), k.Type)
	}
	return w.err
}

// Close writes the EOF opcode and the checksum and flushes the buffer. It
// does not close the destination.
func (w *Writer) Close() error {
	if !w.ready() {
		return w.err
	}
	if w.opts.Fragment {
		w.flush()
		w.closed = true
		return w.err
	}
	w.buf = append(w.buf, opEOF)
	w.flush()
	if w.err != nil {
		return w.err
	}
	var sum [8]byte
	if w.opts.Checksum {
		binary.LittleEndian.PutUint64(sum[:], w.crc)
	}
	w.write(sum[:])
	w.flush()
	w.closed = true
	return w.err
}

// begin writes what precedes a value: the expire time, the type and the
// key, then for a collection (n >= 0) its length. It reports whether the
// value should follow.
func (w *Writer) begin(key []byte, expireMs int64, enc Encoding, n int) bool {
	if !w.ready() {
		return false
	}
	if n == 0 {
		return false
	}
	if n < -1 {
		w.err = fmt.Errorf("rdb: key %s: negative length %d", quoteKey(key), n)
		return false
	}
	if expireMs >= 0 {
		w.buf = append(w.buf, opExpireMs)
		w.buf = binary.LittleEndian.AppendUint64(w.buf, uint64(expireMs))
	}
	w.buf = append(w.buf, byte(enc))
	w.writeString(key)
	if n > 0 {
		w.writeLen(uint64(n))
	}
	return w.err == nil
}

// element accounts for one more element of a collection of n.
func (w *Writer) element(key []byte, count *int, n int) bool {
	w.maybeFlush()
	if w.err != nil {
		return false
	}
	if *count == n {
		w.err = fmt.Errorf("rdb: key %s: more than the %d elements announced", quoteKey(key), n)
		return false
	}
	*count++
	return true
}

func (w *Writer) end(key []byte, count, n int) error {
	if w.err == nil && count != n {
		w.err = fmt.Errorf("rdb: key %s: %d elements announced, %d given", quoteKey(key), n, count)
	}
	w.maybeFlush()
	return w.err
}

func (w *Writer) writeLen(n uint64) {
	switch {
	case n < 1<<6:
		w.buf = append(w.buf, byte(n))
	case n < 1<<14:
		w.buf = append(w.buf, 0x40|byte(n>>8), byte(n))
	case n <= math.MaxUint32:
		w.buf = append(w.buf, 0x80)
		w.buf = binary.BigEndian.AppendUint32(w.buf, uint32(n))
	default:
		w.buf = append(w.buf, 0x81)
		w.buf = binary.BigEndian.AppendUint64(w.buf, n)
	}
}

// writeString writes a string as Redis's rdbSaveRawString does: as an
// integer if it is the canonical form of one that fits in 32 bits, else
// LZF-compressed if enabled and worthwhile, else raw.
func (w *Writer) writeString(s []byte) {
	if len(s) <= 11 && len(s) > 0 {
		if v, ok := canonicalInt(s); ok {
			switch {
			case v >= math.MinInt8 && v <= math.MaxInt8:
				w.buf = append(w.buf, 0xC0, byte(v))
				return
			case v >= math.MinInt16 && v <= math.MaxInt16:
				w.buf = append(w.buf, 0xC1)
				w.buf = binary.LittleEndian.AppendUint16(w.buf, uint16(v))
				return
			case v >= math.MinInt32 && v <= math.MaxInt32:
				w.buf = append(w.buf, 0xC2)
				w.buf = binary.LittleEndian.AppendUint32(w.buf, uint32(v))
				return
			}
		}
	}
	if w.opts.Compress && len(s) > 20 && w.writeLZF(s) {
		return
	}
	w.writeLen(uint64(len(s)))
	w.write(s)
}

func (w *Writer) writeLZF(s []byte) bool {
	if cap(w.lzfOut) < len(s)-4 {
		w.lzfOut = make([]byte, len(s)-4)
	}
	out := w.lzfOut[:len(s)-4]
	c := w.lzf.compress(s, out)
	if c > 0 {
		w.buf = append(w.buf, 0xC3)
		w.writeLen(uint64(c))
		w.writeLen(uint64(len(s)))
		w.write(out[:c])
	}
	if cap(w.lzfOut) > 1<<20 {
		w.lzfOut = nil
	}
	return c > 0
}

// canonicalInt reports whether s is an integer written as strconv would
// write it (no sign but a minus, no leading zeros, not "-0").
func canonicalInt(s []byte) (int64, bool) {
	i := 0
	if s[0] == '-' {
		if len(s) == 1 {
			return 0, false
		}
		i = 1
	}
	if s[i] == '0' {
		return 0, len(s) == 1
	}
	var v int64
	for ; i < len(s); i++ {
		c := s[i] - '0'
		if c > 9 {
			return 0, false
		}
		v = v*10 + int64(c)
	}
	if s[0] == '-' {
		v = -v
	}
	return v, true
}

// write appends p to the output, bypassing the buffer when p is large.
func (w *Writer) write(p []byte) {
	if len(w.buf)+len(p) <= cap(w.buf) {
		w.buf = append(w.buf, p...)
		return
	}
	w.flush()
	if len(p) < cap(w.buf)/2 {
		w.buf = append(w.buf, p...)
		return
	}
	w.out(p)
}

func (w *Writer) maybeFlush() {
	if len(w.buf) >= cap(w.buf)/2 {
		w.flush()
	}
}

func (w *Writer) flush() {
	if len(w.buf) > 0 {
		w.out(w.buf)
		w.buf = w.buf[:0]
	}
}

func (w *Writer) out(p []byte) {
	if w.err != nil {
		return
	}
	if w.opts.Checksum {
		w.crc = CRC64(w.crc, p)
	}
	n, err := w.dst.Write(p)
	w.n += int64(n)
	if err == nil && n < len(p) {
		err = io.ErrShortWrite
	}
	w.err = err
}
