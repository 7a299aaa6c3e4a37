package router

import (
	"math"
	"strings"
	"testing"
	"time"
)

func TestPolicyValidate(t *testing.T) {
	cases := []struct {
		what   string
		change func(*Policy)
		want   []string // in the error, in order; none: valid
	}{
		{"the defaults are valid", func(*Policy) {}, nil},
		{"read_from master", func(p *Policy) { p.ReadFrom = FromMaster }, nil},
		{"read_from any with master_weight 0", func(p *Policy) { p.ReadFrom, p.MasterWeight = FromAny, 0 }, nil},
		{"least-lagged", func(p *Policy) { p.WhenReplicasLag = LagToLeastLagged }, nil},
		{"error", func(p *Policy) { p.WhenReplicasLag = LagError }, nil},
		{"no hysteresis", func(p *Policy) { p.Hysteresis = 0 }, nil},
		{"a tiny max_lag", func(p *Policy) { p.MaxLag = time.Nanosecond }, nil},

		{"an unknown read_from", func(p *Policy) { p.ReadFrom = "slaves" },
			[]string{`routing.read_from: unknown value "slaves" (want replicas, master or any)`}},
		{"an empty read_from", func(p *Policy) { p.ReadFrom = "" },
			[]string{`routing.read_from: unknown value ""`}},
		{"read_from in upper case is unknown", func(p *Policy) { p.ReadFrom = "REPLICAS" },
			[]string{`routing.read_from: unknown value "REPLICAS"`}},
		{"an unknown when_replicas_lag", func(p *Policy) { p.WhenReplicasLag = "least_lagged" },
			[]string{`routing.when_replicas_lag: unknown value "least_lagged" (want master, least-lagged or error)`}},
		{"max_lag 0", func(p *Policy) { p.MaxLag = 0 },
			[]string{"routing.max_lag: must be more than 0, got 0s"}},
		{"a negative max_lag", func(p *Policy) { p.MaxLag = -time.Second },
			[]string{"routing.max_lag: must be more than 0, got -1s"}},
		{"hysteresis 1 would keep a cut replica out for good", func(p *Policy) { p.Hysteresis = 1 },
			[]string{"routing.hysteresis: must be at least 0 and less than 1, got 1"}},
		{"a negative hysteresis", func(p *Policy) { p.Hysteresis = -0.1 },
			[]string{"routing.hysteresis: must be at least 0 and less than 1, got -0.1"}},
		{"a NaN hysteresis", func(p *Policy) { p.Hysteresis = math.NaN() },
			[]string{"routing.hysteresis: must be at least 0 and less than 1, got NaN"}},
		{"a negative master_weight", func(p *Policy) { p.MasterWeight = -1 },
			[]string{"routing.master_weight: must be between 0 and 1048576, got -1"}},
		{"every problem at once, in the order of the keys", func(p *Policy) { *p = Policy{ReadFrom: "x", Hysteresis: 2, WhenReplicasLag: "y", MasterWeight: -3} },
			[]string{"routing.read_from", "routing.max_lag", "routing.hysteresis", "routing.when_replicas_lag", "routing.master_weight"}},
	}
	for _, tc := range cases {
		p := DefaultPolicy()
		tc.change(&p)
		err := p.Validate()
		if len(tc.want) == 0 {
			if err != nil {
				t.Errorf("%s: Validate() = %v, want nil", tc.what, err)
			}
			continue
		}
		if err == nil {
			t.Errorf("%s: Validate() = nil, want an error", tc.what)
			continue
		}
		msg, at := err.Error(), 0
		for _, w := range tc.want {
			i := strings.Index(msg[at:], w)
			if i < 0 {
				t.Errorf("%s: Validate() = %q, want it to say %q (in order)", tc.what, msg, w)
				break
			}
			at += i + len(w)
		}
	}
}
