package config

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/lagwise/lagwise/router"
)

// Describe says what the proxy would do with the config, one aspect a
// line: where it listens, the topology with weights, how reads are
// routed, the backends' authentication (the password's variable and
// whether it is set, never the password), the limits, the admin commands
// let through, reconcile and the log level. It is what `lagwise config
// check` prints for a valid config.
func (c *Config) Describe() string {
	var b strings.Builder
	row := func(label, format string, args ...any) {
		fmt.Fprintf(&b, "%-17s %s\n", label, fmt.Sprintf(format, args...))
	}
	r := c.Routing

	clientAuth := "clients need no AUTH"
	if c.Auth.Password != "" {
		clientAuth = "clients AUTH with auth.password"
	}
	row("listen", "%s (%s)", show(c.Listen), clientAuth)
	row("metrics_listen", "%s (/metrics, /healthz, /readyz)", show(c.MetricsListen))
	b.WriteByte('\n')

	row("master", "%s: writes, transactions, blocking commands, pub/sub%s", show(c.Master), masterReads(c))
	if len(c.Replicas) == 0 {
		row("replicas", "none")
	}
	for i, rep := range c.Replicas {
		note := ""
		switch {
		case r.ReadFrom == router.FromMaster:
			note = ", no reads with read_from: master"
		case i >= router.MaxReplicas:
			note = fmt.Sprintf(", no reads: past the first %d replicas", router.MaxReplicas)
		case rep.Weight == 0:
			note = ", no reads"
		}
		row("replica", "%s  weight %d%s", show(rep.Addr), rep.Weight, note)
	}
	b.WriteByte('\n')

	switch r.ReadFrom {
	case router.FromMaster:
		row("reads", "all to the master (read_from: master)")
	case router.FromReplicas, router.FromAny:
		pool := "replicas"
		if r.ReadFrom == router.FromAny {
			pool = fmt.Sprintf("the master (weight %d) and replicas", r.MasterWeight)
		}
		row("reads", "to %s with lag under %v, by weight; a replica's weight falls linearly to 0 as its lag nears %v", pool, r.MaxLag, r.MaxLag)
		if r.Hysteresis > 0 {
			back := time.Duration(float64(r.MaxLag) * (1 - r.Hysteresis))
			row("", "a replica cut off gets reads again once its lag is under %v (hysteresis %s)", back, fmtFloat(r.Hysteresis))
		}
		row("", "when none qualifies: %s", fallback(r.WhenReplicasLag))
	default:
		row("reads", "read_from %q is not known", r.ReadFrom)
	}
	if r.ReadYourWrites {
		row("read-your-writes", "on: a client that wrote reads only from backends that have its write")
	} else {
		row("read-your-writes", "off: a client may read from a replica that lacks its own write")
	}
	row("lag polls", "every %v; a poll unanswered after %v makes the lag unknown (no reads)", r.LagPollInterval, r.PollTimeout)
	b.WriteByte('\n')

	row("backend auth", "%s", c.BackendAuth.describe())
	idle := "idle clients stay"
	if c.Limits.IdleTimeout > 0 {
		idle = fmt.Sprintf("idle clients closed after %v", c.Limits.IdleTimeout)
	}
	row("limits", "%d clients; per client %s of requests ahead, %s of unread replies; %s",
		c.Limits.MaxClients, c.Limits.ClientQueryBuffer, c.Limits.ClientOutputBuffer, idle)
	row("admin commands", "%s let through to the master", strings.Join(allowed(c.AllowCommands), ", "))
	if c.Reconcile {
		row("reconcile", "on: the proxy sends REPLICAOF so the backends' roles match this file")
	} else {
		row("reconcile", "off: the proxy routes; it changes no backend's role")
	}
	row("log_level", "%s", show(c.LogLevel))
	return b.String()
}

// masterReads says which reads the master serves, after its writes.
func masterReads(c *Config) string {
	switch {
	case c.Routing.ReadFrom == router.FromMaster:
		return ", every read"
	case c.Routing.ReadFrom == router.FromAny && c.Routing.MasterWeight > 0:
		return fmt.Sprintf(", reads at weight %d", c.Routing.MasterWeight)
	}
	return ""
}

// fallback says what when_replicas_lag does.
func fallback(w router.WhenLag) string {
	switch w {
	case router.LagToMaster:
		return "the master serves the read (when_replicas_lag: master)"
	case router.LagToLeastLagged:
		return "the replica with the least known lag serves it, however far behind; the master if no lag is known (when_replicas_lag: least-lagged)"
	case router.LagError:
		return "the read is refused with -TRYAGAIN naming each replica's lag (when_replicas_lag: error)"
	}
	return fmt.Sprintf("when_replicas_lag %q is not known", w)
}

// allowed names the admin commands let through: the classifier's list in
// upper case ("CONFIG GET"), sorted; the entries as written if the
// classifier refuses them.
func allowed(entries []string) []string {
	cl, err := router.NewClassifier(entries)
	if err != nil {
		return append([]string{"CONFIG GET"}, entries...)
	}
	names := cl.Allowed()
	for i, n := range names {
		names[i] = strings.ToUpper(strings.ReplaceAll(n, "|", " "))
	}
	slices.Sort(names)
	return names
}
