package backend

import (
	"unsafe"

	"github.com/lagwise/lagwise/rdb"
)

// Type is a value's Redis type: the RDB codec's, numbered as Redis numbers
// them (OBJ_STRING ... OBJ_HASH), which DEBUG DIGEST mixes in; its String
// is what TYPE answers.
type Type = rdb.Type

const (
	TypeString = rdb.TypeString
	TypeList   = rdb.TypeList
	TypeSet    = rdb.TypeSet
	TypeZSet   = rdb.TypeZSet
	TypeHash   = rdb.TypeHash
)

// Obj is one value of the keyspace in 16 bytes: a pointer and a word of
// metadata. Millions of small keys each cost one map slot plus their bytes,
// with no header object for the garbage collector to scan.
//
// For a string, p points at the bytes (immutable, like a Go string) and the
// low 32 bits of meta hold the length; a string grown in place by APPEND or
// SETRANGE is kept as a *[]byte instead (kindStrBuf) so repeated appends stay
// amortised O(1). For the other types p points at the collection.
//
// meta layout: bits 0-31 length (strings), bits 32-39 kind, bits 40-63 the
// LRU clock (seconds, 24 bits, like Redis's robj.lru).
type Obj struct {
	p    unsafe.Pointer
	meta uint64
}

type kind uint8

const (
	kindStr kind = iota
	kindStrBuf
	kindList
	kindSet
	kindZSet
	kindHash
)

const lruBits = 24
const lruMax = 1<<lruBits - 1

func (o Obj) kind() kind { return kind(o.meta >> 32) }

// Type is the Redis type of o.
func (o Obj) Type() Type {
	switch o.kind() {
	case kindList:
		return TypeList
	case kindSet:
		return TypeSet
	case kindZSet:
		return TypeZSet
	case kindHash:
		return TypeHash
	}
	return TypeString
}

func mkmeta(k kind, n int) uint64 { return uint64(k)<<32 | uint64(uint32(n)) }

// StrObj makes a string value; s must not alias a buffer that will change.
func StrObj(s string) Obj {
	return Obj{p: unsafe.Pointer(unsafe.StringData(s)), meta: mkmeta(kindStr, len(s))}
}

// strBufObj makes a growable string value that owns *b.
func strBufObj(b *[]byte) Obj { return Obj{p: unsafe.Pointer(b), meta: mkmeta(kindStrBuf, 0)} }

// Str returns the bytes of a string value as a string. For a grown string
// the result aliases its buffer: use it before the next write to that key.
func (o Obj) Str() string {
	switch o.kind() {
	case kindStr:
		return unsafe.String((*byte)(o.p), int(uint32(o.meta)))
	case kindStrBuf:
		b := *(*[]byte)(o.p)
		return unsafe.String(unsafe.SliceData(b), len(b))
	}
	return ""
}

// StrLen is the length of a string value.
func (o Obj) StrLen() int {
	if o.kind() == kindStrBuf {
		return len(*(*[]byte)(o.p))
	}
	return int(uint32(o.meta))
}

// strBuf returns the growable buffer of a kindStrBuf value.
func (o Obj) strBuf() *[]byte { return (*[]byte)(o.p) }

// isStrBuf reports whether o is a string grown in place (encoding "raw").
func (o Obj) isStrBuf() bool { return o.kind() == kindStrBuf }

func listObj(l *List) Obj { return Obj{p: unsafe.Pointer(l), meta: mkmeta(kindList, 0)} }
func setObj(s *Set) Obj   { return Obj{p: unsafe.Pointer(s), meta: mkmeta(kindSet, 0)} }
func zsetObj(z *ZSet) Obj { return Obj{p: unsafe.Pointer(z), meta: mkmeta(kindZSet, 0)} }
func hashObj(h *Hash) Obj { return Obj{p: unsafe.Pointer(h), meta: mkmeta(kindHash, 0)} }

// List returns the list of a list value.
func (o Obj) List() *List { return (*List)(o.p) }

// Set returns the set of a set value.
func (o Obj) Set() *Set { return (*Set)(o.p) }

// ZSet returns the sorted set of a zset value.
func (o Obj) ZSet() *ZSet { return (*ZSet)(o.p) }

// Hash returns the hash of a hash value.
func (o Obj) Hash() *Hash { return (*Hash)(o.p) }

// LRU is the access clock stored with the value.
func (o Obj) LRU() uint32 { return uint32(o.meta >> 40) }

// withLRU returns o stamped with the access clock c.
func (o Obj) withLRU(c uint32) Obj {
	o.meta = o.meta&(1<<40-1) | uint64(c&lruMax)<<40
	return o
}
