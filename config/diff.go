package config

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Diff returns what changed from old to new, one human-readable line each,
// in the order of the keys: "master: 127.0.0.1:6380 → 127.0.0.1:6381",
// "replica 127.0.0.1:6383 added (weight 1)", "routing.max_lag: 500ms →
// 1s". A change the proxy cannot take without a restart (listen,
// metrics_listen) ends in "(needs restart)"; NeedsRestart reports whether
// there is one. Passwords show only as "changed". Empty: nothing changed.
func Diff(old, new *Config) []string {
	var out []string
	add := func(format string, args ...any) { out = append(out, fmt.Sprintf(format, args...)) }
	scalar := func(key, a, b, suffix string) {
		if a != b {
			add("%s: %s → %s%s", key, a, b, suffix)
		}
	}
	scalar("listen", show(old.Listen), show(new.Listen), " (needs restart)")
	scalar("metrics_listen", show(old.MetricsListen), show(new.MetricsListen), " (needs restart)")
	scalar("master", show(old.Master), show(new.Master), "")
	out = append(out, diffReplicas(old.Replicas, new.Replicas)...)

	or, nr := old.Routing, new.Routing
	scalar("routing.read_from", string(or.ReadFrom), string(nr.ReadFrom), "")
	scalar("routing.max_lag", or.MaxLag.String(), nr.MaxLag.String(), "")
	scalar("routing.lag_poll_interval", or.LagPollInterval.String(), nr.LagPollInterval.String(), "")
	scalar("routing.poll_timeout", or.PollTimeout.String(), nr.PollTimeout.String(), "")
	scalar("routing.hysteresis", fmtFloat(or.Hysteresis), fmtFloat(nr.Hysteresis), "")
	scalar("routing.when_replicas_lag", string(or.WhenReplicasLag), string(nr.WhenReplicasLag), "")
	scalar("routing.read_your_writes", strconv.FormatBool(or.ReadYourWrites), strconv.FormatBool(nr.ReadYourWrites), "")
	scalar("routing.master_weight", strconv.Itoa(or.MasterWeight), strconv.Itoa(nr.MasterWeight), "")

	switch {
	case old.Auth.Password == new.Auth.Password:
	case old.Auth.Password == "":
		add("auth.password: set (clients must now AUTH)")
	case new.Auth.Password == "":
		add("auth.password: removed (clients need no AUTH)")
	default:
		add("auth.password: changed")
	}
	ob, nb := old.BackendAuth, new.BackendAuth
	scalar("backend_auth.username", show(ob.Username), show(nb.Username), "")
	scalar("backend_auth.password_env", show(ob.PasswordEnv), show(nb.PasswordEnv), "")
	if ob.PasswordEnv == nb.PasswordEnv && ob.Password != nb.Password {
		add("backend_auth: the password in $%s changed", nb.PasswordEnv)
	}

	ol, nl := old.Limits, new.Limits
	scalar("limits.max_clients", strconv.Itoa(ol.MaxClients), strconv.Itoa(nl.MaxClients), "")
	scalar("limits.client_query_buffer", ol.ClientQueryBuffer.String(), nl.ClientQueryBuffer.String(), "")
	scalar("limits.client_output_buffer", ol.ClientOutputBuffer.String(), nl.ClientOutputBuffer.String(), "")
	scalar("limits.idle_timeout", ol.IdleTimeout.String(), nl.IdleTimeout.String(), "")

	if !slices.Equal(old.AllowCommands, new.AllowCommands) {
		add("allow_commands: %s → %s", showList(old.AllowCommands), showList(new.AllowCommands))
	}
	scalar("reconcile", strconv.FormatBool(old.Reconcile), strconv.FormatBool(new.Reconcile), "")
	scalar("log_level", show(old.LogLevel), show(new.LogLevel), "")
	return out
}

// NeedsRestart reports whether going from old to new changes an address
// the proxy listens on, which a reload cannot take.
func NeedsRestart(old, new *Config) bool {
	return old.Listen != new.Listen || old.MetricsListen != new.MetricsListen
}

// diffReplicas names the replicas added, removed and re-weighted, matched
// by address, then a change of order (which decides the first
// router.MaxReplicas and ties between equally lagged replicas).
func diffReplicas(old, new []Replica) []string {
	var out []string
	oldBy := map[string]Replica{}
	for _, r := range old {
		oldBy[addrKey(r.Addr)] = r
	}
	newBy := map[string]Replica{}
	for _, r := range new {
		newBy[addrKey(r.Addr)] = r
	}
	for _, r := range old {
		if _, ok := newBy[addrKey(r.Addr)]; !ok {
			out = append(out, fmt.Sprintf("replica %s removed", show(r.Addr)))
		}
	}
	for _, r := range new {
		o, ok := oldBy[addrKey(r.Addr)]
		switch {
		case !ok:
			out = append(out, fmt.Sprintf("replica %s added (weight %d)", show(r.Addr), r.Weight))
		case o.Weight != r.Weight:
			out = append(out, fmt.Sprintf("replica %s: weight %d → %d", show(r.Addr), o.Weight, r.Weight))
		}
	}
	var oldKept, newKept []string
	for _, r := range old {
		if _, ok := newBy[addrKey(r.Addr)]; ok {
			oldKept = append(oldKept, addrKey(r.Addr))
		}
	}
	for _, r := range new {
		if _, ok := oldBy[addrKey(r.Addr)]; ok {
			newKept = append(newKept, addrKey(r.Addr))
		}
	}
	if !slices.Equal(oldKept, newKept) {
		out = append(out, fmt.Sprintf("replicas: order %s → %s", strings.Join(oldKept, ", "), strings.Join(newKept, ", ")))
	}
	return out
}

// show writes an empty value visibly.
func show(s string) string {
	if s == "" {
		return `""`
	}
	return s
}

func showList(l []string) string { return "[" + strings.Join(l, ", ") + "]" }

func fmtFloat(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }
