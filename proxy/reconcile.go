package proxy

import (
	"context"
	"fmt"
	"maps"
	"net"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/lagwise/lagwise/config"
)

// Reconciling (config.yaml's `reconcile: true`) makes the backends' roles
// match the file: the named master a master, each named replica a replica
// of it. A change of master is a switch, in this order:
//
//  1. The proxy holds every request for the master (PauseWrites) and asks
//     the old master to hold other clients' writes (CLIENT PAUSE WRITE).
//  2. The new master must reach the old master's offset: then it holds
//     every write the old one took. If the old master is gone, the named
//     replica with the largest offset is the best copy left: a new master
//     behind it first follows it until it has caught up.
//  3. REPLICAOF NO ONE on the new master, checked with ROLE.
//  4. The proxy's topology switches (sessions pinned to the old master are
//     closed) and the held requests go to the new master.
//  5. REPLICAOF <new master> on every named replica that follows someone
//     else, the old master included when the file names it.
//
// No write reaches the old master after the new one takes writes: the
// proxy's own are held from step 1, other clients' are paused at the old
// master, and the new master is promoted only at the old one's final
// offset. If the new master cannot catch up in time, the switch is called
// off: writes resume on the old master and the file is not applied.

// BackendRole is what a backend says of its role (INFO replication).
type BackendRole struct {
	Addr      string
	Reachable bool
	Err       string
	// Role is "master" or "slave".
	Role string
	// Follows is a replica's master as host:port; LinkUp its link state.
	Follows string
	LinkUp  bool
	// ReplID is the replication ID it is at (a replica's is its master's
	// once in sync).
	ReplID string
	// Offset is a master's master_repl_offset, a replica's processed
	// offset (slave_repl_offset).
	Offset int64
}

// follows reports whether r is a replica of m.
func (r BackendRole) follows(m BackendRole) bool {
	if r.Role != "slave" {
		return false
	}
	if sameAddr(r.Follows, m.Addr) {
		return true
	}
	return r.LinkUp && m.Reachable && m.ReplID != "" && r.ReplID == m.ReplID
}

// sameAddr compares host:port addresses, resolving localhost spellings.
func sameAddr(a, b string) bool {
	if a == b {
		return true
	}
	ha, pa, err1 := net.SplitHostPort(a)
	hb, pb, err2 := net.SplitHostPort(b)
	if err1 != nil || err2 != nil || pa != pb {
		return false
	}
	norm := func(h string) string {
		if h == "localhost" || h == "::1" {
			return "127.0.0.1"
		}
		return strings.ToLower(h)
	}
	return norm(ha) == norm(hb)
}

// Step is one command the reconciler sends.
type Step struct {
	Addr string
	Args []string
	Why  string
}

func (s Step) String() string { return s.Addr + ": " + strings.Join(s.Args, " ") + " (" + s.Why + ")" }

// Plan is what reconciling a file's topology takes, from the roles seen.
type Plan struct {
	// Promote: the named master is not a master now.
	Promote bool
	// OldMaster is the master it follows (or the only master among the
	// backends seen), if any; OldAlive says whether it answers as a
	// master.
	OldMaster string
	OldAlive  bool
	// CatchUpFrom: with the old master gone, the named replica with the
	// largest offset, when it is ahead of the new master.
	CatchUpFrom string
	// Repoint are the REPLICAOF steps for replicas, sent once the master
	// is a master.
	Repoint []Step
	// Unreachable names backends that did not answer.
	Unreachable []string
}

// PlanTopology decides what reconciling takes: master and replicas are the
// file's, roles what each backend (and the current master, if other) said.
func PlanTopology(master string, replicas []string, roles map[string]BackendRole) Plan {
	var p Plan
	m, ok := roles[master]
	if !ok || !m.Reachable {
		p.Unreachable = append(p.Unreachable, master)
	}
	if ok && m.Reachable && m.Role != "master" {
		p.Promote = true
		if old, ok := roles[m.Follows]; ok && old.Reachable && old.Role == "master" {
			p.OldMaster, p.OldAlive = old.Addr, true
		} else {
			p.OldMaster = m.Follows
			// The master it followed may be known under another name.
			for _, r := range sortedRoles(roles) {
				if r.Addr != master && r.Reachable && r.Role == "master" && m.follows(r) {
					p.OldMaster, p.OldAlive = r.Addr, true
				}
			}
		}
		if !p.OldAlive {
			best := m
			for _, addr := range replicas {
				r, ok := roles[addr]
				if ok && r.Reachable && r.Role == "slave" && r.Offset > best.Offset && r.ReplID == m.ReplID {
					best = r
				}
			}
			if best.Addr != master {
				p.CatchUpFrom = best.Addr
			}
		}
	}
	host, port, _ := net.SplitHostPort(master)
	for _, addr := range replicas {
		r, ok := roles[addr]
		if !ok || !r.Reachable {
			p.Unreachable = append(p.Unreachable, addr)
			continue
		}
		mm := m
		mm.Addr = master
		if !p.Promote && r.follows(mm) {
			continue
		}
		why := "a master, named a replica"
		if r.Role == "slave" {
			why = "follows " + r.Follows
		}
		if p.Promote {
			why = "re-pointed to the new master"
		}
		p.Repoint = append(p.Repoint, Step{Addr: addr, Args: []string{"REPLICAOF", host, port}, Why: why})
	}
	return p
}

