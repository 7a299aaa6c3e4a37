package backend

import (
	"math/rand/v2"
	"slices"
	"strings"
)

// Hash is a hash value. Its encoding follows Redis 7.0: "listpack" (fields
// and values in insertion order, searched linearly) while it has at most
// hash-max-listpack-entries fields and no field or value is longer than
// hash-max-listpack-value bytes, then "hashtable" for good.
type Hash struct {
	lp []string // listpack encoding: field0, value0, field1, ...; used while ht == nil
	ht *memberTable[string]
	// bytes counts the bytes of all fields and values.
	bytes int
}

// newHash returns an empty hash in the listpack encoding.
func newHash() *Hash { return &Hash{} }

// Len is the number of fields.
func (h *Hash) Len() int {
	if h.ht != nil {
		return h.ht.Len()
	}
	return len(h.lp) / 2
}

// Encoding is what OBJECT ENCODING answers.
func (h *Hash) Encoding() string {
	if h.ht != nil {
		return "hashtable"
	}
	return "listpack"
}

// IsListpack reports whether the hash is in the listpack encoding.
func (h *Hash) IsListpack() bool { return h.ht == nil }

func (h *Hash) lpFind(field string) int {
	for i := 0; i < len(h.lp); i += 2 {
		if h.lp[i] == field {
			return i
		}
	}
	return -1
}

// Get returns the value of field.
func (h *Hash) Get(field string) (string, bool) {
	if h.ht != nil {
		return h.ht.Get(field)
	}
	if i := h.lpFind(field); i >= 0 {
		return h.lp[i+1], true
	}
	return "", false
}

// Has reports whether field exists.
func (h *Hash) Has(field string) bool {
	if h.ht != nil {
		return h.ht.Has(field)
	}
	return h.lpFind(field) >= 0
}

// Set sets field to value and reports whether the field is new, converting
// the encoding as Redis's hashTypeSet does: a field or value longer than
// maxValue converts before the write, more than maxEntries fields after it.
// field is copied if stored (it may alias a request buffer); value is
// stored as it is.
func (h *Hash) Set(field, value string, maxEntries, maxValue int) bool {
	if h.ht == nil && (len(field) > maxValue || len(value) > maxValue) {
		h.convert()
	}
	if h.ht != nil {
		old, inserted := h.ht.Swap(field, value, false)
		if inserted {
			h.bytes += len(field) + len(value)
		} else {
			h.bytes += len(value) - len(old)
		}
		return inserted
	}
	inserted := false
	if i := h.lpFind(field); i >= 0 {
		h.bytes += len(value) - len(h.lp[i+1])
		h.lp[i+1] = value
	} else {
		h.lp = append(h.lp, strings.Clone(field), value)
		h.bytes += len(field) + len(value)
		inserted = true
	}
	if h.Len() > maxEntries {
		h.convert()
	}
	return inserted
}

// convert switches to the hashtable encoding.
func (h *Hash) convert() {
	if h.ht != nil {
		return
	}
	t := newMemberTable[string]()
	for i := 0; i < len(h.lp); i += 2 {
		t.Put(h.lp[i], h.lp[i+1], true)
	}
	h.ht = t
	h.lp = nil
}

// Delete removes field and reports whether it existed.
func (h *Hash) Delete(field string) bool {
	if h.ht != nil {
		k, v, ok := h.ht.Delete(field)
		if ok {
			h.bytes -= len(k) + len(v)
		}
		return ok
	}
	i := h.lpFind(field)
	if i < 0 {
		return false
	}
	h.bytes -= len(h.lp[i]) + len(h.lp[i+1])
	h.lp = slices.Delete(h.lp, i, i+2)
	return true
}

// Each calls fn on every field and value (insertion order for a listpack)
// until fn returns false.
func (h *Hash) Each(fn func(field, value string) bool) {
	if h.ht != nil {
		h.ht.Each(fn)
		return
	}
	for i := 0; i < len(h.lp); i += 2 {
		if !fn(h.lp[i], h.lp[i+1]) {
			return
		}
	}
}

// Random returns a uniformly random field and its value; h must not be
// empty.
func (h *Hash) Random() (string, string) {
	if h.ht != nil {
		return h.ht.Random()
	}
	i := 2 * rand.IntN(len(h.lp)/2)
	return h.lp[i], h.lp[i+1]
}

// At calls fn on the entries at the given ascending positions of the
// iteration order.
func (h *Hash) At(positions []int, fn func(field, value string)) {
	if h.ht != nil {
		h.ht.At(positions, fn)
		return
	}
	for _, p := range positions {
		fn(h.lp[2*p], h.lp[2*p+1])
	}
}

// Clone returns a deep copy.
func (h *Hash) Clone() *Hash {
	n := &Hash{bytes: h.bytes}
	if h.ht != nil {
		n.ht = h.ht.Clone()
	} else {
		n.lp = slices.Clone(h.lp)
	}
	return n
}

// MemUsage estimates the bytes the hash takes.
func (h *Hash) MemUsage() int64 {
	if h.ht != nil {
		return 32 + h.ht.overhead() + int64(h.bytes) + int64(h.ht.Len())*16
	}
	return 32 + int64(cap(h.lp))*16 + int64(h.bytes)
}
