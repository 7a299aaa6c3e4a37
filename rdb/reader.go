package rdb

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
)

// Entry is one item of an RDB file, as returned by Reader.Next: an Aux,
// SelectDB, ResizeDB or Key.
type Entry interface{ isEntry() }

// Aux is an auxiliary field: redis-ver, redis-bits, ctime, used-mem,
// repl-id, repl-offset, repl-stream-db, aof-base, or any other. Values
// Redis stores as integers are returned in decimal.
type Aux struct {
	Key, Value string
}

// SelectDB switches the database the following keys belong to.
type SelectDB struct {
	DB int
}

// ResizeDB gives the number of keys, and of keys with an expire time, in
// the current database. Writers use it as a sizing hint; it may be wrong.
type ResizeDB struct {
	Size, Expires uint64
}

// Key is a key with its value. Exactly one of the value fields is set,
// according to Type (a String of length 0 is an empty string).
type Key struct {
	DB       int      // database, from the last SelectDB (0 before any)
	Key      []byte   // the key
	Expire   int64    // expire time in unix milliseconds, -1 for none
	Type     Type     // the data type
	Encoding Encoding // how the file stored the value

	String []byte      // TypeString
	List   [][]byte    // TypeList, head to tail
	Set    [][]byte    // TypeSet
	Hash   [][2][]byte // TypeHash, field and value
	ZSet   []ZMember   // TypeZSet
}

// ZMember is a sorted set member and its score.
type ZMember struct {
	Member []byte
	Score  float64
}

func (Aux) isEntry()      {}
func (SelectDB) isEntry() {}
func (ResizeDB) isEntry() {}
func (Key) isEntry()      {}

const (
	readBufSize = 64 << 10
	// Up to this size a string is allocated at once; past it the buffer
	// grows as the data actually arrives, so that a corrupt length cannot
	// make the Reader allocate much more than the file holds.
	directAlloc = 64 << 10
	// Collections are pre-allocated for at most this many elements.
	maxPrealloc = 1024
	numArena    = 4 << 10
)

// Reader decodes an RDB file from an io.Reader, one entry at a time,
// without holding more of it in memory than the entry being decoded. It
// verifies the checksum when it reaches the end of the file.
//
// The Reader buffers its input and may read past the end of the RDB data.
//
// Ownership: every slice in an entry belongs to the caller and is never
// touched by the Reader again. Slices may share backing arrays (elements
// of one compact-encoded collection are sub-slices of one blob, short
// decimal numbers share small blocks), but each has its capacity limited
// to its length, so appending to one never changes another.
type Reader struct {
	src      io.Reader
	buf      []byte
	pos, end int
	base     int64 // file offset of buf[0]
	crc      uint64
	crcPos   int // buf[:crcPos] is already in crc

	version int
	db      int
	expire  int64 // pending expire time for the next key
	started bool
	err     error // sticky

	key     []byte // key being decoded, for error messages
	scratch []byte
	nums    []byte // arena for integers turned into decimal strings

	stats readStats
}

// readStats counts encodings met, for tests.
type readStats struct {
	lzf, lzfValues, intStrings, plainNodes, packedNodes int
}

// NewReader returns a Reader decoding src.
func NewReader(src io.Reader) *Reader {
	return &Reader{src: src, buf: make([]byte, readBufSize), expire: -1}
}

// Version returns the file's RDB version, or 0 before the header has been
// read by the first call to Next.
func (r *Reader) Version() int { return r.version }

// Offset returns the number of bytes of the file decoded so far.
func (r *Reader) Offset() int64 { return r.base + int64(r.pos) }

// Next returns the next entry of the file, or io.EOF after the end of the
// file and its checksum have been read and verified. Any other error is a
// *FormatError, a *VersionError or an *UnsupportedError. After an
// *UnsupportedError whose Skipped is true, Next may be called again to go
// on with the rest of the file; every other error is returned again by
// each later call.
func (r *Reader) Next() (Entry, error) {
	if r.err != nil {
		return nil, r.err
	}
	e, err := r.next()
	r.key = nil
	if err != nil {
		var u *UnsupportedError
		if !errors.As(err, &u) || !u.Skipped {
			r.err = err
		}
		return nil, err
	}
	return e, nil
}