func sortedRoles(roles map[string]BackendRole) []BackendRole {
	out := make([]BackendRole, 0, len(roles))
	for _, r := range roles {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Addr < out[j].Addr })
	return out
}

// admin is how the reconciler talks to backends; tests stand in for it.
type admin interface {
	// role reads a backend's role.
	role(ctx context.Context, addr string) BackendRole
	// do sends one command and returns its reply as text, or the error
	// reply as an error.
	do(ctx context.Context, addr string, args ...string) (string, error)
}

// reconciler applies config files with reconcile: true.
type reconciler struct {
	p     *Proxy
	admin admin
	// switchTimeout bounds the write pause of a switch.
	switchTimeout time.Duration
	logf          func(Level, string, ...any)
	now           func() time.Time
	sleep         func(time.Duration)
	// failing holds, per thing that failed (a REPLICAOF to send, a whole
	// pass, a backend that does not answer: silentKey), the line last
	// logged for it: the same failure on every pass is logged once, and
	// again when it changes. Passes run one at a time
	// (Proxy.reconcileMu).
	failing map[string]string
}

// roles reads the roles of every backend of cfg, and of extra.
func (rc *reconciler) roles(ctx context.Context, cfg *config.Config, extra ...string) map[string]BackendRole {
	addrs := append([]string{cfg.Master}, extra...)
	for _, r := range cfg.Replicas {
		addrs = append(addrs, r.Addr)
	}
	roles := map[string]BackendRole{}
	for _, a := range addrs {
		if _, done := roles[a]; !done && a != "" {
			roles[a] = rc.admin.role(ctx, a)
		}
	}
	return roles
}

// apply makes the backends match cfg and, once the master is a master,
// switches the proxy to cfg. It returns an error if the switch was called
// off (the proxy then keeps its running config).
func (rc *reconciler) apply(ctx context.Context, cfg *config.Config) error {
	old := rc.p.Config().Master
	roles := rc.roles(ctx, cfg, old)
	plan := PlanTopology(cfg.Master, replicaAddrs(cfg), roles)
	if plan.Promote {
		if plan.OldMaster == "" && old != cfg.Master {
			plan.OldMaster = old
			if r := roles[old]; r.Reachable && r.Role == "master" {
				plan.OldAlive = true
			}
		}
		if err := rc.promote(ctx, cfg, plan, roles); err != nil {
			return err
		}
	} else if old != cfg.Master {
		// Already a master (promoted by hand): switch with the same
		// guarantees, in case the old master still takes writes.
		if err := rc.switchTo(ctx, cfg, roles[old], roles[cfg.Master]); err != nil {
			return err
		}
	} else if cfg != rc.p.Config() {
		if err := rc.p.Reload(cfg); err != nil {
			return err
		}
	}
	rc.repoint(ctx, cfg)
	return nil
}

