package proxy

import (
	"fmt"
	"math"
	"net"
	"slices"
	"strconv"
	"time"

	"github.com/lagwise/lagwise/config"
	"github.com/lagwise/lagwise/router"
)

// Building views from polls: pure functions of their arguments (the
// History is read, not changed).

const monNotPolled = "not polled yet"

// monUnpolled is a replica the monitor has no answer from: no reads.
func monUnpolled(r config.Replica, why string) ReplicaState {
	return ReplicaState{
		Addr: r.Addr, Weight: r.Weight, Health: router.NoAnswer,
		Offset: -1, ByteLag: -1, LagSeconds: math.Inf(1), AckOffset: -1, Err: why,
	}
}

// monInitialView is the view before the first round: the master unknown,
// every replica NoAnswer.
func monInitialView(cfg MonitorConfig) *View {
	v := &View{Master: MasterState{Addr: cfg.Master, Offset: -1, Err: monNotPolled}}
	for _, r := range cfg.Replicas {
		v.Replicas = append(v.Replicas, monUnpolled(r, monNotPolled))
	}
	v.Eligibility = router.Eligible(monSamples(v.Replicas), cfg.Policy, nil)
	return v
}

// monRepublish is prev made over for a new config (Monitor.Update): the
// same round's findings, the new topology and policy. A replica prev
// knows keeps its state with its new weight; a new one is unpolled: no
// reads, but not cut off (router.Eligible), so the first poll that finds
// its lag under max_lag gives it reads. With a new master, nothing prev
// knows about replication holds, and every replica is unpolled; one whose
// lag was known is cut off, and returns under the hysteresis line.
func monRepublish(prev *View, old, cfg MonitorConfig) *View {
	v := &View{Seq: prev.Seq, At: prev.At, Master: prev.Master}
	sameMaster := old.Master == cfg.Master
	if !sameMaster {
		v.Master = MasterState{Addr: cfg.Master, Offset: -1, Err: monNotPolled}
	}
	for _, r := range cfg.Replicas {
		i := slices.IndexFunc(prev.Replicas, func(s ReplicaState) bool { return s.Addr == r.Addr })
		if i < 0 || !sameMaster {
			v.Replicas = append(v.Replicas, monUnpolled(r, monNotPolled))
			continue
		}
		st := prev.Replicas[i]
		st.Weight = r.Weight
		v.Replicas = append(v.Replicas, st)
	}
	v.Eligibility = router.Eligible(monSamples(v.Replicas), cfg.Policy, prev.Eligibility)
	return v
}

func monSamples(rs []ReplicaState) []router.Sample {
	out := make([]router.Sample, len(rs))
	for i := range rs {
		out[i] = rs[i].Sample()
	}
	return out
}

// monBuildView makes a round's view. mp is the master's poll; polls holds
// the replicas' by address (a replica without one is unpolled); ref is
// the master as last seen, with this round's answer already in it and in
// hist; resolved maps replica host names to addresses; prev is the view
// before, whose Eligibility carries the hysteresis.
func monBuildView(seq uint64, at time.Time, cfg MonitorConfig, mp *monPoll, polls map[string]*monPoll,
	ref monMasterRef, hist *router.History, resolved map[string][]string, prev *View) *View {
	v := &View{Seq: seq, At: at, Master: monMasterState(cfg.Master, mp)}
	v.Master.LastOffset = -1
	if ref.known {
		v.Master.LastOffset = ref.offset
	}
	for _, r := range cfg.Replicas {
		st := monReplicaState(r, polls[r.Addr], ref, hist, cfg.Policy.MaxLag)
		st.AckOffset = monAckOffset(r.Addr, v.Master.Replicas, resolved)
		v.Replicas = append(v.Replicas, st)
	}
	var prevElig *router.Eligibility
	if prev != nil {
		prevElig = prev.Eligibility
	}
	v.Eligibility = router.Eligible(monSamples(v.Replicas), cfg.Policy, prevElig)
	return v
}

