package router

import (
	"slices"
	"testing"
	"time"
)

const ms = time.Millisecond

// at is a replica whose lag is known: configured weight w, time lag lag.
func at(addr string, w int, lag time.Duration) Sample {
	return Sample{Addr: addr, Weight: w, Health: Known, TimeLag: lag, ByteLag: int64(lag / ms), Offset: 1000 - int64(lag/ms)}
}

// unknown is a replica whose lag is unknown.
func unknown(addr string, w int, h Health) Sample {
	return Sample{Addr: addr, Weight: w, Health: h}
}

// policy is the default policy (max_lag 500ms, hysteresis 0.2: cut-off
// replicas return below 400ms) changed by fn.
func policy(fn func(*Policy)) Policy {
	p := DefaultPolicy()
	if fn != nil {
		fn(&p)
	}
	return p
}

func TestEligibleWeights(t *testing.T) {
	cases := []struct {
		what   string
		p      Policy
		before []Sample // the previous round, if any
		now    []Sample
		want   []int // effective weights
		cut    []bool
		master int
	}{
		{"no lag - full configured weights", policy(nil),
			nil, []Sample{at("a", 1, 0), at("b", 1, 0)},
			[]int{1000, 1000}, []bool{false, false}, 0},
		{"weights (2, 1) at no lag - twice the reads for the first", policy(nil),
			nil, []Sample{at("a", 2, 0), at("b", 1, 0)},
			[]int{2000, 1000}, []bool{false, false}, 0},
		{"lags of (0, 250ms, 400ms) with max_lag 500ms - weight falls linearly", policy(nil),
			nil, []Sample{at("a", 1, 0), at("b", 1, 250*ms), at("c", 1, 400*ms)},
			[]int{1000, 500, 200}, []bool{false, false, false}, 0},
		{"a lag a hair below max_lag keeps a weight of at least 1", policy(nil),
			nil, []Sample{at("a", 1, 500*ms-time.Microsecond)},
			[]int{1}, []bool{false}, 0},
		{"a lag of exactly max_lag - cut off", policy(nil),
			nil, []Sample{at("a", 1, 500*ms)},
			[]int{0}, []bool{true}, 0},
		{"lags of (1s, 40m) - both past max_lag, both cut off", policy(nil),
			nil, []Sample{at("a", 1, time.Second), at("b", 1, 40*time.Minute)},
			[]int{0, 0}, []bool{true, true}, 0},
		{"a negative lag (a clock step) counts as none", policy(nil),
			nil, []Sample{at("a", 1, -5*ms)},
			[]int{1000}, []bool{false}, 0},
		{"every unknown health - cut off whatever its last lag", policy(nil),
			[]Sample{at("a", 1, 0), at("b", 1, 0), at("c", 1, 0), at("d", 1, 0), at("e", 1, 0)},
			[]Sample{unknown("a", 1, LinkDown), unknown("b", 1, Loading), unknown("c", 1, Syncing), unknown("d", 1, NoAnswer), unknown("e", 1, NotReplica)},
			[]int{0, 0, 0, 0, 0}, []bool{true, true, true, true, true}, 0},
		{"every unknown health, lag never known - no reads, but not cut off", policy(nil),
			nil, []Sample{unknown("a", 1, LinkDown), unknown("b", 1, Loading), unknown("c", 1, Syncing), unknown("d", 1, NoAnswer), unknown("e", 1, NotReplica)},
			[]int{0, 0, 0, 0, 0}, []bool{false, false, false, false, false}, 0},
		{"weight 0 - no reads, but not cut off", policy(nil),
			nil, []Sample{at("a", 0, 0)},
			[]int{0}, []bool{false}, 0},
		{"a huge configured weight is bounded", policy(nil),
			nil, []Sample{at("a", 1<<40, 0)},
			[]int{MaxWeight * 1000}, []bool{false}, 0},

		// Hysteresis.
		{"cut off before, now at 450ms (line at 400ms) - still cut off", policy(nil),
			[]Sample{at("a", 1, 600*ms)}, []Sample{at("a", 1, 450*ms)},
			[]int{0}, []bool{true}, 0},
		{"cut off before, now at exactly 400ms - still cut off", policy(nil),
			[]Sample{at("a", 1, 600*ms)}, []Sample{at("a", 1, 400*ms)},
			[]int{0}, []bool{true}, 0},
		{"cut off before, now at 300ms - back, with 40% of its weight", policy(nil),
			[]Sample{at("a", 1, 600*ms)}, []Sample{at("a", 1, 300*ms)},
			[]int{400}, []bool{false}, 0},
		{"in before, now at 450ms - stays in with a small weight", policy(nil),
			[]Sample{at("a", 1, 300*ms)}, []Sample{at("a", 1, 450*ms)},
			[]int{100}, []bool{false}, 0},
		{"hysteresis 0 - back as soon as under max_lag", policy(func(p *Policy) { p.Hysteresis = 0 }),
			[]Sample{at("a", 1, 600*ms)}, []Sample{at("a", 1, 450*ms)},
			[]int{100}, []bool{false}, 0},
		{"replicas are matched by address when the list is reordered", policy(nil),
			[]Sample{at("a", 1, 600*ms), at("b", 1, 0)}, []Sample{at("b", 1, 450*ms), at("a", 1, 450*ms)},
			[]int{100, 0}, []bool{false, true}, 0},
		{"a replica new to the list starts as not cut off", policy(nil),
			[]Sample{at("a", 1, 600*ms)}, []Sample{at("a", 1, 450*ms), at("new", 1, 450*ms)},
			[]int{0, 100}, []bool{true, false}, 0},
		{"a cut-off replica with weight 0 stays cut off", policy(nil),
			[]Sample{at("a", 0, 600*ms)}, []Sample{at("a", 0, 450*ms)},
			[]int{0}, []bool{true}, 0},

		// The master's place in the pool.
		{"read_from any - the master joins with master_weight", policy(func(p *Policy) { p.ReadFrom, p.MasterWeight = FromAny, 3 }),
			nil, []Sample{at("a", 1, 0)},
			[]int{1000}, []bool{false}, 3000},
		{"read_from replicas - the master is not in the pool", policy(func(p *Policy) { p.MasterWeight = 3 }),
			nil, []Sample{at("a", 1, 0)},
			[]int{1000}, []bool{false}, 0},
		{"read_from master - replica weights are still kept, for overrides and metrics", policy(func(p *Policy) { p.ReadFrom = FromMaster }),
			nil, []Sample{at("a", 1, 0)},
			[]int{1000}, []bool{false}, 0},
	}
	for _, tc := range cases {
		var prev *Eligibility
		if tc.before != nil {
			prev = Eligible(tc.before, tc.p, nil)
		}
		e := Eligible(tc.now, tc.p, prev)
		var got []int
		var cut []bool
		for _, r := range e.Replicas {
			got = append(got, r.Effective)
			cut = append(cut, r.Cut)
		}
		if !slices.Equal(got, tc.want) || !slices.Equal(cut, tc.cut) || e.Master != tc.master {
			t.Errorf("%s: weights %v cut %v master %d, want %v %v %d", tc.what, got, cut, e.Master, tc.want, tc.cut, tc.master)
		}
	}
}

