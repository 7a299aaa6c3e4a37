package backend

// List is a list value: a deque of strings kept contiguous in one buffer,
// with free room at both ends. Pushing and popping at either end is O(1)
// (amortised), access by index is O(1), and ranges are plain sub-slices.
// Insertions and removals in the middle shift the shorter side.
//
// The elements live in buf[lo:hi]; slots outside that window are always
// the empty string, so popped elements are not kept alive.
type List struct {
	buf   []string
	lo    int
	hi    int
	bytes int // total length of the elements, for MemUsage
}

const (
	listMinCap    = 4
	listShrinkMin = 64 // never shrink a buffer below this capacity
)

// newList makes an empty list.
func newList() *List { return &List{} }

// newListCap makes an empty list with room for n elements at the back.
func newListCap(n int) *List {
	if n < listMinCap {
		n = listMinCap
	}
	return &List{buf: make([]string, n)}
}

// Len is the number of elements.
func (l *List) Len() int { return l.hi - l.lo }

// Encoding is what OBJECT ENCODING answers: Redis 7.0 keeps every list as a
// quicklist.
func (l *List) Encoding() string { return "quicklist" }

// MemUsage estimates the bytes the list takes.
func (l *List) MemUsage() int64 {
	// header + string headers of the whole buffer + element bytes with a
	// rough per-allocation overhead.
	return 48 + 16*int64(len(l.buf)) + int64(l.bytes) + 8*int64(l.Len())
}

// Clone returns a deep copy (elements are immutable strings, so copying
// the headers copies the list).
func (l *List) Clone() *List {
	n := l.Len()
	c := &List{buf: make([]string, max(n, listMinCap)), hi: n, bytes: l.bytes}
	copy(c.buf, l.buf[l.lo:l.hi])
	return c
}

// Each calls fn on every element from head to tail until fn returns false.
func (l *List) Each(fn func(elem string) bool) {
	for _, e := range l.buf[l.lo:l.hi] {
		if !fn(e) {
			return
		}
	}
}

// items returns the elements as a slice aliasing the list: valid until the
// next change.
func (l *List) items() []string { return l.buf[l.lo:l.hi] }

// At returns element i (0 <= i < Len).
func (l *List) At(i int) string { return l.buf[l.lo+i] }

// SetAt replaces element i (0 <= i < Len).
func (l *List) SetAt(i int, s string) {
	p := l.lo + i
	l.bytes += len(s) - len(l.buf[p])
	l.buf[p] = s
}

// PushBack appends s at the tail.
func (l *List) PushBack(s string) {
	if l.hi == len(l.buf) {
		l.makeRoom(1, false)
	}
	l.buf[l.hi] = s
	l.hi++
	l.bytes += len(s)
}

// PushFront inserts s at the head.
func (l *List) PushFront(s string) {
	if l.lo == 0 {
		l.makeRoom(1, true)
	}
	l.lo--
	l.buf[l.lo] = s
	l.bytes += len(s)
}

// PopFront removes and returns the head element; the list must not be
// empty.
func (l *List) PopFront() string {
	s := l.buf[l.lo]
	l.buf[l.lo] = ""
	l.lo++
	l.bytes -= len(s)
	l.popped()
	return s
}

// PopBack removes and returns the tail element; the list must not be
// empty.
func (l *List) PopBack() string {
	l.hi--
	s := l.buf[l.hi]
	l.buf[l.hi] = ""
	l.bytes -= len(s)
	l.popped()
	return s
}

// push adds s at the head (front) or the tail.
func (l *List) push(s string, front bool) {
	if front {
		l.PushFront(s)
	} else {
		l.PushBack(s)
	}
}

// pop removes an element from the head (front) or the tail.
func (l *List) pop(front bool) string {
	if front {
		return l.PopFront()
	}
	return l.PopBack()
}

// popped keeps the buffer in proportion after elements went away: an empty
// list restarts in the middle of its buffer, a mostly empty big buffer is
// given back.
func (l *List) popped() {
	n := l.Len()
	if n == 0 {
		if len(l.buf) > listShrinkMin {
			l.buf = nil
			l.lo, l.hi = 0, 0
			return
		}
		l.lo = len(l.buf) / 2
		l.hi = l.lo
		return
	}
	if len(l.buf) > listShrinkMin && n < len(l.buf)/4 {
		l.resize(2*n, n/2)
	}
}