func (r *Reader) next() (Entry, error) {
	if !r.started {
		if err := r.readHeader(); err != nil {
			return nil, err
		}
		r.started = true
	}
	for {
		off := r.Offset()
		op, err := r.readByte()
		if err != nil {
			return nil, err
		}
		switch op {
		case opAux:
			k, err := r.readString()
			if err != nil {
				return nil, err
			}
			v, err := r.readString()
			if err != nil {
				return nil, err
			}
			return Aux{Key: string(k), Value: string(v)}, nil
		case opSelectDB:
			n, err := r.readLength()
			if err != nil {
				return nil, err
			}
			if n > math.MaxInt32 {
				return nil, r.corrupt(off, "database number %d out of range", n)
			}
			r.db = int(n)
			return SelectDB{DB: r.db}, nil
		case opResizeDB:
			size, err := r.readLength()
			if err != nil {
				return nil, err
			}
			exp, err := r.readLength()
			if err != nil {
				return nil, err
			}
			return ResizeDB{Size: size, Expires: exp}, nil
		case opExpireMs:
			b, err := r.readN(8)
			if err != nil {
				return nil, err
			}
			r.expire = int64(binary.LittleEndian.Uint64(b))
		case opExpire:
			b, err := r.readN(4)
			if err != nil {
				return nil, err
			}
			r.expire = int64(int32(binary.LittleEndian.Uint32(b))) * 1000
		case opFreq:
			if _, err := r.readByte(); err != nil {
				return nil, err
			}
		case opIdle:
			if _, err := r.readLength(); err != nil {
				return nil, err
			}
		case opModuleAux:
			return nil, r.skipModuleAux(off)
		case opFunction2:
			if err := r.skipString(); err != nil {
				return nil, err
			}
			return nil, &UnsupportedError{Offset: off, Opcode: op, Skipped: true}
		case opFunctionPreGA:
			return nil, &UnsupportedError{Offset: off, Opcode: op}
		case opEOF:
			return nil, r.readChecksum(off)
		default:
			k, err := r.readKey(off, Encoding(op))
			if err != nil {
				return nil, err
			}
			return k, nil
		}
	}
}

func (r *Reader) readHeader() error {
	b, err := r.readN(9)
	if err != nil {
		var fe *FormatError
		if errors.As(err, &fe) && errors.Is(err, io.ErrUnexpectedEOF) {
			fe.Msg = "not an RDB file: shorter than its 9-byte header"
		}
		return err
	}
	if string(b[:5]) != "REDIS" {
		return r.corrupt(0, "not an RDB file: header %q does not start with REDIS", b)
	}
	v := 0
	for _, c := range b[5:] {
		if c < '0' || c > '9' {
			return r.corrupt(5, "not an RDB file: bad version in header %q", b)
		}
		v = v*10 + int(c-'0')
	}
	if v < 1 {
		return r.corrupt(5, "bad RDB version %d", v)
	}
	if v > Version {
		return &VersionError{Version: v}
	}
	r.version = v
	return nil
}

func (r *Reader) readChecksum(off int64) error {
	r.crc = CRC64(r.crc, r.buf[r.crcPos:r.pos])
	r.crcPos = r.pos
	sum := r.crc
	if r.version >= 5 {
		b, err := r.readN(8)
		if err != nil {
			return err
		}
		// A zero checksum means the writer had checksums turned off.
		if stored := binary.LittleEndian.Uint64(b); stored != 0 && stored != sum {
			return &FormatError{Offset: off + 1,
				Msg: fmt.Sprintf("stored checksum %016x, computed %016x", stored, sum),
				Err: ErrChecksum}
		}
	}
	return io.EOF
}