// A replica whose lag wanders around max_lag does not flap: once cut off,
// it stays out until it is clearly back.
func TestEligibleDoesNotFlap(t *testing.T) {
	p := policy(nil)
	lags := []time.Duration{100, 480, 510, 490, 470, 505, 430, 410, 390, 420, 480, 510}
	want := []bool{true, true, false, false, false, false, false, false, true, true, true, false}
	var e *Eligibility
	for i, lag := range lags {
		e = Eligible([]Sample{at("a", 1, lag*ms)}, p, e)
		if got := e.Replicas[0].Effective > 0; got != want[i] {
			t.Errorf("round %d, lag %v: routable %v, want %v", i, lag*ms, got, want[i])
		}
	}
}

// A replica new to the list has no reads to lose and no past near the
// line: it gets reads from its first round with a lag under max_lag,
// however long its lag was unknown before. Once its lag has been known, an
// unknown lag cuts it off like a lag past max_lag, and it comes back only
// under the hysteresis line.
func TestEligibleNewReplica(t *testing.T) {
	cases := []struct {
		what     string
		rounds   []Sample // replica a, round by round
		routable []bool
		cut      []bool
	}{
		{"450ms at its first poll - reads at once",
			[]Sample{at("a", 1, 450*ms)},
			[]bool{true}, []bool{false}},
		{"not polled yet, then 450ms - reads at once",
			[]Sample{unknown("a", 1, NoAnswer), at("a", 1, 450*ms)},
			[]bool{false, true}, []bool{false, false}},
		{"not a replica, syncing, loading, then 450ms - reads at once",
			[]Sample{unknown("a", 1, NotReplica), unknown("a", 1, Syncing), unknown("a", 1, Loading), at("a", 1, 450*ms)},
			[]bool{false, false, false, true}, []bool{false, false, false, false}},
		{"not polled yet, then 600ms - cut off, back only under 400ms",
			[]Sample{unknown("a", 1, NoAnswer), at("a", 1, 600*ms), at("a", 1, 450*ms), at("a", 1, 390*ms)},
			[]bool{false, false, false, true}, []bool{false, true, true, false}},
		{"known, then link down - cut off, back only under 400ms",
			[]Sample{at("a", 1, 0), unknown("a", 1, LinkDown), at("a", 1, 450*ms), at("a", 1, 390*ms)},
			[]bool{true, false, false, true}, []bool{false, true, true, false}},
		{"known with weight 0, then no answer - cut off all the same",
			[]Sample{at("a", 0, 0), unknown("a", 1, NoAnswer), at("a", 1, 450*ms)},
			[]bool{false, false, false}, []bool{false, true, true}},
	}
	for _, tc := range cases {
		// b is in the list from the start, known and routable.
		e := Eligible([]Sample{at("b", 1, 0)}, policy(nil), nil)
		for i, s := range tc.rounds {
			e = Eligible([]Sample{at("b", 1, 0), s}, policy(nil), e)
			if got, cut := e.Routable(1), e.Replicas[1].Cut; got != tc.routable[i] || cut != tc.cut[i] {
				t.Errorf("%s: round %d (%v, lag %v): routable %v, cut %v; want %v, %v",
					tc.what, i, s.Health, s.TimeLag, got, cut, tc.routable[i], tc.cut[i])
			}
		}
	}
}

