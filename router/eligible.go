package router

import (
	"fmt"
	"math"
	"strings"
	"time"
)

// Health says whether a replica's lag is known, and if not, why not. An
// unknown lag counts as infinite: the replica gets no reads.
type Health uint8

const (
	// Known: the last poll answered in time with a processed offset.
	Known Health = iota
	// LinkDown: the replica's link to its master is down.
	LinkDown
	// Loading: the replica is loading a dataset.
	Loading
	// Syncing: a full sync with its master is in progress.
	Syncing
	// NoAnswer: the replica did not answer its polls in time.
	NoAnswer
	// NotReplica: the server is not a replica of the configured master
	// (a master itself, or another master's replica).
	NotReplica
)

var healthNames = [...]string{
	Known: "known", LinkDown: "link down", Loading: "loading",
	Syncing: "sync in progress", NoAnswer: "no answer to polls", NotReplica: "not a replica of the master",
}

func (h Health) String() string {
	if int(h) < len(healthNames) {
		return healthNames[h]
	}
	return fmt.Sprintf("Health(%d)", h)
}

// Sample is what the lag monitor knows of one replica after a poll.
type Sample struct {
	// Addr is the replica's address as config.yaml names it.
	Addr string
	// Weight is its configured weight; 0 (or less) gives it no reads.
	Weight int
	// Health says whether the lag below is known.
	Health Health
	// Offset is the replica's processed replication offset, ByteLag the
	// master's offset minus it, TimeLag how long ago the master was at it
	// (History.TimeLag). Meaningful only when Health is Known.
	Offset  int64
	ByteLag int64
	TimeLag time.Duration
}

// Cause says why a replica has the effective weight it has.
type Cause uint8

const (
	// Routable: its lag is within max_lag; its weight is scaled by it.
	Routable Cause = iota
	// NoWeight: its configured weight is 0.
	NoWeight
	// Unmeasured: its lag is unknown (Sample.Health says why).
	Unmeasured
	// TooFar: its time lag is max_lag or more.
	TooFar
	// Returning: it was cut off and its lag is not yet below
	// (1 − hysteresis) × max_lag.
	Returning
	// OverLimit: it comes after the first MaxReplicas replicas.
	OverLimit
)

// ReplicaState is the routing state of one replica.
type ReplicaState struct {
	// Effective is the replica's weight in the read pool: its configured
	// weight in units of weightScale, scaled down linearly with time lag.
	// 0: no reads.
	Effective int
	Cause     Cause
	// Cut: the replica is cut off — lag unknown or at max_lag or more, or
	// not yet back below the hysteresis line. Eligible carries it from one
	// computation to the next. A replica whose lag has never been known
	// is not cut off by an unknown lag: it has had no reads to lose.
	Cut bool
	// Measured: the replica's lag has been known, in this computation or
	// an earlier one, since it joined the list.
	Measured bool
}

// MaxReplicas is the number of replicas routing can weigh; the read
// pool's sets are 64-bit masks and the master takes one bit.
const MaxReplicas = 63

// weightScale is the effective weight of one unit of configured weight at
// zero lag; it keeps the linear scaling fine-grained in integers.
const weightScale = 1000

// Eligibility is the read pool computed from one round of samples: which
// replicas get reads and with what weight, and what a read does when none
// qualifies. It is immutable once made; every event loop's Picker may
// share it.
type Eligibility struct {
	Policy Policy
	// Samples are the samples it was computed from, in order, and
	// Replicas each one's state.
	Samples  []Sample
	Replicas []ReplicaState
	// Master is the master's weight in the pool: master_weight in
	// weightScale units with read_from any, else 0.
	Master int
	// Fallback is the choice for a read when no backend in the pool
	// qualifies (Picker.Read).
	Fallback Choice
}

// Choice is where one read goes.
type Choice struct {
	// Backend is a replica's index in the samples, or Master.
	Backend int
	// Why says what decided it.
	Why Why
	// Err is the error line (without '-' and CRLF) for a refused read.
	Err string
}

// Master is Choice.Backend for the master.
const Master = -1

// Why says what decided a Choice.
type Why uint8

const (
	// Weighted: picked by weight among the backends that qualify (with
	// read_from any, the master is one of them).
	Weighted Why = iota
	// ReadFromMaster: read_from is master.
	ReadFromMaster
	// NotFresh: read-your-writes: replicas qualify by lag, but none is
	// known to have reached the session's last write; the master serves
	// it. (lagwise_ryw_master_reads_total counts these.)
	NotFresh
	// LagMaster: no replica qualifies; when_replicas_lag is master, or
	// least-lagged with no replica whose lag is known.
	LagMaster
	// LagLeastLagged: no replica qualifies; when_replicas_lag is
	// least-lagged and this is the least-lagged replica.
	LagLeastLagged
	// LagRefused: no replica qualifies; when_replicas_lag is error. Err
	// says why each replica is out.
	LagRefused
)

var whyNames = [...]string{
	Weighted: "weighted", ReadFromMaster: "read_from master", NotFresh: "not fresh",
	LagMaster: "replicas lag: master", LagLeastLagged: "replicas lag: least-lagged", LagRefused: "replicas lag: refused",
}

func (w Why) String() string {
	if int(w) < len(whyNames) {
		return whyNames[w]
	}
	return fmt.Sprintf("Why(%d)", w)
}