func (r *Reader) readKey(off int64, enc Encoding) (Entry, error) {
	expire := r.expire
	r.expire = -1
	t, ok := enc.Type()
	isStream := enc == EncStreamListpacks || enc == EncStreamListpacks2 || enc == EncStreamListpacks3
	if !ok && !isStream && enc != EncModule && enc != EncModule2 {
		return nil, r.corrupt(off, "unknown value type or opcode 0x%02x", byte(enc))
	}
	key, err := r.readString()
	if err != nil {
		return nil, err
	}
	r.key = key
	k := Key{DB: r.db, Key: key, Expire: expire, Type: t, Encoding: enc}
	switch enc {
	case EncString:
		lzf := r.stats.lzf
		k.String, err = r.readString()
		if r.stats.lzf > lzf {
			r.stats.lzfValues++
		}
	case EncList:
		k.List, err = r.readStrings()
	case EncSet:
		k.Set, err = r.readStrings()
	case EncHash:
		k.Hash, err = r.readHash()
	case EncZSet, EncZSet2:
		k.ZSet, err = r.readZSet(enc == EncZSet2)
	case EncListQuicklist, EncListQuicklist2:
		k.List, err = r.readQuicklist(enc == EncListQuicklist2)
	case EncListZiplist:
		k.List, err = r.readBlobList("list", decodeZiplist)
	case EncSetIntset:
		k.Set, err = r.readBlobList("set", decodeIntset)
	case EncSetListpack:
		k.Set, err = r.readBlobList("set", decodeListpack)
	case EncHashZipmap, EncHashZiplist, EncHashListpack:
		k.Hash, err = r.readBlobHash(enc)
	case EncZSetZiplist, EncZSetListpack:
		k.ZSet, err = r.readZSetBlob(enc == EncZSetListpack)
	case EncModule, EncModule2:
		return nil, r.skipModuleValue(off, key, enc)
	default: // streams
		if err := r.skipStream(enc); err != nil {
			return nil, err
		}
		return nil, &UnsupportedError{Offset: off, Key: key, Encoding: enc, Skipped: true}
	}
	if err != nil {
		return nil, err
	}
	return k, nil
}

