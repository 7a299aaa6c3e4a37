package backend

import (
	"crypto/sha1"
	"encoding/binary"
	"encoding/hex"

	"github.com/lagwise/lagwise/backend/resp"
)

// DEBUG DIGEST: Redis 7.0's dataset digest (debug.c), bit for bit, so a
// dataset can be compared with a real Redis holding the same data.
//
// Unordered things (keys, set members, hash fields, zset members) are
// combined by xor of their SHA1s; ordered things (a key's parts, list
// elements) by mixing: digest = SHA1(digest xor SHA1(data)).

// xorDigest xors SHA1(data) into d.
func xorDigest(d *[20]byte, data []byte) {
	h := sha1.Sum(data)
	for i := range d {
		d[i] ^= h[i]
	}
}

func xorDigestString(d *[20]byte, s string) { xorDigest(d, []byte(s)) }

// mixDigest sets d to SHA1(d xor SHA1(data)).
func mixDigest(d *[20]byte, data []byte) {
	xorDigest(d, data)
	*d = sha1.Sum(d[:])
}

func mixDigestString(d *[20]byte, s string) { mixDigest(d, []byte(s)) }

// xorObjectDigest mixes the digest of value o into d, as Redis's
// xorObjectDigest does (d already holds the key's mix).
func xorObjectDigest(d *[20]byte, o Obj, volatile bool) {
	var aux [4]byte
	binary.BigEndian.PutUint32(aux[:], uint32(o.Type()))
	mixDigest(d, aux[:])
	switch o.Type() {
	case TypeString:
		mixDigestString(d, o.Str())
	case TypeList:
		o.List().Each(func(elem string) bool {
			mixDigestString(d, elem)
			return true
		})
	case TypeSet:
		o.Set().Each(func(member string) bool {
			xorDigestString(d, member)
			return true
		})
	case TypeZSet:
		var buf []byte
		// A listpack keeps scores as text, where Redis stores -0 as the
		// integer 0; a skiplist keeps the double.
		packed := o.ZSet().Encoding() == "listpack"
		o.ZSet().Each(func(member string, score float64) bool {
			if packed && score == 0 {
				score = 0
			}
			var ele [20]byte
			mixDigestString(&ele, member)
			buf = resp.FormatScore(buf[:0], score)
			mixDigest(&ele, buf)
			xorDigest(d, ele[:])
			return true
		})
	case TypeHash:
		o.Hash().Each(func(field, value string) bool {
			var ele [20]byte
			mixDigestString(&ele, field)
			mixDigestString(&ele, value)
			xorDigest(d, ele[:])
			return true
		})
	}
	if volatile {
		xorDigestString(d, "!!expire!!")
	}
}

// datasetDigest is Redis's computeDatasetDigest: per non-empty db, the db
// number is mixed into the result, then every key's digest xored in.
func (s *Server) datasetDigest() [20]byte {
	var final [20]byte
	for _, db := range s.dbs {
		if db.Size() == 0 {
			continue
		}
		var aux [4]byte
		binary.BigEndian.PutUint32(aux[:], uint32(db.id))
		mixDigest(&final, aux[:])
		db.dict.Each(func(key string, o Obj) bool {
			var d [20]byte
			mixDigestString(&d, key)
			xorObjectDigest(&d, o, db.expireAt(key) >= 0)
			xorDigest(&final, d[:])
			return true
		})
	}
	return final
}

func digestHex(d [20]byte) string { return hex.EncodeToString(d[:]) }
