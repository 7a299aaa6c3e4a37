package router

import "time"

// History is a ring of (time, master offset) samples, from which a
// replica's offset becomes a time lag: a replica at offset X lags by now
// minus the time of the first sample whose offset is X or more — how long
// ago the master had got as far as the replica has. Byte lag alone
// misleads when the write rate changes: 1 MB is a blink under a bulk load
// and minutes when the master is nearly idle.
//
// The lag is a lower bound. If the master passed X between two samples,
// the replica's data is as of some moment in between, and the later
// sample is used: the lag is short by less than one sampling interval.
// After an idle spell the first sample at X is old news: a master that sat
// at X for an hour and then took one write would make a replica at X look
// an hour late. Callers that want how long the replica has missed writes
// for ask for TimeLag(X+1): the first sample past what it holds.
//
// Invariants, for the n samples s[0..n) from oldest to newest (in buf,
// from index start, wrapping):
//
//	0 <= n <= len(buf)
//	s[i].at <= s[i+1].at     time does not go backwards
//	s[i].off < s[i+1].off    offsets strictly grow: a sample that does not
//	                         advance the offset is not kept, so s[i] is the
//	                         first time the master was seen at s[i].off
//	                         (and an idle master costs no room in the ring)
//
// A sample that would break them (an offset lower than the newest, as
// after a failover to a replica that was behind; a time before the newest)
// starts the history afresh.
//
// A History belongs to the lag monitor; it is not safe for concurrent use.
type History struct {
	buf      []point
	start, n int
}

type point struct {
	at  time.Time
	off int64
}

// NewHistory returns an empty History holding up to size samples (at
// least 1). To know any lag up to span (a few times max_lag, so metrics
// show lags past it too) with one sample every poll interval, size must
// be at least HistorySize(span, interval).
func NewHistory(size int) *History {
	return &History{buf: make([]point, max(size, 1))}
}

// HistorySize is the ring size that keeps every lag up to span known
// when the master's offset is sampled every interval (and moves each
// time).
func HistorySize(span, interval time.Duration) int {
	if interval <= 0 {
		return 1
	}
	return int((span+interval-1)/interval) + 1
}

// Add records that the master's offset was off at time at.
func (h *History) Add(at time.Time, off int64) {
	if h.n > 0 {
		newest := h.at(h.n - 1)
		switch {
		case off < newest.off || at.Before(newest.at):
			h.start, h.n = 0, 0
		case off == newest.off:
			return
		}
	}
	if h.n == len(h.buf) {
		h.buf[h.start] = point{at, off}
		h.start = (h.start + 1) % len(h.buf)
		return
	}
	h.buf[(h.start+h.n)%len(h.buf)] = point{at, off}
	h.n++
}

// at returns the i-th sample, oldest first.
func (h *History) at(i int) point { return h.buf[(h.start+i)%len(h.buf)] }

// Offset returns the newest master offset, if there is one.
func (h *History) Offset() (int64, bool) {
	if h.n == 0 {
		return 0, false
	}
	return h.at(h.n - 1).off, true
}

// TimeLag returns how far behind the master a replica at offset off is,
// at time now:
//
//   - 0 if off is at or past the newest sample (caught up);
//   - now − the time of the first sample at or past off;
//   - unknown (ok false) with no samples, or if the master was past off
//     before the oldest sample: the lag is then at least the returned
//     duration, now − the oldest sample's time.
//
// A lag is never negative: a now before the sample counts as no lag.
func (h *History) TimeLag(off int64, now time.Time) (lag time.Duration, ok bool) {
	if h.n == 0 {
		return 0, false
	}
	if off >= h.at(h.n-1).off {
		return 0, true
	}
	if oldest := h.at(0); off < oldest.off {
		return max(now.Sub(oldest.at), 0), false
	}
	// The first sample at or past off: s[lo].off >= off > s[lo-1].off.
	lo, hi := 0, h.n-1
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if h.at(mid).off >= off {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return max(now.Sub(h.at(lo).at), 0), true
}