// resize moves the elements into a new buffer of capacity size, starting at
// index lo.
func (l *List) resize(size, lo int) {
	n := l.Len()
	nb := make([]string, size)
	copy(nb[lo:], l.buf[l.lo:l.hi])
	l.buf, l.lo, l.hi = nb, lo, lo+n
}

// makeRoom makes space for need more elements at the front or at the back,
// re-centring the elements in their buffer when it is at most half full and
// growing it otherwise. The free room is split so that an end that saw no
// pushes yet (a list only ever RPUSHed) does not reserve space.
func (l *List) makeRoom(need int, front bool) {
	n := l.Len()
	size := len(l.buf)
	if n+need > size/2 {
		switch {
		case size < listMinCap:
			size = listMinCap
		case size < 1024:
			size *= 2
		default:
			size += size / 2
		}
		for size < n+need {
			size *= 2
		}
	}
	free := size - n
	var lo int
	if front {
		// Keep at the back the room it has (at most half the free room).
		back := min(len(l.buf)-l.hi, free/2)
		lo = size - n - back
	} else {
		lo = min(l.lo, free/2)
	}
	if size == len(l.buf) {
		// Re-centre in place.
		if lo == l.lo {
			return
		}
		copy(l.buf[lo:], l.buf[l.lo:l.hi])
		if lo < l.lo {
			clear(l.buf[max(lo+n, l.lo):l.hi])
		} else {
			clear(l.buf[l.lo:min(lo, l.hi)])
		}
		l.lo, l.hi = lo, lo+n
		return
	}
	l.resize(size, lo)
}

// Insert puts s at index i (0 <= i <= Len), shifting the shorter side.
func (l *List) Insert(i int, s string) {
	n := l.Len()
	if i < n/2 {
		if l.lo == 0 {
			l.makeRoom(1, true)
		}
		copy(l.buf[l.lo-1:], l.buf[l.lo:l.lo+i])
		l.lo--
	} else {
		if l.hi == len(l.buf) {
			l.makeRoom(1, false)
		}
		p := l.lo + i
		copy(l.buf[p+1:l.hi+1], l.buf[p:l.hi])
		l.hi++
	}
	l.buf[l.lo+i] = s
	l.bytes += len(s)
}

// Trim removes front elements from the head and back elements from the
// tail.
func (l *List) Trim(front, back int) {
	for _, e := range l.buf[l.lo : l.lo+front] {
		l.bytes -= len(e)
	}
	for _, e := range l.buf[l.hi-back : l.hi] {
		l.bytes -= len(e)
	}
	clear(l.buf[l.lo : l.lo+front])
	clear(l.buf[l.hi-back : l.hi])
	l.lo += front
	l.hi -= back
	l.popped()
}

// RemoveEqual removes elements equal to v, at most limit of them (0: all),
// scanning from the tail when fromTail. It returns how many went.
func (l *List) RemoveEqual(v string, limit int64, fromTail bool) int64 {
	items := l.items()
	n := len(items)
	var removed int64
	if !fromTail {
		w := 0
		for w < n && items[w] != v {
			w++
		}
		r := w
		for ; r < n; r++ {
			e := items[r]
			if e == v {
				if limit != 0 && removed == limit {
					break
				}
				removed++
				continue
			}
			items[w] = e
			w++
		}
		// The kept elements are items[:w] and items[r:]; close the gap.
		l.closeGap(w, r)
	} else {
		w := n - 1
		for w >= 0 && items[w] != v {
			w--
		}
		r := w
		for ; r >= 0; r-- {
			e := items[r]
			if e == v {
				if limit != 0 && removed == limit {
					break
				}
				removed++
				continue
			}
			items[w] = e
			w--
		}
		// The kept elements are items[:r+1] and items[w+1:].
		l.closeGap(r+1, w+1)
	}
	l.bytes -= int(removed) * len(v)
	if removed > 0 {
		l.popped()
	}
	return removed
}

// closeGap drops items[gs:ge] (relative to the head), whose content is
// stale, by moving the shorter side over it.
func (l *List) closeGap(gs, ge int) {
	g := ge - gs
	if g <= 0 {
		return
	}
	items := l.items()
	n := len(items)
	if gs < n-ge {
		copy(items[g:ge], items[:gs])
		clear(items[:g])
		l.lo += g
	} else {
		copy(items[gs:], items[ge:])
		clear(items[n-g:])
		l.hi -= g
	}
}

// Index finds the first element equal to v from the head, or -1.
func (l *List) Index(v string) int {
	for i, e := range l.items() {
		if e == v {
			return i
		}
	}
	return -1
}