func TestEligibleFallback(t *testing.T) {
	cases := []struct {
		what    string
		when    WhenLag
		samples []Sample
		want    Choice
	}{
		{"master - the master serves", LagToMaster,
			[]Sample{at("a", 1, time.Second)}, Choice{Backend: Master, Why: LagMaster}},
		{"least-lagged - the replica with the least time lag", LagToLeastLagged,
			[]Sample{at("a", 1, 2*time.Second), at("b", 1, time.Second), at("c", 1, 3*time.Second)},
			Choice{Backend: 1, Why: LagLeastLagged}},
		{"least-lagged - equal time lags go by byte lag", LagToLeastLagged,
			[]Sample{{Addr: "a", Weight: 1, TimeLag: time.Second, ByteLag: 900}, {Addr: "b", Weight: 1, TimeLag: time.Second, ByteLag: 800}},
			Choice{Backend: 1, Why: LagLeastLagged}},
		{"least-lagged - an unknown lag is never the least", LagToLeastLagged,
			[]Sample{unknown("a", 1, LinkDown), at("b", 1, time.Hour)},
			Choice{Backend: 1, Why: LagLeastLagged}},
		{"least-lagged - a replica with weight 0 is never chosen", LagToLeastLagged,
			[]Sample{at("a", 0, time.Second), at("b", 1, time.Hour)},
			Choice{Backend: 1, Why: LagLeastLagged}},
		{"least-lagged - no replica's lag known: the master", LagToLeastLagged,
			[]Sample{unknown("a", 1, NoAnswer), unknown("b", 1, Loading)},
			Choice{Backend: Master, Why: LagMaster}},
		{"error - each replica's reason in one TRYAGAIN line", LagError,
			[]Sample{at("10.0.0.1:6381", 1, 1200*ms), unknown("10.0.0.2:6382", 1, LinkDown), at("10.0.0.3:6383", 0, 0)},
			Choice{Backend: Master, Why: LagRefused, Err: "TRYAGAIN no replica within max_lag 500ms: 10.0.0.1:6381 lags 1.2s, 10.0.0.2:6382 lag unknown (link down), 10.0.0.3:6383 has weight 0"}},
		{"error - with no replicas configured", LagError,
			nil, Choice{Backend: Master, Why: LagRefused, Err: "TRYAGAIN no replica within max_lag 500ms: no replicas configured"}},
	}
	for _, tc := range cases {
		e := Eligible(tc.samples, policy(func(p *Policy) { p.WhenReplicasLag = tc.when }), nil)
		if e.Fallback != tc.want {
			t.Errorf("%s: Fallback = %+v, want %+v", tc.what, e.Fallback, tc.want)
		}
	}
}

func TestEligibleRefusalNamesReturningReplicas(t *testing.T) {
	p := policy(func(p *Policy) { p.WhenReplicasLag = LagError })
	e := Eligible([]Sample{at("a", 1, 600*ms)}, p, nil)
	e = Eligible([]Sample{at("a", 1, 450*ms)}, p, e)
	want := "TRYAGAIN no replica within max_lag 500ms: a lags 450ms, returns below 400ms"
	if e.Fallback.Err != want {
		t.Errorf("Err = %q, want %q", e.Fallback.Err, want)
	}
}

func TestEligibleOverLimit(t *testing.T) {
	samples := make([]Sample, MaxReplicas+2)
	for i := range samples {
		samples[i] = at(string(rune('A'+i)), 1, 0)
	}
	e := Eligible(samples, policy(nil), nil)
	for i, r := range e.Replicas {
		if over := i >= MaxReplicas; over != (r.Cause == OverLimit) || over == (r.Effective > 0) {
			t.Errorf("replica %d: %+v", i, r)
		}
	}
}
