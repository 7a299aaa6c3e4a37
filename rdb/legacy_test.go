package rdb

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"strconv"
)

// legacyKey is a key written in an encoding the Writer does not produce:
// want is what reading it must give, write puts it into a Writer.
type legacyKey struct {
	want  Key
	write func(w *Writer)
}

// writeOldScore writes a score of the type-3 zset encoding.
func writeOldScore(w *Writer, f float64) {
	switch {
	case math.IsNaN(f):
		w.buf = append(w.buf, 253)
	case math.IsInf(f, 1):
		w.buf = append(w.buf, 254)
	case math.IsInf(f, -1):
		w.buf = append(w.buf, 255)
	default:
		s := strconv.FormatFloat(f, 'g', 17, 64)
		w.buf = append(w.buf, byte(len(s)))
		w.buf = append(w.buf, s...)
	}
}

// legacyKeys returns keys in every encoding Redis 7.0 can load that the
// Writer does not write, in database db. Redis 7.0 loads all of them
// (set-listpack, from RDB 11, is left out unless withRDB11 is set).
func legacyKeys(db int, withRDB11 bool) []legacyKey {
	var out []legacyKey
	add := func(k Key, enc Encoding, body func(w *Writer)) {
		k.DB = db
		if k.Expire == 0 {
			k.Expire = -1
		}
		key, exp := k.Key, k.Expire
		out = append(out, legacyKey{want: k, write: func(w *Writer) { rawKey(w, enc, key, exp, body) }})
	}
	big := bytes.Repeat([]byte("0123456789abcdef"), 1100) // 17600 bytes
	mid := bytes.Repeat([]byte("xyz"), 100)               // 300 bytes
	mixed := append(bs(edgeInts...), []byte(""), []byte("a"), mid, big, []byte("tail"), bytes.Repeat([]byte("q"), 5000))

	zipmapHash := [][2][]byte{{[]byte("a"), []byte("1")}, {[]byte("long"), mid}, {mid, []byte("v")}, {[]byte(""), []byte("")}}
	add(Key{Key: []byte("legacy:zipmap"), Type: TypeHash, Hash: zipmapHash}, EncHashZipmap, func(w *Writer) {
		w.writeString(encodeZipmap(zipmapHash))
	})
	add(Key{Key: []byte("legacy:list-ziplist"), Type: TypeList, List: mixed}, EncListZiplist, func(w *Writer) {
		w.writeString(encodeZiplist(mixed))
	})
	for i, vals := range [][]int64{{1, -5, 300, 32767, -32768}, {1, 70000, math.MinInt32}, {3, math.MaxInt64, math.MinInt64, -1}} {
		var set [][]byte
		for _, v := range vals {
			set = append(set, strconv.AppendInt(nil, v, 10))
		}
		add(Key{Key: fmt.Appendf(nil, "legacy:intset%d", i), Type: TypeSet, Set: set}, EncSetIntset, func(w *Writer) {
			w.writeString(encodeIntset(vals))
		})
	}
	zs := []ZMember{{[]byte("a"), 1}, {[]byte("b"), -2.5}, {[]byte("7"), math.Inf(1)}, {[]byte("d"), math.Inf(-1)},
		{[]byte("e"), math.Pi}, {[]byte("f"), 1e300}, {[]byte("g"), 123456789012}}
	add(Key{Key: []byte("legacy:zset-ziplist"), Type: TypeZSet, ZSet: zs}, EncZSetZiplist, func(w *Writer) {
		w.writeString(encodeZiplist(flatZSet(zs)))
	})
	add(Key{Key: []byte("legacy:zset-listpack"), Type: TypeZSet, ZSet: zs, Expire: farFuture + 5}, EncZSetListpack, func(w *Writer) {
		w.writeString(encodeListpack(flatZSet(zs)))
	})
	add(Key{Key: []byte("legacy:zset-strscores"), Type: TypeZSet, ZSet: zs}, EncZSet, func(w *Writer) {
		w.writeLen(uint64(len(zs)))
		for _, m := range zs {
			w.writeString(m.Member)
			writeOldScore(w, m.Score)
		}
	})
	h := [][2][]byte{{[]byte("f1"), []byte("v1")}, {[]byte("n"), []byte("-77")}, {[]byte("big"), big}, {[]byte("100"), []byte("")}}
	add(Key{Key: []byte("legacy:hash-ziplist"), Type: TypeHash, Hash: h}, EncHashZiplist, func(w *Writer) {
		w.writeString(encodeZiplist(flatHash(h)))
	})
	add(Key{Key: []byte("legacy:hash-listpack"), Type: TypeHash, Hash: h, Expire: farFuture + 6}, EncHashListpack, func(w *Writer) {
		w.writeString(encodeListpack(flatHash(h)))
	})
	add(Key{Key: []byte("legacy:list-listpack-mixed"), Type: TypeList, List: mixed}, EncListQuicklist2, func(w *Writer) {
		w.writeLen(1)
		w.writeLen(2)
		w.writeString(encodeListpack(mixed))
	})
	nodes := [][][]byte{bs("a", "b", "1"), bs("repeat repeat repeat repeat repeat repeat", "repeat repeat repeat repeat repeat", "99999"), bs("last")}
	var flat [][]byte
	for _, n := range nodes {
		flat = append(flat, n...)
	}
	add(Key{Key: []byte("legacy:quicklist"), Type: TypeList, List: flat}, EncListQuicklist, func(w *Writer) {
		w.writeLen(uint64(len(nodes)))
		for _, n := range nodes {
			w.writeString(encodeZiplist(n))
		}
	})
	q2 := append(append(bs("p1", "p2"), mid), bs("x", "5")...)
	add(Key{Key: []byte("legacy:quicklist2"), Type: TypeList, List: q2}, EncListQuicklist2, func(w *Writer) {
		w.writeLen(3)
		w.writeLen(2)
		w.writeString(encodeListpack(q2[:2]))
		w.writeLen(1)
		w.writeString(mid)
		w.writeLen(2)
		w.writeString(encodeListpack(q2[3:]))
	})
	// A string with an expire time in seconds, and LFU/LRU opcodes.
	secs := int64(math.MaxInt32 - 1000) // the field is a signed 32-bit number
	out = append(out, legacyKey{
		want: Key{DB: db, Key: []byte("legacy:expire-seconds"), Type: TypeString, String: []byte("v"), Expire: secs * 1000},
		write: func(w *Writer) {
			w.buf = append(w.buf, opExpire)
			w.buf = binary.LittleEndian.AppendUint32(w.buf, uint32(secs))
			w.buf = append(w.buf, opFreq, 5, opIdle)
			w.writeLen(1234)
			rawKey(w, EncString, []byte("legacy:expire-seconds"), -1, func(w *Writer) { w.writeString([]byte("v")) })
		},
	})
	if withRDB11 {
		add(Key{Key: []byte("legacy:set-listpack"), Type: TypeSet, Set: bs("a", "1", "-70000")}, EncSetListpack, func(w *Writer) {
			w.writeString(encodeListpack(bs("a", "1", "-70000")))
		})
	}
	return out
}