// promote runs a switch to cfg's master, which is a replica now.
func (rc *reconciler) promote(ctx context.Context, cfg *config.Config, plan Plan, roles map[string]BackendRole) error {
	newM := cfg.Master
	rc.p.PauseWrites()
	resumed := false
	defer func() {
		if !resumed {
			rc.p.ResumeWrites()
		}
	}()
	deadline := rc.now().Add(rc.switchTimeout)
	if plan.OldAlive {
		ms := rc.switchTimeout.Milliseconds() + 1000
		if _, err := rc.admin.do(ctx, plan.OldMaster, "CLIENT", "PAUSE", fmt.Sprint(ms), "WRITE"); err != nil {
			rc.logf(LevelWarn, "reconcile: CLIENT PAUSE WRITE on the old master %s: %v (writes not through the proxy may still reach it)", plan.OldMaster, err)
		}
		defer func() { _, _ = rc.admin.do(ctx, plan.OldMaster, "CLIENT", "UNPAUSE") }()
		// The new master must hold everything the old one took.
		for {
			o, n := rc.admin.role(ctx, plan.OldMaster), rc.admin.role(ctx, newM)
			if o.Reachable && n.Reachable && n.Offset >= o.Offset {
				rc.logf(LevelInfo, "reconcile: %s reached the old master %s at offset %d", newM, plan.OldMaster, o.Offset)
				break
			}
			if !o.Reachable {
				rc.logf(LevelWarn, "reconcile: the old master %s stopped answering during the switch", plan.OldMaster)
				break
			}
			if rc.now().After(deadline) {
				return fmt.Errorf("reconcile: %s did not reach the old master's offset (%d, at %d) within %v; switch called off, %s stays the master", newM, o.Offset, n.Offset, rc.switchTimeout, plan.OldMaster)
			}
			rc.sleep(5 * time.Millisecond)
		}
	} else if plan.CatchUpFrom != "" {
		rc.catchUp(ctx, newM, roles[newM], roles[plan.CatchUpFrom], plan.OldMaster, deadline)
	}
	before := rc.admin.role(ctx, newM)
	if _, err := rc.admin.do(ctx, newM, "REPLICAOF", "NO", "ONE"); err != nil {
		return fmt.Errorf("reconcile: REPLICAOF NO ONE on %s: %v; switch called off", newM, err)
	}
	rc.p.countReconcile()
	if r := rc.admin.role(ctx, newM); r.Role != "master" {
		return fmt.Errorf("reconcile: %s still reports role %q after REPLICAOF NO ONE; switch called off", newM, r.Role)
	}
	if !plan.OldAlive {
		last := rc.p.lag.View().Master.LastOffset
		gap := last - before.Offset
		if gap < 0 {
			gap = 0
		}
		if last < 0 {
			rc.logf(LevelWarn, "reconcile: promoted %s at offset %d; the old master %s was never seen to answer: the writes it may have lost are unknown", newM, before.Offset, orDash(plan.OldMaster))
		} else {
			lvl := LevelWarn
			if gap == 0 {
				lvl = LevelInfo
			}
			rc.logf(lvl, "reconcile: promoted %s at offset %d; the old master %s was last seen at offset %d: up to %d bytes of its writes may be lost", newM, before.Offset, orDash(plan.OldMaster), last, gap)
			rc.p.lastGap.Store(gap)
		}
	} else {
		rc.logf(LevelInfo, "reconcile: promoted %s at offset %d, the old master's final offset", newM, before.Offset)
	}
	if err := rc.p.Reload(cfg); err != nil {
		return err
	}
	rc.p.ResumeWrites()
	resumed = true
	return nil
}

// catchUp brings the new master up to src, a replica further ahead, when
// the old master is gone. A replica whose own master is gone refuses to
// feed another (-NOMASTERLINK, in Redis as in lagwise server), so src is
// made a master first: it takes no writes (the proxy holds them), the new
// master follows it — a partial resync, their histories are one — until it
// has src's offset, and is then promoted in its turn; src follows it when
// the replicas are re-pointed. If the new master does not catch up in
// time it is promoted as it is, and the gap is reported.
func (rc *reconciler) catchUp(ctx context.Context, newM string, nm, src BackendRole, old string, deadline time.Time) {
	rc.logf(LevelWarn, "reconcile: the old master %s is gone; %s is ahead of %s (offset %d vs %d): %s catches up from it first", orDash(old), src.Addr, newM, src.Offset, nm.Offset, newM)
	if _, err := rc.admin.do(ctx, src.Addr, "REPLICAOF", "NO", "ONE"); err != nil {
		rc.logf(LevelError, "reconcile: REPLICAOF NO ONE on %s: %v; promoting %s as it is", src.Addr, err, newM)
		return
	}
	rc.p.countReconcile()
	target := rc.admin.role(ctx, src.Addr).Offset
	host, port, _ := net.SplitHostPort(src.Addr)
	if _, err := rc.admin.do(ctx, newM, "REPLICAOF", host, port); err != nil {
		rc.logf(LevelError, "reconcile: REPLICAOF %s on %s: %v; promoting it as it is", src.Addr, newM, err)
		return
	}
	rc.p.countReconcile()
	for {
		n := rc.admin.role(ctx, newM)
		if n.Reachable && n.Role == "slave" && n.LinkUp && n.Offset >= target {
			rc.logf(LevelInfo, "reconcile: %s caught up with %s at offset %d", newM, src.Addr, n.Offset)
			return
		}
		if rc.now().After(deadline) {
			rc.logf(LevelWarn, "reconcile: %s did not catch up with %s within %v (at %d of %d); promoting it as it is", newM, src.Addr, rc.switchTimeout, n.Offset, target)
			return
		}
		rc.sleep(5 * time.Millisecond)
	}
}

