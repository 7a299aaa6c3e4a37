package router

import (
	"testing"
	"time"
)

// rep is a replica with weight 1 that has processed offset off and lags
// by lag.
func rep(addr string, off int64, lag time.Duration) Sample {
	return Sample{Addr: addr, Weight: 1, Health: Known, Offset: off, TimeLag: lag}
}

func TestWrites(t *testing.T) {
	var w Writes
	steps := []struct {
		what string
		do   func()
		want Need
	}{
		{"no write yet - any backend will do", func() {}, Need{}},
		{"a write sent, its offset not yet known - master only", func() { w.Sent() }, Need{Wrote: true}},
		{"an offset for a write never sent changes nothing", func() { w.Observed(2, 900) }, Need{Wrote: true}},
		{"the offset after write 1 is known", func() { w.Observed(1, 500) }, Need{Wrote: true, Known: true, Offset: 500}},
		{"a second write - unknown again", func() { w.Sent() }, Need{Wrote: true}},
		{"a later offset for the first write does not cover the second", func() { w.Observed(1, 600) }, Need{Wrote: true}},
		{"the offset after write 2", func() { w.Observed(2, 700) }, Need{Wrote: true, Known: true, Offset: 700}},
		{"a lower offset reported late never lowers the need", func() { w.Observed(2, 650) }, Need{Wrote: true, Known: true, Offset: 700}},
		{"pipelined writes 3 and 4, the offset after 3 - still unknown", func() { w.Sent(); w.Sent(); w.Observed(3, 800) }, Need{Wrote: true}},
		{"the offset after 4", func() { w.Observed(4, 850) }, Need{Wrote: true, Known: true, Offset: 850}},
		{"write number 0 is no write", func() { w.Sent(); w.Observed(0, 999) }, Need{Wrote: true}},
	}
	for _, st := range steps {
		st.do()
		if got := w.Need(); got != st.want {
			t.Errorf("%s: Need() = %+v, want %+v", st.what, got, st.want)
		}
	}
}

func TestFresh(t *testing.T) {
	cases := []struct {
		what    string
		need    Need
		samples []Sample
		want    Set
	}{
		{"no write yet - every replica", Need{},
			[]Sample{rep("a", 0, 0), unknown("b", 1, LinkDown)}, AllReplicas},
		{"a write with its offset unknown - none", Need{Wrote: true},
			[]Sample{rep("a", 1<<40, 0)}, 0},
		{"offsets (1000, 999) against a need of 1000 - the first only", Need{Wrote: true, Known: true, Offset: 1000},
			[]Sample{rep("a", 1000, 0), rep("b", 999, 0)}, Set(0).With(0)},
		{"both past the need", Need{Wrote: true, Known: true, Offset: 1000},
			[]Sample{rep("a", 1200, 0), rep("b", 1001, 0)}, Set(0).With(0).With(1)},
		{"a stopped replica's last offset is old news - not fresh", Need{Wrote: true, Known: true, Offset: 1000},
			[]Sample{{Addr: "a", Weight: 1, Health: NoAnswer, Offset: 5000}}, 0},
	}
	for _, tc := range cases {
		if got := Fresh(tc.need, tc.samples); got != tc.want {
			t.Errorf("%s: Fresh = %x, want %x", tc.what, uint64(got), uint64(tc.want))
		}
	}
}