// monMasterState is the master as its poll found it.
func monMasterState(addr string, mp *monPoll) MasterState {
	ms := MasterState{Addr: addr, Offset: -1}
	switch {
	case mp == nil:
		ms.Err = monNotPolled
		return ms
	case !mp.answered:
		ms.Err = mp.err
		return ms
	case mp.loadingReply:
		ms.Up, ms.Err = true, mp.err
		return ms
	}
	info := &mp.info
	ms.Up, ms.Role, ms.ReplID = true, info.Role, info.ReplID
	if info.HasMasterReplOffset {
		ms.Offset = info.MasterReplOffset
	} else {
		ms.Err = "INFO replication has no master_repl_offset"
	}
	ms.Replicas = make([]MasterReplica, 0, len(info.Slaves))
	for _, s := range info.Slaves {
		ms.Replicas = append(ms.Replicas, MasterReplica{
			Addr:      net.JoinHostPort(s.IP, strconv.Itoa(s.Port)),
			State:     s.State,
			AckOffset: s.Offset,
			// Redis prints lag=-1 for a replica not yet online.
			LagSeconds: s.Lag,
		})
	}
	return ms
}

// monAckOffset finds the replica at addr in the master's view: the same
// port, and the same host, or an address the host resolved to. -1 when
// the master lists none.
func monAckOffset(addr string, seen []MasterReplica, resolved map[string][]string) int64 {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return -1
	}
	for _, s := range seen {
		sh, sp, err := net.SplitHostPort(s.Addr)
		if err != nil || sp != port {
			continue
		}
		if sh == host || slices.Contains(resolved[host], sh) || monSameIP(sh, host) {
			return s.AckOffset
		}
	}
	return -1
}

// monSameIP reports whether a and b are the same IP address written two
// ways ("::1" and "0:0::1").
func monSameIP(a, b string) bool {
	x, y := net.ParseIP(a), net.ParseIP(b)
	return x != nil && y != nil && x.Equal(y)
}

// monReplicaState is a replica as its poll found it, measured against the
// master ref and the offset history.
//
// Health, in order: no answer (or no usable one) → NoAnswer; a -LOADING
// answer or loading:1 → Loading; role not slave → NotReplica; a full sync
// in progress → Syncing; master_link_status not up while the master
// answers (or has never answered) → LinkDown; no
// processed offset, or no master answer yet to measure it against →
// NoAnswer; a replication ID not the master's → NotReplica (it replicates
// another master, or has not yet synced with this one); else Known.
//
// A Known replica's lag: byte lag is the master's offset minus the
// replica's (at least 0). Time lag is 0 for a replica at or past the
// master's offset when the master answered this round; when it did
// not, the time since its last answer — the replica holds the master's
// data as of then at least, so that bounds its lag. For a replica behind
// the master's offset it is the time since the master was first seen
// past the replica's offset (router.History.TimeLag of offset+1): short
// of the truth by less than one poll interval, as History says, and
// right after an idle spell. Behind the oldest sample the lag is only
// known to be at least now minus that sample:
// that bound stands if it is max_lag or more (the replica is cut off
// either way), and otherwise the lag is unknown (LagSeconds +Inf) and
// the sample says max_lag, so it gets no reads.
func monReplicaState(r config.Replica, p *monPoll, ref monMasterRef, hist *router.History, maxLag time.Duration) ReplicaState {
	st := monUnpolled(r, monNotPolled)
	if p == nil {
		return st
	}
	if !p.answered {
		st.Err = p.err
		return st
	}
	st.Up = true
	info := &p.info
	st.Role, st.LinkStatus = info.Role, info.LinkStatus
	if info.HasSlaveReplOffset {
		st.Offset = info.SlaveReplOffset
	}
	switch {
	case p.loadingReply:
		st.Health, st.Err = router.Loading, p.err
	case info.Loading:
		st.Health, st.Err = router.Loading, "loading a dataset"
	case info.Role != "slave":
		role := info.Role
		if role == "" {
			role = "unknown"
		}
		st.Health, st.Err = router.NotReplica, fmt.Sprintf("role is %s, not a replica", role)
	case info.SyncInProgress:
		st.Health, st.Err = router.Syncing, "full sync with its master in progress"
	case info.LinkStatus != "up" && (ref.answered || !ref.known):
		// With the master answering, a replica whose link is down falls
		// behind it. (With the master gone, see below.)
		status := info.LinkStatus
		if status == "" {
			status = "(none)"
		}
		st.Health, st.Err = router.LinkDown, "master_link_status:"+status
	case !info.HasSlaveReplOffset:
		st.Health, st.Err = router.NoAnswer, "INFO replication has no slave_repl_offset"
	case !ref.known:
		st.Health, st.Err = router.NoAnswer, "lag unknown: no answer from the master yet"
	case info.ReplID != ref.replID:
		st.Health = router.NotReplica
		st.Err = fmt.Sprintf("replication ID %s (replicating %s) is not the master's %s",
			info.ReplID, net.JoinHostPort(info.MasterHost, strconv.Itoa(info.MasterPort)), ref.replID)
	default:
		st.Health, st.Err = router.Known, ""
	}
	if st.Health != router.Known {
		return st
	}

	off, now := info.SlaveReplOffset, p.recv
	st.ByteLag = max(ref.offset-off, 0)
	// The master did not answer and the replica has lost its link too:
	// the master is most likely gone, and with it every write newer than
	// its last answer. The replica's data is frozen; its lag is what it
	// was at the master's last answer, and reads go on from it.
	frozen := !ref.answered && info.LinkStatus != "up"
	if frozen {
		now = ref.seenAt
		st.Err = "master_link_status:" + info.LinkStatus + " and the master does not answer: lag as of the master's last answer"
	}
	var lag time.Duration
	switch {
	case off >= ref.offset && (ref.answered || frozen):
		lag = 0
	case off >= ref.offset:
		lag = max(now.Sub(ref.seenAt), 0)
		st.Err = "the master did not answer this round: lag counted from its last answer"
	default:
		// Since the master was first seen past the replica's offset:
		// TimeLag(off+1), not TimeLag(off). The History keeps the first
		// time the master was seen at each offset; a master that sat at
		// off for an hour and then took a write would otherwise give a
		// replica one write behind an hour of lag.
		l, ok := hist.TimeLag(off+1, now)
		switch {
		case ok:
			lag = l
		case l >= maxLag:
			lag = l
			st.Err = fmt.Sprintf("lag at least %v: behind the offset history", l.Round(time.Millisecond))
		default:
			st.TimeLag = maxLag
			st.Err = "lag unknown: behind the offset history"
			return st // LagSeconds stays +Inf
		}
	}
	st.TimeLag, st.LagSeconds = lag, lag.Seconds()
	return st
}

