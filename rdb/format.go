package rdb

import (
	"errors"
	"fmt"
	"strconv"
)

// Version is the RDB version this package writes, the one Redis 7.0 uses.
// The Reader accepts versions 1 through Version.
const Version = 10

// Opcodes that introduce something other than a key.
const (
	opFunction2     = 0xF5 // a function library (Redis 7.0)
	opFunctionPreGA = 0xF6 // a function library (7.0 release candidates)
	opModuleAux     = 0xF7 // module data not tied to a key
	opIdle          = 0xF8 // LRU idle time of the next key
	opFreq          = 0xF9 // LFU frequency of the next key
	opAux           = 0xFA // auxiliary field
	opResizeDB      = 0xFB // hash table size hints for the current database
	opExpireMs      = 0xFC // expire time of the next key, unix milliseconds
	opExpire        = 0xFD // expire time of the next key, unix seconds
	opSelectDB      = 0xFE // switch database
	opEOF           = 0xFF // end of file, followed by the checksum
)

// Encoding is the type byte Redis writes in front of a key: it names both
// the data type and the way the value is laid out.
type Encoding uint8

// The value encodings of RDB versions up to 11.
const (
	EncString           Encoding = 0  // string
	EncList             Encoding = 1  // list, a length and its elements
	EncSet              Encoding = 2  // set, a length and its members
	EncZSet             Encoding = 3  // sorted set, scores as strings
	EncHash             Encoding = 4  // hash, a length and field/value pairs
	EncZSet2            Encoding = 5  // sorted set, binary double scores
	EncModule           Encoding = 6  // module value, old layout
	EncModule2          Encoding = 7  // module value with typed fields
	EncHashZipmap       Encoding = 9  // hash in a zipmap blob
	EncListZiplist      Encoding = 10 // list in a ziplist blob
	EncSetIntset        Encoding = 11 // set of integers in an intset blob
	EncZSetZiplist      Encoding = 12 // sorted set in a ziplist blob
	EncHashZiplist      Encoding = 13 // hash in a ziplist blob
	EncListQuicklist    Encoding = 14 // list as ziplist nodes
	EncStreamListpacks  Encoding = 15 // stream
	EncHashListpack     Encoding = 16 // hash in a listpack blob
	EncZSetListpack     Encoding = 17 // sorted set in a listpack blob
	EncListQuicklist2   Encoding = 18 // list as listpack or plain nodes
	EncStreamListpacks2 Encoding = 19 // stream, Redis 7.0
	EncSetListpack      Encoding = 20 // set in a listpack blob (RDB 11)
	EncStreamListpacks3 Encoding = 21 // stream (RDB 11)
)

var encodingNames = [...]string{
	EncString:           "string",
	EncList:             "list",
	EncSet:              "set",
	EncZSet:             "zset",
	EncHash:             "hash",
	EncZSet2:            "zset-2",
	EncModule:           "module",
	EncModule2:          "module-2",
	EncHashZipmap:       "hash-zipmap",
	EncListZiplist:      "list-ziplist",
	EncSetIntset:        "set-intset",
	EncZSetZiplist:      "zset-ziplist",
	EncHashZiplist:      "hash-ziplist",
	EncListQuicklist:    "list-quicklist",
	EncStreamListpacks:  "stream-listpacks",
	EncHashListpack:     "hash-listpack",
	EncZSetListpack:     "zset-listpack",
	EncListQuicklist2:   "list-quicklist-2",
	EncStreamListpacks2: "stream-listpacks-2",
	EncSetListpack:      "set-listpack",
	EncStreamListpacks3: "stream-listpacks-3",
}

func (e Encoding) String() string {
	if int(e) < len(encodingNames) && encodingNames[e] != "" {
		return encodingNames[e]
	}
	return "encoding(" + strconv.Itoa(int(e)) + ")"
}

// Type reports the data type the encoding stores, and false for streams,
// modules and unknown encodings.
func (e Encoding) Type() (Type, bool) {
	switch e {
	case EncString:
		return TypeString, true
	case EncList, EncListZiplist, EncListQuicklist, EncListQuicklist2:
		return TypeList, true
	case EncSet, EncSetIntset, EncSetListpack:
		return TypeSet, true
	case EncZSet, EncZSet2, EncZSetZiplist, EncZSetListpack:
		return TypeZSet, true
	case EncHash, EncHashZipmap, EncHashZiplist, EncHashListpack:
		return TypeHash, true
	}
	return 0, false
}

