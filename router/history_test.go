package router

import (
	"testing"
	"time"
)

var t0 = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

// ts is t0 plus d milliseconds.
func ts(d int) time.Time { return t0.Add(time.Duration(d) * ms) }

func TestTimeLag(t *testing.T) {
	// (time in ms, master offset) samples, then the questions.
	type sample struct {
		at  int
		off int64
	}
	steady := []sample{{0, 100}, {100, 200}, {200, 300}, {300, 400}}
	cases := []struct {
		what    string
		size    int
		samples []sample
		replica int64
		now     int
		want    time.Duration
		ok      bool
	}{
		{"no samples - unknown", 8, nil, 0, 0, 0, false},
		{"at the newest offset - caught up", 8, steady, 400, 350, 0, true},
		{"past the newest offset (polled after the master) - caught up", 8, steady, 450, 350, 0, true},
		{"exactly at a sample's offset - since that sample", 8, steady, 200, 350, 250 * ms, true},
		{"between two samples - since the later one", 8, steady, 250, 350, 150 * ms, true},
		{"at the oldest offset - since the oldest sample", 8, steady, 100, 350, 350 * ms, true},
		{"before the oldest offset - unknown, at least since the oldest", 8, steady, 99, 350, 350 * ms, false},
		{"a stuck replica's lag grows with now", 8, steady, 300, 1300, 1100 * ms, true},
		{"an idle master: repeated offsets keep the first time", 8,
			[]sample{{0, 100}, {100, 200}, {200, 200}, {300, 200}}, 150, 400, 300 * ms, true},
		{"an idle master: a replica at its offset is caught up", 8,
			[]sample{{0, 100}, {100, 200}, {200, 200}, {300, 200}}, 200, 400, 0, true},
		{"a full ring forgets the oldest samples", 3, steady, 150, 350, 250 * ms, false},
		{"a full ring still knows what it holds", 3, steady, 250, 350, 150 * ms, true},
		{"an offset going backwards (failover) starts afresh", 8,
			[]sample{{0, 100}, {100, 200}, {200, 50}, {300, 80}}, 60, 350, 50 * ms, true},
		{"after a restart, what came before is unknown", 8,
			[]sample{{0, 100}, {100, 200}, {200, 50}, {300, 80}}, 40, 350, 150 * ms, false},
		{"time going backwards starts afresh", 8,
			[]sample{{100, 100}, {200, 200}, {50, 300}}, 250, 350, 300 * ms, false},
		{"now before the sample counts as no lag", 8, steady, 250, 100, 0, true},
		{"a ring of one sample", 1, steady, 350, 400, 100 * ms, false},
	}
	for _, tc := range cases {
		h := NewHistory(tc.size)
		for _, s := range tc.samples {
			h.Add(ts(s.at), s.off)
		}
		lag, ok := h.TimeLag(tc.replica, ts(tc.now))
		if lag != tc.want || ok != tc.ok {
			t.Errorf("%s: TimeLag(%d) = %v, %v; want %v, %v", tc.what, tc.replica, lag, ok, tc.want, tc.ok)
		}
	}
}

// The ring against a plain list of every sample, through many wraps.
func TestTimeLagAgainstAList(t *testing.T) {
	const size = 7
	h := NewHistory(size)
	var all []point
	off := int64(0)
	for step := range 200 {
		at := ts(step * 10)
		if step%5 != 3 { // now and then the master is idle
			off += int64(1 + step%4*100)
		}
		h.Add(at, off)
		if len(all) == 0 || all[len(all)-1].off != off {
			all = append(all, point{at, off})
		}
		kept := all[max(0, len(all)-size):]
		now := at.Add(5 * ms)
		for q := kept[0].off - 2; q <= off+1; q++ {
			lag, ok := h.TimeLag(q, now)
			var want time.Duration
			wantOK := true
			switch {
			case q >= off:
			case q < kept[0].off:
				want, wantOK = now.Sub(kept[0].at), false
			default:
				for _, p := range kept {
					if p.off >= q {
						want = now.Sub(p.at)
						break
					}
				}
			}
			if lag != want || ok != wantOK {
				t.Fatalf("step %d: TimeLag(%d) = %v, %v; want %v, %v", step, q, lag, ok, want, wantOK)
			}
		}
	}
}

func TestHistoryOffset(t *testing.T) {
	h := NewHistory(4)
	if _, ok := h.Offset(); ok {
		t.Errorf("an empty history has an offset")
	}
	h.Add(ts(0), 10)
	h.Add(ts(1), 20)
	if off, ok := h.Offset(); off != 20 || !ok {
		t.Errorf("Offset() = %d, %v; want 20, true", off, ok)
	}
}

func TestHistorySize(t *testing.T) {
	cases := []struct {
		what           string
		span, interval time.Duration
		want           int
	}{
		{"2s at 100ms - 20 intervals, 21 samples", 2 * time.Second, 100 * ms, 21},
		{"a span not a multiple of the interval rounds up", 250 * ms, 100 * ms, 4},
		{"no interval - one sample", time.Second, 0, 1},
	}
	for _, tc := range cases {
		if got := HistorySize(tc.span, tc.interval); got != tc.want {
			t.Errorf("%s: HistorySize = %d, want %d", tc.what, got, tc.want)
		}
	}
	// And a ring of that size knows a lag of the whole span.
	h := NewHistory(HistorySize(2*time.Second, 100*ms))
	for i := range 100 {
		h.Add(ts(i*100), int64(i))
	}
	now := ts(99 * 100)
	if lag, ok := h.TimeLag(int64(99-20), now); !ok || lag != 2*time.Second {
		t.Errorf("a replica 2s behind: TimeLag = %v, %v; want 2s, true", lag, ok)
	}
}

func TestTimeLagDoesNotAllocate(t *testing.T) {
	h := NewHistory(64)
	for i := range 100 {
		h.Add(ts(i), int64(i))
	}
	if n := testing.AllocsPerRun(100, func() { h.TimeLag(70, ts(100)); h.Add(ts(200), 300) }); n != 0 {
		t.Errorf("TimeLag and Add: %v allocations, want 0", n)
	}
}