// monNote is one line of the monitor's news, at its level.
type monNote struct {
	level Level
	text  string
}

// monNews says what changed from prev to v that an operator would want
// in the log: the master going down, coming back or changing role or
// replication ID, and a replica changing health or going up or down. A
// backend lost to reads is a warning; one back, information.
func monNews(prev, v *View) []monNote {
	var out []monNote
	note := func(lvl Level, format string, args ...any) {
		out = append(out, monNote{lvl, fmt.Sprintf(format, args...)})
	}
	pm, m := prev.Master, v.Master
	switch {
	case pm.Up && !m.Up:
		note(LevelWarn, "master %s: down: %s", m.Addr, m.Err)
	case !pm.Up && m.Up:
		note(LevelInfo, "master %s: up, role %s, offset %d", m.Addr, m.Role, m.Offset)
	case m.Up && pm.Role != m.Role:
		note(LevelWarn, "master %s: role %s (was %s)", m.Addr, m.Role, pm.Role)
	}
	if m.Up && m.Role != "" && m.Role != "master" && (pm.Role != m.Role || !pm.Up) {
		note(LevelWarn, "master %s reports role %s: writes sent to it will fail", m.Addr, m.Role)
	}
	for i := range v.Replicas {
		r := &v.Replicas[i]
		j := slices.IndexFunc(prev.Replicas, func(s ReplicaState) bool { return s.Addr == r.Addr })
		var was *ReplicaState
		if j >= 0 {
			was = &prev.Replicas[j]
		}
		if was != nil && was.Health == r.Health && was.Up == r.Up {
			continue
		}
		if was != nil && was.Err == monNotPolled && r.Health == router.Known {
			note(LevelInfo, "replica %s: lag %v, %d bytes", r.Addr, r.TimeLag, r.ByteLag)
			continue
		}
		switch {
		case r.Health == router.Known:
			note(LevelInfo, "replica %s: back, lag %v, %d bytes", r.Addr, r.TimeLag, r.ByteLag)
		case !r.Up:
			note(LevelWarn, "replica %s: down: %s", r.Addr, r.Err)
		default:
			note(LevelWarn, "replica %s: %v: %s", r.Addr, r.Health, r.Err)
		}
	}
	return out
}
