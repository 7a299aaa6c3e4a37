package router

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// ReadFrom is the routing.read_from setting: where reads go.
type ReadFrom string

const (
	// FromReplicas: reads go to replicas within max_lag, weighted by lag;
	// when none qualifies, when_replicas_lag decides.
	FromReplicas ReadFrom = "replicas"
	// FromMaster: every read goes to the master; when_replicas_lag is
	// ignored.
	FromMaster ReadFrom = "master"
	// FromAny: the master joins the replicas' weighted pool with
	// master_weight.
	FromAny ReadFrom = "any"
)

// WhenLag is the routing.when_replicas_lag setting: what a read does when
// no backend in the pool qualifies.
type WhenLag string

const (
	// LagToMaster: the master serves it (the default).
	LagToMaster WhenLag = "master"
	// LagToLeastLagged: the replica with the least time lag whose lag is
	// known serves it, however far behind; the master if no replica's lag
	// is known. The operator chose stale reads knowingly.
	LagToLeastLagged WhenLag = "least-lagged"
	// LagError: the read is refused with a -TRYAGAIN error naming each
	// replica's lag.
	LagError WhenLag = "error"
)

// MaxWeight bounds configured weights (replicas' and master_weight).
// Weights are relative; the bound keeps their sums far from overflow.
const MaxWeight = 1 << 20

// Policy is the routing section of config.yaml that decides reads.
type Policy struct {
	// ReadFrom is routing.read_from.
	ReadFrom ReadFrom
	// MaxLag is routing.max_lag: a replica whose time lag reaches it gets
	// no reads, and its weight falls linearly to zero on the way there.
	MaxLag time.Duration
	// Hysteresis is routing.hysteresis, a fraction of MaxLag: a replica
	// cut off (lag unknown or at MaxLag or more) returns only once its
	// lag is below (1 − Hysteresis) × MaxLag, so one near the threshold
	// does not flap. 0 turns it off.
	Hysteresis float64
	// WhenReplicasLag is routing.when_replicas_lag.
	WhenReplicasLag WhenLag
	// MasterWeight is routing.master_weight: the master's weight in the
	// pool with read_from: any, against replicas' configured weights.
	MasterWeight int
}

// DefaultPolicy returns the routing defaults of design.md's config.yaml.
func DefaultPolicy() Policy {
	return Policy{
		ReadFrom:        FromReplicas,
		MaxLag:          500 * time.Millisecond,
		Hysteresis:      0.2,
		WhenReplicasLag: LagToMaster,
		MasterWeight:    1,
	}
}

// Validate reports every setting of p that is out of range, each naming
// its config key: unknown read_from or when_replicas_lag values, max_lag
// ≤ 0, hysteresis outside [0, 1), master_weight outside [0, MaxWeight].
func (p Policy) Validate() error {
	var errs []error
	switch p.ReadFrom {
	case FromReplicas, FromMaster, FromAny:
	default:
		errs = append(errs, fmt.Errorf("routing.read_from: unknown value %q (want replicas, master or any)", string(p.ReadFrom)))
	}
	if p.MaxLag <= 0 {
		errs = append(errs, fmt.Errorf("routing.max_lag: must be more than 0, got %v", p.MaxLag))
	}
	if math.IsNaN(p.Hysteresis) || p.Hysteresis < 0 || p.Hysteresis >= 1 {
		errs = append(errs, fmt.Errorf("routing.hysteresis: must be at least 0 and less than 1, got %v", p.Hysteresis))
	}
	switch p.WhenReplicasLag {
	case LagToMaster, LagToLeastLagged, LagError:
	default:
		errs = append(errs, fmt.Errorf("routing.when_replicas_lag: unknown value %q (want master, least-lagged or error)", string(p.WhenReplicasLag)))
	}
	if p.MasterWeight < 0 || p.MasterWeight > MaxWeight {
		errs = append(errs, fmt.Errorf("routing.master_weight: must be between 0 and %d, got %d", MaxWeight, p.MasterWeight))
	}
	return errors.Join(errs...)
}