func TestRead(t *testing.T) {
	written := Need{Wrote: true, Known: true, Offset: 1000}
	cases := []struct {
		what    string
		p       Policy
		samples []Sample
		need    Need
		want    []Choice // successive reads
	}{
		{"no write yet - replicas by weight", policy(nil),
			[]Sample{rep("a", 900, 10*ms), rep("b", 900, 10*ms)}, Need{},
			[]Choice{{Backend: 0}, {Backend: 1}}},
		{"a write with its offset unknown - the master until it is known", policy(nil),
			[]Sample{rep("a", 5000, 0), rep("b", 5000, 0)}, Need{Wrote: true},
			[]Choice{{Backend: Master, Why: NotFresh}, {Backend: Master, Why: NotFresh}}},
		{"replicas lagging behind the write, one caught up - that one only", policy(nil),
			[]Sample{rep("a", 999, 10*ms), rep("b", 1000, 10*ms)}, written,
			[]Choice{{Backend: 1}, {Backend: 1}}},
		{"both replicas behind the write but within max_lag - the master", policy(nil),
			[]Sample{rep("a", 990, 10*ms), rep("b", 995, 10*ms)}, written,
			[]Choice{{Backend: Master, Why: NotFresh}}},
		{"both replicas stopped - the fallback: the master", policy(nil),
			[]Sample{unknown("a", 1, NoAnswer), unknown("b", 1, NoAnswer)}, written,
			[]Choice{{Backend: Master, Why: LagMaster}}},
		{"both replicas stopped, no write - the master all the same", policy(nil),
			[]Sample{unknown("a", 1, NoAnswer), unknown("b", 1, NoAnswer)}, Need{},
			[]Choice{{Backend: Master, Why: LagMaster}}},
		{"read_from master - the master, write or not", policy(func(p *Policy) { p.ReadFrom = FromMaster }),
			[]Sample{rep("a", 2000, 0)}, written,
			[]Choice{{Backend: Master, Why: ReadFromMaster}}},
		{"read_from master with no write", policy(func(p *Policy) { p.ReadFrom = FromMaster }),
			[]Sample{rep("a", 2000, 0)}, Need{},
			[]Choice{{Backend: Master, Why: ReadFromMaster}}},
		{"read_from any, no replica fresh - the master by weight", policy(func(p *Policy) { p.ReadFrom = FromAny }),
			[]Sample{rep("a", 10, 0)}, written,
			[]Choice{{Backend: Master}, {Backend: Master}}},
		{"read_from any, a replica fresh - shared with the master", policy(func(p *Policy) { p.ReadFrom = FromAny }),
			[]Sample{rep("a", 1000, 0)}, written,
			[]Choice{{Backend: 0}, {Backend: Master}}},
		{"every replica lags, least-lagged and fresh - that replica", policy(func(p *Policy) { p.WhenReplicasLag = LagToLeastLagged }),
			[]Sample{rep("a", 1500, 2*time.Second), rep("b", 1200, time.Second)}, written,
			[]Choice{{Backend: 1, Why: LagLeastLagged}}},
		{"every replica lags, least-lagged but not fresh - the master", policy(func(p *Policy) { p.WhenReplicasLag = LagToLeastLagged }),
			[]Sample{rep("a", 1500, 2*time.Second), rep("b", 900, time.Second)}, written,
			[]Choice{{Backend: Master, Why: NotFresh}}},
		{"every replica lags, least-lagged, no write - the least-lagged", policy(func(p *Policy) { p.WhenReplicasLag = LagToLeastLagged }),
			[]Sample{rep("a", 1500, 2*time.Second), rep("b", 900, time.Second)}, Need{},
			[]Choice{{Backend: 1, Why: LagLeastLagged}}},
		{"every replica lags, error - refused, write or not", policy(func(p *Policy) { p.WhenReplicasLag = LagError }),
			[]Sample{rep("a", 1500, time.Second)}, written,
			[]Choice{{Backend: Master, Why: LagRefused, Err: "TRYAGAIN no replica within max_lag 500ms: a lags 1s"}}},
		{"no replicas configured - the master", policy(nil),
			nil, written,
			[]Choice{{Backend: Master, Why: LagMaster}}},
	}
	for _, tc := range cases {
		p := NewPicker(Eligible(tc.samples, tc.p, nil))
		for i, want := range tc.want {
			if got := p.Read(tc.need); got != want {
				t.Errorf("%s: read %d = %+v, want %+v", tc.what, i, got, want)
			}
		}
	}
}

// A session that wrote reads from the master until a replica catches up,
// then from replicas again: it is not pinned to the master for good.
func TestReadReturnsToReplicas(t *testing.T) {
	var w Writes
	p := policy(nil)
	rounds := []struct {
		what    string
		samples []Sample
		event   func()
		want    Why
	}{
		{"before any write", []Sample{rep("a", 100, 0), rep("b", 100, 0)}, func() {}, Weighted},
		{"the write is sent", []Sample{rep("a", 100, 0), rep("b", 100, 0)}, func() { w.Sent() }, NotFresh},
		{"its offset is observed, replicas behind", []Sample{rep("a", 100, 0), rep("b", 100, 0)}, func() { w.Observed(1, 160) }, NotFresh},
		{"one replica has caught up", []Sample{rep("a", 160, 0), rep("b", 120, 0)}, func() {}, Weighted},
		{"both have", []Sample{rep("a", 200, 0), rep("b", 200, 0)}, func() {}, Weighted},
	}
	var e *Eligibility
	for _, r := range rounds {
		r.event()
		e = Eligible(r.samples, p, e)
		if got := NewPicker(e).Read(w.Need()); got.Why != r.want {
			t.Errorf("%s: read decided by %v, want %v", r.what, got.Why, r.want)
		}
	}
	// The last round spreads reads over both replicas again.
	pk := NewPicker(e)
	seen := map[int]bool{}
	for range 4 {
		seen[pk.Read(w.Need()).Backend] = true
	}
	if !seen[0] || !seen[1] || seen[Master] {
		t.Errorf("after both caught up, reads went to %v; want both replicas and not the master", seen)
	}
}

func TestReadDoesNotAllocate(t *testing.T) {
	p := NewPicker(Eligible([]Sample{rep("a", 1000, 0), rep("b", 900, 0)}, policy(nil), nil))
	for _, need := range []Need{{}, {Wrote: true}, {Wrote: true, Known: true, Offset: 950}} {
		if n := testing.AllocsPerRun(100, func() { p.Read(need) }); n != 0 {
			t.Errorf("Read(%+v): %v allocations, want 0", need, n)
		}
	}
}