// kind names the data type of an encoding for error messages.
func (e Encoding) kind() string {
	switch e {
	case EncStreamListpacks, EncStreamListpacks2, EncStreamListpacks3:
		return "stream"
	case EncModule, EncModule2:
		return "module"
	}
	if t, ok := e.Type(); ok {
		return t.String()
	}
	return "unknown"
}

// Type is a Redis data type. The values match Redis's OBJ_* constants.
type Type uint8

// The data types this package reads and writes.
const (
	TypeString Type = 0
	TypeList   Type = 1
	TypeSet    Type = 2
	TypeZSet   Type = 3
	TypeHash   Type = 4
)

// String returns the name the Redis TYPE command uses.
func (t Type) String() string {
	switch t {
	case TypeString:
		return "string"
	case TypeList:
		return "list"
	case TypeSet:
		return "set"
	case TypeZSet:
		return "zset"
	case TypeHash:
		return "hash"
	}
	return "type(" + strconv.Itoa(int(t)) + ")"
}

// Errors that the package's errors wrap, for errors.Is.
var (
	// ErrChecksum: the CRC64 stored after the EOF opcode does not match
	// the file.
	ErrChecksum = errors.New("checksum mismatch")
	// ErrUnsupported: the file holds something valid that this package
	// does not represent (streams, modules, functions).
	ErrUnsupported = errors.New("unsupported content")
)

// FormatError reports a file that cannot be decoded: corrupt, truncated,
// or unreadable (Err then holds the reader's error). Offset is the byte
// offset in the file of the field whose decoding failed. After a
// FormatError the Reader returns it again from every call.
type FormatError struct {
	Offset int64
	Key    []byte // the key being decoded, nil outside a key
	Msg    string
	Err    error // io.ErrUnexpectedEOF, ErrChecksum, a read error, or nil
}

func (e *FormatError) Error() string {
	s := "rdb: corrupt or truncated file at offset " + strconv.FormatInt(e.Offset, 10)
	if e.Key != nil {
		s += " (key " + quoteKey(e.Key) + ")"
	}
	s += ": " + e.Msg
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *FormatError) Unwrap() error { return e.Err }

// VersionError reports a header with an RDB version this package does not
// read.
type VersionError struct {
	Version int
}

func (e *VersionError) Error() string {
	return fmt.Sprintf("rdb: unsupported RDB version %d", e.Version)
}

// UnsupportedError reports valid content that this package does not
// represent: a stream or module key, module auxiliary data, or a function
// library. Nothing of the item is returned. If Skipped is true the Reader
// has consumed the item and the next call to Next goes on with the rest
// of the file; otherwise the item could not be stepped over and the error
// is final.
type UnsupportedError struct {
	Offset   int64    // where the item starts
	Key      []byte   // the key, for a stream or module value
	Encoding Encoding // the key's type byte, for a stream or module value
	Opcode   byte     // the opcode, for an item that is not a key
	Module   string   // the module's type name, for module data
	Skipped  bool
}

func (e *UnsupportedError) Error() string {
	var s string
	switch {
	case e.Key != nil:
		s = fmt.Sprintf("rdb: key %s has type %s (%d)", quoteKey(e.Key), e.Encoding.kind(), e.Encoding)
		if e.Module != "" {
			s += fmt.Sprintf(" of module %q", e.Module)
		}
	case e.Opcode == opFunction2 || e.Opcode == opFunctionPreGA:
		s = fmt.Sprintf("rdb: the file holds a function library (opcode 0x%02x)", e.Opcode)
	case e.Opcode == opModuleAux:
		s = fmt.Sprintf("rdb: the file holds auxiliary data of module %q (opcode 0x%02x)", e.Module, e.Opcode)
	default:
		s = fmt.Sprintf("rdb: unsupported item (opcode 0x%02x)", e.Opcode)
	}
	return s + ", which lagwise does not support"
}

func (e *UnsupportedError) Unwrap() error { return ErrUnsupported }

// quoteKey quotes a key for an error message, shortening a long one.
func quoteKey(k []byte) string {
	const max = 64
	if len(k) > max {
		return strconv.Quote(string(k[:max])) + "..."
	}
	return strconv.Quote(string(k))
}

// moduleName decodes the nine-character type name from a 64-bit module
// type id (the low 10 bits are the encoding version).
func moduleName(id uint64) string {
	const cset = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	var name [9]byte
	id >>= 10
	for j := 8; j >= 0; j-- {
		name[j] = cset[id&63]
		id >>= 6
	}
	return string(name[:])
}