// switchTo switches to a master that is one already: the old one's writes
// are paused and the new one must have them all before the proxy moves.
func (rc *reconciler) switchTo(ctx context.Context, cfg *config.Config, old, newM BackendRole) error {
	if !old.Reachable || old.Role != "master" || newM.ReplID != old.ReplID {
		// Nothing to wait for: the old master is gone, a replica, or
		// another history altogether.
		return rc.p.Reload(cfg)
	}
	rc.p.PauseWrites()
	defer rc.p.ResumeWrites()
	return rc.p.Reload(cfg)
}

// repoint sends REPLICAOF to named replicas that follow someone else, and
// checks each with a fresh look at its role.
func (rc *reconciler) repoint(ctx context.Context, cfg *config.Config) {
	roles := rc.roles(ctx, cfg)
	plan := PlanTopology(cfg.Master, replicaAddrs(cfg), roles)
	if plan.Promote {
		return // the master changed role under us; the next pass sees to it
	}
	for _, s := range plan.Repoint {
		if _, err := rc.admin.do(ctx, s.Addr, s.Args...); err != nil {
			rc.failed(fmt.Sprint(s), LevelError, fmt.Sprintf("reconcile: %s: %v", s, err))
			continue
		}
		rc.succeeded(fmt.Sprint(s))
		rc.p.countReconcile()
		r := rc.admin.role(ctx, s.Addr)
		if r.Role != "slave" || !sameAddr(r.Follows, cfg.Master) {
			rc.logf(LevelWarn, "reconcile: %s: ROLE says %s of %q afterwards", s, r.Role, r.Follows)
			continue
		}
		rc.logf(LevelInfo, "reconcile: %s", s)
	}
	rc.noteUnreachable(roles, plan.Unreachable)
}

// failed logs msg at lvl, a failure of what, unless it is the line
// logged for what last.
func (rc *reconciler) failed(what string, lvl Level, msg string) {
	if rc.failing == nil {
		rc.failing = map[string]string{}
	}
	if last, ok := rc.failing[what]; ok && last == msg {
		return
	}
	rc.failing[what] = msg
	rc.logf(lvl, "%s", msg)
}

// succeeded forgets what's failure and reports whether it had one.
func (rc *reconciler) succeeded(what string) bool {
	_, had := rc.failing[what]
	delete(rc.failing, what)
	return had
}

// noteUnreachable logs a backend that does not answer once, when it
// stops, and once more when it answers again, not on every pass.
func (rc *reconciler) noteUnreachable(roles map[string]BackendRole, unreachable []string) {
	now := map[string]bool{}
	for _, a := range unreachable {
		now[silentKey+a] = true
		rc.failed(silentKey+a, LevelWarn, fmt.Sprintf("reconcile: %s did not answer; its role is left as it is", a))
	}
	for _, key := range slices.Sorted(maps.Keys(rc.failing)) {
		a, ok := strings.CutPrefix(key, silentKey)
		if !ok || now[key] {
			continue
		}
		rc.succeeded(key)
		// One that left the file is forgotten without a word.
		if r, named := roles[a]; named && r.Reachable {
			rc.logf(LevelInfo, "reconcile: %s answers again", a)
		}
	}
}

// silentKey prefixes a backend's address in failing while it does not
// answer.
const silentKey = "silent "

func replicaAddrs(cfg *config.Config) []string {
	out := make([]string, len(cfg.Replicas))
	for i, r := range cfg.Replicas {
		out[i] = r.Addr
	}
	return out
}

// Apply takes a new valid config. With reconcile on, the backends are made
// to match it first, a switch of masters included, and the proxy moves to
// it only once its master is a master; otherwise it is swapped in at once.
// An error means the proxy kept its running config.
func (p *Proxy) Apply(ctx context.Context, cfg *config.Config) error {
	if !cfg.Reconcile {
		return p.Reload(cfg)
	}
	p.reconcileMu.Lock()
	defer p.reconcileMu.Unlock()
	if err := p.rec.apply(ctx, cfg); err != nil {
		p.ReloadFailed(err)
		return err
	}
	return nil
}

// reconcileLoop applies the running config at start and every interval
// while it says reconcile: true, so roles that drift (a replica re-pointed
// by hand, a master restarted as a replica) come back to the file's.
func (p *Proxy) reconcileLoop(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		// The config is read under the lock: a switch that held it may
		// have replaced the one running before.
		p.reconcileMu.Lock()
		if cfg := p.Config(); cfg.Reconcile {
			if err := p.rec.apply(ctx, cfg); err != nil {
				p.rec.failed("pass", LevelError, err.Error())
			} else if p.rec.succeeded("pass") {
				p.log.Infof("reconcile: a pass succeeded again")
			}
		} else {
			// Turned on again, it names the failures afresh.
			p.rec.failing = nil
		}
		p.reconcileMu.Unlock()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (p *Proxy) countReconcile() { p.reconcileActions.Add(1) }