func (r *Reader) readStrings() ([][]byte, error) {
	n, err := r.readLength()
	if err != nil {
		return nil, err
	}
	out := make([][]byte, 0, min(n, maxPrealloc))
	for i := uint64(0); i < n; i++ {
		s, err := r.readString()
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

func (r *Reader) readHash() ([][2][]byte, error) {
	n, err := r.readLength()
	if err != nil {
		return nil, err
	}
	out := make([][2][]byte, 0, min(n, maxPrealloc))
	for i := uint64(0); i < n; i++ {
		f, err := r.readString()
		if err != nil {
			return nil, err
		}
		v, err := r.readString()
		if err != nil {
			return nil, err
		}
		out = append(out, [2][]byte{f, v})
	}
	return out, nil
}

func (r *Reader) readZSet(binaryScores bool) ([]ZMember, error) {
	n, err := r.readLength()
	if err != nil {
		return nil, err
	}
	out := make([]ZMember, 0, min(n, maxPrealloc))
	for i := uint64(0); i < n; i++ {
		m, err := r.readString()
		if err != nil {
			return nil, err
		}
		var score float64
		if binaryScores {
			b, err := r.readN(8)
			if err != nil {
				return nil, err
			}
			score = math.Float64frombits(binary.LittleEndian.Uint64(b))
		} else if score, err = r.readOldDouble(); err != nil {
			return nil, err
		}
		out = append(out, ZMember{Member: m, Score: score})
	}
	return out, nil
}

// readOldDouble reads a score of the old zset encoding: a length byte
// (253 NaN, 254 +inf, 255 -inf) followed by the number in text.
func (r *Reader) readOldDouble() (float64, error) {
	off := r.Offset()
	l, err := r.readByte()
	if err != nil {
		return 0, err
	}
	switch l {
	case 253:
		return math.NaN(), nil
	case 254:
		return math.Inf(1), nil
	case 255:
		return math.Inf(-1), nil
	}
	b, err := r.readN(int(l))
	if err != nil {
		return 0, err
	}
	f, ok := parseScore(b)
	if !ok {
		return 0, r.corrupt(off, "bad score %q", b)
	}
	return f, nil
}

func parseScore(b []byte) (float64, bool) {
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		var ne *strconv.NumError
		if !errors.As(err, &ne) || ne.Err != strconv.ErrRange {
			return 0, false
		}
	}
	return f, true
}

func (r *Reader) readQuicklist(v2 bool) ([][]byte, error) {
	n, err := r.readLength()
	if err != nil {
		return nil, err
	}
	var out [][]byte
	add := func(b []byte) { out = append(out, b) }
	for i := uint64(0); i < n; i++ {
		if !v2 {
			if err := r.readBlob("list", decodeZiplist, add); err != nil {
				return nil, err
			}
			continue
		}
		off := r.Offset()
		container, err := r.readLength()
		if err != nil {
			return nil, err
		}
		switch container {
		case 1: // plain: one element
			s, err := r.readString()
			if err != nil {
				return nil, err
			}
			r.stats.plainNodes++
			out = append(out, s)
		case 2: // packed: a listpack
			r.stats.packedNodes++
			if err := r.readBlob("list", decodeListpack, add); err != nil {
				return nil, err
			}
		default:
			return nil, r.corrupt(off, "bad quicklist node container %d", container)
		}
	}
	if out == nil {
		out = [][]byte{}
	}
	return out, nil
}

// readBlob reads a string holding a compact encoding and passes each
// element to add, integers as decimal strings.
func (r *Reader) readBlob(what string, dec func([]byte, elemFunc) error, add func([]byte)) error {
	off := r.Offset()
	b, err := r.readString()
	if err != nil {
		return err
	}
	err = dec(b, func(s []byte, n int64, isInt bool) error {
		if isInt {
			s = r.decimal(n)
		}
		add(s)
		return nil
	})
	if err != nil {
		return r.corrupt(off, "%s value: %v", what, err)
	}
	return nil
}

func (r *Reader) readBlobList(what string, dec func([]byte, elemFunc) error) ([][]byte, error) {
	out := [][]byte{}
	err := r.readBlob(what, dec, func(b []byte) { out = append(out, b) })
	return out, err
}

func (r *Reader) readBlobHash(enc Encoding) ([][2][]byte, error) {
	dec := decodeZiplist
	if enc == EncHashZipmap {
		dec = decodeZipmap
	} else if enc == EncHashListpack {
		dec = decodeListpack
	}
	off := r.Offset()
	out := [][2][]byte{}
	var field []byte
	half := false
	err := r.readBlob("hash", dec, func(b []byte) {
		if half = !half; half {
			field = b
		} else {
			out = append(out, [2][]byte{field, b})
		}
	})
	if err == nil && half {
		err = r.corrupt(off, "hash value has a field without a value")
	}
	return out, err
}

func (r *Reader) readZSetBlob(listpack bool) ([]ZMember, error) {
	boff := r.Offset()
	b, err := r.readString()
	if err != nil {
		return nil, err
	}
	dec := decodeZiplist
	if listpack {
		dec = decodeListpack
	}
	var out []ZMember
	var member []byte
	half := false
	err = dec(b, func(s []byte, n int64, isInt bool) error {
		if half = !half; half {
			if isInt {
				s = r.decimal(n)
			}
			member = s
			return nil
		}
		score := float64(n)
		if !isInt {
			var ok bool
			if score, ok = parseScore(s); !ok {
				return fmt.Errorf("bad score %q", s)
			}
		}
		out = append(out, ZMember{Member: member, Score: score})
		return nil
	})
	if err != nil {
		return nil, r.corrupt(boff, "zset value: %v", err)
	}
	if half {
		return nil, r.corrupt(boff, "zset blob has a member without a score")
	}
	if out == nil {
		out = []ZMember{}
	}
	return out, nil
}

// decimal returns n in decimal, carved from a shared block.
func (r *Reader) decimal(n int64) []byte {
	r.stats.intStrings++
	if cap(r.nums)-len(r.nums) < 20 {
		r.nums = make([]byte, 0, numArena)
	}
	start := len(r.nums)
	r.nums = strconv.AppendInt(r.nums, n, 10)
	return r.nums[start:len(r.nums):len(r.nums)]
}

// skipModuleAux steps over module auxiliary data.
func (r *Reader) skipModuleAux(off int64) error {
	id, err := r.readLength()
	if err != nil {
		return err
	}
	whenOff := r.Offset()
	whenOp, err := r.readLength()
	if err != nil {
		return err
	}
	if whenOp != 2 {
		return r.corrupt(whenOff, "module aux data: bad when-opcode %d", whenOp)
	}
	if _, err := r.readLength(); err != nil {
		return err
	}
	if err := r.skipModuleFields(); err != nil {
		return err
	}
	return &UnsupportedError{Offset: off, Opcode: opModuleAux, Module: moduleName(id), Skipped: true}
}

// skipModuleValue steps over a module value when its layout allows it.
func (r *Reader) skipModuleValue(off int64, key []byte, enc Encoding) error {
	id, err := r.readLength()
	if err != nil {
		return err
	}
	ue := &UnsupportedError{Offset: off, Key: key, Encoding: enc, Module: moduleName(id)}
	if enc == EncModule {
		return ue // the layout is private to the module
	}
	if err := r.skipModuleFields(); err != nil {
		return err
	}
	ue.Skipped = true
	return ue
}

// skipModuleFields steps over typed module fields up to their end marker.
func (r *Reader) skipModuleFields() error {
	for {
		off := r.Offset()
		op, err := r.readLength()
		if err != nil {
			return err
		}
		switch op {
		case 0: // end
			return nil
		case 1, 2: // signed, unsigned integer
			_, err = r.readLength()
		case 3: // float
			_, err = r.readN(4)
		case 4: // double
			_, err = r.readN(8)
		case 5: // string
			err = r.skipString()
		default:
			return r.corrupt(off, "bad module field type %d", op)
		}
		if err != nil {
			return err
		}
	}
}

// skipStream steps over a stream value.
func (r *Reader) skipStream(enc Encoding) error {
	lens := func(n int) error {
		for range n {
			if _, err := r.readLength(); err != nil {
				return err
			}
		}
		return nil
	}
	nodes, err := r.readLength()
	if err != nil {
		return err
	}
	for i := uint64(0); i < nodes; i++ {
		if err := r.skipString(); err != nil { // master entry id
			return err
		}
		if err := r.skipString(); err != nil { // listpack
			return err
		}
	}
	// Length and last id; then first id, max deleted id and entries added.
	n := 3
	if enc >= EncStreamListpacks2 {
		n += 5
	}
	if err := lens(n); err != nil {
		return err
	}
	groups, err := r.readLength()
	if err != nil {
		return err
	}
	for i := uint64(0); i < groups; i++ {
		if err := r.skipString(); err != nil { // name
			return err
		}
		n := 2 // last delivered id
		if enc >= EncStreamListpacks2 {
			n++ // entries read
		}
		if err := lens(n); err != nil {
			return err
		}
		pel, err := r.readLength()
		if err != nil {
			return err
		}
		for j := uint64(0); j < pel; j++ {
			// Entry id, delivery time, then the delivery count.
			if _, err := r.readN(16 + 8); err != nil {
				return err
			}
			if _, err := r.readLength(); err != nil {
				return err
			}
		}
		consumers, err := r.readLength()
		if err != nil {
			return err
		}
		for j := uint64(0); j < consumers; j++ {
			if err := r.skipString(); err != nil { // name
				return err
			}
			t := 8 // seen time
			if enc >= EncStreamListpacks3 {
				t += 8 // active time
			}
			if _, err := r.readN(t); err != nil {
				return err
			}
			pel, err := r.readLength()
			if err != nil {
				return err
			}
			for k := uint64(0); k < pel; k++ {
				if _, err := r.readN(16); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// Low-level decoding.

func (r *Reader) corrupt(off int64, format string, a ...any) error {
	return &FormatError{Offset: off, Key: r.key, Msg: fmt.Sprintf(format, a...)}
}

// inputErr wraps an error from fill for a field starting at off.
func (r *Reader) inputErr(off int64, what string, err error) error {
	if err == io.ErrUnexpectedEOF {
		return &FormatError{Offset: off, Key: r.key,
			Msg: fmt.Sprintf("truncated %s (the file ends at offset %d)", what, r.base+int64(r.end)),
			Err: err}
	}
	return &FormatError{Offset: off, Key: r.key, Msg: "reading " + what, Err: err}
}

// fill makes at least n (<= len(r.buf)) bytes available at r.buf[r.pos:].
// It returns io.ErrUnexpectedEOF if the input ends first.
func (r *Reader) fill(n int) error {
	if r.pos > 0 {
		r.crc = CRC64(r.crc, r.buf[r.crcPos:r.pos])
		copy(r.buf, r.buf[r.pos:r.end])
		r.base += int64(r.pos)
		r.end -= r.pos
		r.pos, r.crcPos = 0, 0
	}
	empty := 0
	for r.end < n {
		m, err := r.src.Read(r.buf[r.end:])
		r.end += m
		if r.end >= n {
			break
		}
		if err != nil {
			if err == io.EOF {
				return io.ErrUnexpectedEOF
			}
			return err
		}
		if m == 0 {
			if empty++; empty >= 100 {
				return io.ErrNoProgress
			}
		}
	}
	return nil
}

func (r *Reader) readByte() (byte, error) {
	if r.pos >= r.end {
		if err := r.fill(1); err != nil {
			return 0, r.inputErr(r.Offset(), "byte", err)
		}
	}
	c := r.buf[r.pos]
	r.pos++
	return c, nil
}

// readN returns the next n (small) bytes; the slice is valid until the
// next read.
func (r *Reader) readN(n int) ([]byte, error) {
	if r.end-r.pos < n {
		if err := r.fill(n); err != nil {
			return nil, r.inputErr(r.Offset(), strconv.Itoa(n)+"-byte field", err)
		}
	}
	b := r.buf[r.pos : r.pos+n]
	r.pos += n
	return b, nil
}

// readLen reads a length. If enc is true the value is instead one of the
// special string encodings (0-2 integers, 3 LZF).
func (r *Reader) readLen() (n uint64, enc bool, err error) {
	off := r.Offset()
	c, err := r.readByte()
	if err != nil {
		return 0, false, err
	}
	switch c >> 6 {
	case 0:
		return uint64(c & 0x3f), false, nil
	case 1:
		c2, err := r.readByte()
		if err != nil {
			return 0, false, err
		}
		return uint64(c&0x3f)<<8 | uint64(c2), false, nil
	case 3:
		return uint64(c & 0x3f), true, nil
	}
	switch c {
	case 0x80:
		b, err := r.readN(4)
		if err != nil {
			return 0, false, err
		}
		return uint64(binary.BigEndian.Uint32(b)), false, nil
	case 0x81:
		b, err := r.readN(8)
		if err != nil {
			return 0, false, err
		}
		return binary.BigEndian.Uint64(b), false, nil
	}
	return 0, false, r.corrupt(off, "bad length encoding 0x%02x", c)
}

// readLength reads a plain length.
func (r *Reader) readLength() (uint64, error) {
	off := r.Offset()
	n, enc, err := r.readLen()
	if err != nil {
		return 0, err
	}
	if enc {
		return 0, r.corrupt(off, "expected a length, found a string encoding")
	}
	return n, nil
}

// readString reads a string in any of its encodings into new memory.
func (r *Reader) readString() ([]byte, error) {
	off := r.Offset()
	n, enc, err := r.readLen()
	if err != nil {
		return nil, err
	}
	if !enc {
		return r.readBytes(off, n, nil)
	}
	switch n {
	case 0, 1, 2:
		w := 1 << n
		b, err := r.readN(w)
		if err != nil {
			return nil, err
		}
		var v int64
		switch w {
		case 1:
			v = int64(int8(b[0]))
		case 2:
			v = int64(int16(binary.LittleEndian.Uint16(b)))
		default:
			v = int64(int32(binary.LittleEndian.Uint32(b)))
		}
		return r.decimal(v), nil
	case 3:
		return r.readLZF(off, false)
	}
	return nil, r.corrupt(off, "bad string encoding 0x%02x", 0xC0|n)
}

// skipString steps over a string without keeping it.
func (r *Reader) skipString() error {
	off := r.Offset()
	n, enc, err := r.readLen()
	if err != nil {
		return err
	}
	if enc {
		switch n {
		case 0, 1, 2:
			_, err := r.readN(1 << n)
			return err
		case 3:
			_, err := r.readLZF(off, true)
			return err
		}
		return r.corrupt(off, "bad string encoding 0x%02x", 0xC0|n)
	}
	return r.discard(off, n)
}

func (r *Reader) readLZF(off int64, skip bool) ([]byte, error) {
	clen, err := r.readLength()
	if err != nil {
		return nil, err
	}
	ulen, err := r.readLength()
	if err != nil {
		return nil, err
	}
	if ulen/lzfMaxRatio > clen || clen > math.MaxInt || ulen > math.MaxInt {
		return nil, r.corrupt(off, "compressed string of %d bytes cannot expand to %d", clen, ulen)
	}
	if skip {
		return nil, r.discard(off, clen)
	}
	c, err := r.readBytes(off, clen, r.scratch[:0])
	if err != nil {
		return nil, err
	}
	if cap(c) <= 1<<20 {
		r.scratch = c[:0]
	}
	out := make([]byte, ulen)
	if err := lzfDecompress(c, out); err != nil {
		return nil, r.corrupt(off, "compressed string: %v", err)
	}
	r.stats.lzf++
	return out, nil
}

// readBytes reads a string of n bytes, appending it to dst (new memory if
// dst is nil). Beyond directAlloc it grows the result as data arrives.
func (r *Reader) readBytes(off int64, n uint64, dst []byte) ([]byte, error) {
	if n > math.MaxInt {
		return nil, r.corrupt(off, "string length %d out of range", n)
	}
	want := int(n)
	if dst == nil && want <= directAlloc {
		dst = make([]byte, want)
		if err := r.readFull(dst); err != nil {
			return nil, r.inputErr(off, fmt.Sprintf("string of %d bytes", want), err)
		}
		return dst, nil
	}
	for len(dst) < want {
		k := min(want-len(dst), max(len(dst), directAlloc))
		dst = slices.Grow(dst, k)
		if err := r.readFull(dst[len(dst) : len(dst)+k]); err != nil {
			return nil, r.inputErr(off, fmt.Sprintf("string of %d bytes", want), err)
		}
		dst = dst[:len(dst)+k]
	}
	return dst, nil
}

// readFull fills dst from the input.
func (r *Reader) readFull(dst []byte) error {
	for len(dst) > 0 {
		if r.pos == r.end {
			if len(dst) >= len(r.buf) {
				// Large read: bypass the buffer.
				r.crc = CRC64(r.crc, r.buf[r.crcPos:r.pos])
				r.base += int64(r.pos)
				r.pos, r.end, r.crcPos = 0, 0, 0
				m, err := io.ReadFull(r.src, dst)
				r.crc = CRC64(r.crc, dst[:m])
				r.base += int64(m)
				if err == io.EOF {
					err = io.ErrUnexpectedEOF
				}
				return err
			}
			if err := r.fill(1); err != nil {
				return err
			}
		}
		m := copy(dst, r.buf[r.pos:r.end])
		r.pos += m
		dst = dst[m:]
	}
	return nil
}

// discard steps over n bytes.
func (r *Reader) discard(off int64, n uint64) error {
	for n > 0 {
		if r.pos == r.end {
			if err := r.fill(1); err != nil {
				return r.inputErr(off, "string", err)
			}
		}
		m := uint64(r.end - r.pos)
		if m > n {
			m = n
		}
		r.pos += int(m)
		n -= m
	}
	return nil
}