// Eligible computes the read pool from the monitor's samples, one per
// configured replica, with policy p; prev is the pool computed from the
// previous round (nil at first), whose cut-off replicas must come back
// below the hysteresis line to return. It is pure, and meant to run when
// the monitor reports, not per request.
//
// A replica's effective weight, by its time lag L against max_lag M:
//
//	lag unknown                              0, cut off if its lag was ever known
//	L ≥ M                                    0, cut off
//	cut off before, and L ≥ (1 − h) × M      0, still cut off
//	otherwise                                weight × (1 − L/M), at least 1
//
// so the weight falls linearly from the configured weight at no lag to
// zero at max_lag, and a replica that was cut off comes back at a fraction
// h of its weight, not at a sliver of it. Replicas are matched with prev
// by address, so a reordered or edited replica list keeps their state. A
// replica new to the list (every one, with prev nil) starts as not cut
// off, and stays so while its lag is unknown (not polled yet, syncing,
// not yet a replica of the master): it gets reads from the first round
// that finds its lag under max_lag. The hysteresis line is for a replica
// that lost its reads, lest it flap; a new one has no past to flap from.
func Eligible(samples []Sample, p Policy, prev *Eligibility) *Eligibility {
	e := &Eligibility{
		Policy:   p,
		Samples:  append([]Sample(nil), samples...),
		Replicas: make([]ReplicaState, len(samples)),
	}
	back := time.Duration((1 - p.Hysteresis) * float64(p.MaxLag))
	for i, s := range samples {
		was := prev.state(s.Addr)
		st := &e.Replicas[i]
		st.Measured = was.Measured || s.Health == Known
		lag := max(s.TimeLag, 0)
		switch {
		case i >= MaxReplicas:
			st.Cause = OverLimit
		case s.Health != Known:
			st.Cause, st.Cut = Unmeasured, was.Measured
		case lag >= p.MaxLag:
			st.Cause, st.Cut = TooFar, true
		case was.Cut && lag >= back:
			st.Cause, st.Cut = Returning, true
		case s.Weight <= 0:
			st.Cause = NoWeight
		default:
			w := min(s.Weight, MaxWeight) * weightScale
			st.Effective = max(1, int(math.Round(float64(w)*(1-float64(lag)/float64(p.MaxLag)))))
		}
	}
	if p.ReadFrom == FromAny {
		e.Master = min(max(p.MasterWeight, 0), MaxWeight) * weightScale
	}
	e.Fallback = e.fallback()
	return e
}

// state returns the state of the replica at addr in e; for a replica e
// does not know, the zero state: not cut off, never measured.
func (e *Eligibility) state(addr string) ReplicaState {
	if i := e.index(addr, 0); i >= 0 {
		return e.Replicas[i]
	}
	return ReplicaState{}
}

// index returns the index of the replica at addr in e (nil: none), or -1;
// it looks at index hint first, where a list unchanged has it.
func (e *Eligibility) index(addr string, hint int) int {
	if e == nil {
		return -1
	}
	if hint >= 0 && hint < len(e.Samples) && e.Samples[hint].Addr == addr {
		return hint
	}
	for i := range e.Samples {
		if e.Samples[i].Addr == addr {
			return i
		}
	}
	return -1
}

// Routable reports whether replica i gets reads under e's policy.
func (e *Eligibility) Routable(i int) bool {
	return e.Policy.ReadFrom != FromMaster && e.Replicas[i].Effective > 0
}

// fallback decides what a read does when no backend in the pool
// qualifies.
func (e *Eligibility) fallback() Choice {
	switch e.Policy.WhenReplicasLag {
	case LagToLeastLagged:
		if i := e.leastLagged(); i >= 0 {
			return Choice{Backend: i, Why: LagLeastLagged}
		}
	case LagError:
		return Choice{Backend: Master, Why: LagRefused, Err: e.refusal()}
	}
	return Choice{Backend: Master, Why: LagMaster}
}

// leastLagged returns the replica with configured weight whose lag is
// known and least (time lag, then byte lag, then order), or -1.
func (e *Eligibility) leastLagged() int {
	best := -1
	for i, s := range e.Samples {
		if i >= MaxReplicas || s.Health != Known || s.Weight <= 0 {
			continue
		}
		if best < 0 {
			best = i
			continue
		}
		b := e.Samples[best]
		if s.TimeLag < b.TimeLag || (s.TimeLag == b.TimeLag && s.ByteLag < b.ByteLag) {
			best = i
		}
	}
	return best
}

// refusal is the error for a read refused because no replica qualifies:
// TRYAGAIN, as Redis says for a condition that passes (go-redis retries
// it), then each replica's reason.
func (e *Eligibility) refusal() string {
	var b strings.Builder
	fmt.Fprintf(&b, "TRYAGAIN no replica within max_lag %v:", e.Policy.MaxLag)
	if len(e.Samples) == 0 {
		b.WriteString(" no replicas configured")
	}
	back := time.Duration((1 - e.Policy.Hysteresis) * float64(e.Policy.MaxLag))
	for i, s := range e.Samples {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, " %s ", s.Addr)
		switch e.Replicas[i].Cause {
		case Unmeasured:
			fmt.Fprintf(&b, "lag unknown (%v)", s.Health)
		case TooFar:
			fmt.Fprintf(&b, "lags %v", s.TimeLag)
		case Returning:
			fmt.Fprintf(&b, "lags %v, returns below %v", s.TimeLag, back)
		case NoWeight:
			b.WriteString("has weight 0")
		case OverLimit:
			fmt.Fprintf(&b, "is past the first %d replicas", MaxReplicas)
		default:
			fmt.Fprintf(&b, "lags %v", s.TimeLag)
		}
	}
	return b.String()
}
