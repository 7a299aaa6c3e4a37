package config

import (
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/lagwise/lagwise/router"
)

// Bounds Validate holds the lag monitor's settings to.
const (
	// MinPollInterval is the shortest routing.lag_poll_interval: polling
	// every backend faster only loads them.
	MinPollInterval = time.Millisecond
	// MaxPollTimeoutIntervals bounds routing.poll_timeout as a multiple of
	// lag_poll_interval. The monitor keeps one poll in flight per
	// backend, so a backend that stops answering keeps its last sample
	// for up to poll_timeout; the design cuts such a backend off after
	// about two unanswered polls (the defaults: 250ms against 100ms), and
	// ten is far past any reason to wait.
	MaxPollTimeoutIntervals = 10
	// MinQueryBuffer is the smallest limits.client_query_buffer, Redis's
	// own minimum for client-query-buffer-limit: less cuts off ordinary
	// requests.
	MinQueryBuffer Size = 1 << 20
)

// LogLevels are the values of log_level.
var LogLevels = []string{"debug", "info", "warn", "error"}

// Validate reports every rule the config breaks, each as an *Error naming
// its key path and, when the file gives the key, its line; they come
// joined (errors.Join), in the order of the keys. nil: the proxy can run
// on it.
//
// The rules:
//   - listen, metrics_listen, master and each replica's addr are host:port
//     with a numeric port from 1 to 65535; a backend needs a host, a
//     listen address may leave it empty (every interface);
//   - master is set;
//   - no backend address appears twice, the master's among the
//     replicas' included, and neither listen address is a backend's (the
//     proxy would connect to itself) nor are they the same;
//   - at most router.MaxReplicas replicas, each weight from 0 to
//     router.MaxWeight;
//   - routing: router.Policy.Validate's rules (read_from,
//     when_replicas_lag, max_lag > 0, 0 ≤ hysteresis < 1, master_weight);
//     lag_poll_interval at least MinPollInterval and less than max_lag
//     (lag is measured to within one interval, so a longer one cannot
//     tell a replica under max_lag from one past it); poll_timeout more
//     than 0, at most MaxPollTimeoutIntervals × lag_poll_interval, and at
//     most max_lag (a replica that stops answering keeps its last
//     measured lag until its poll times out, so a longer timeout lets
//     reads see data older than max_lag);
//   - when_replicas_lag: error with nothing in the read pool (no replica
//     of weight above 0, nor the master with read_from: any and a
//     master_weight above 0) refuses every read, and is an error; the
//     other fallbacks send every read to the master (Warnings says so);
//   - backend_auth.password_env, when set, names a variable that is set
//     and not empty;
//   - limits: max_clients at least 1, client_query_buffer at least
//     MinQueryBuffer, client_output_buffer more than 0 (0 would let a
//     client that stops reading grow the proxy without bound),
//     idle_timeout at least 0;
//   - allow_commands: names router.NewClassifier accepts (admin commands
//     or subcommands of the command table);
//   - log_level: one of LogLevels.
func (c *Config) Validate() error {
	v := validator{c: c}
	v.addresses()
	v.replicas()
	v.routing()
	v.backendAuth()
	v.limits()
	v.allowCommands()
	if !slices.Contains(LogLevels, c.LogLevel) {
		v.fail("log_level", "unknown level %q (want %s)", c.LogLevel, strings.Join(LogLevels, ", "))
	}
	return errors.Join(v.errs...)
}

type validator struct {
	c    *Config
	errs []error
}

func (v *validator) fail(key, format string, args ...any) {
	v.errs = append(v.errs, v.c.errorAt(key, fmt.Sprintf(format, args...)))
}

// errorAt makes an *Error for key, on the line the file gives it.
func (c *Config) errorAt(key, msg string) *Error {
	return &Error{File: c.file, Line: c.lines[key], Key: key, Msg: msg}
}

// given returns the first of keys the file gives, or the first.
func (c *Config) given(keys ...string) string {
	for _, k := range keys {
		if c.lines[k] > 0 {
			return k
		}
	}
	return keys[0]
}

// addresses checks every address and that none is used twice.
func (v *validator) addresses() {
	c := v.c
	type use struct{ addr, key, what string }
	backends := map[string]use{}
	var order []use
	if c.Master == "" {
		v.fail("master", "must be set: the backend that takes writes, as host:port")
	} else if msg := checkAddr(c.Master, false); msg != "" {
		v.fail("master", "%s", msg)
	} else {
		u := use{addrKey(c.Master), "master", "the master"}
		backends[u.addr] = u
		order = append(order, u)
	}
	for i, r := range c.Replicas {
		key := fmt.Sprintf("replicas[%d].addr", i)
		if r.Addr == "" {
			v.fail(c.given(key, fmt.Sprintf("replicas[%d]", i)), "must be set: the replica's host:port")
			continue
		}
		if msg := checkAddr(r.Addr, false); msg != "" {
			v.fail(key, "%s", msg)
			continue
		}
		k := addrKey(r.Addr)
		if prev, ok := backends[k]; ok {
			v.fail(key, "%s is already %s (%s)", r.Addr, prev.what, prev.key)
			continue
		}
		u := use{k, key, fmt.Sprintf("replicas[%d]", i)}
		backends[k] = u
		order = append(order, u)
	}
	listens := map[string]string{}
	for _, l := range []struct{ key, addr string }{{"listen", c.Listen}, {"metrics_listen", c.MetricsListen}} {
		if l.addr == "" {
			v.fail(l.key, "must be set: host:port to listen on")
			continue
		}
		if msg := checkAddr(l.addr, true); msg != "" {
			v.fail(l.key, "%s", msg)
			continue
		}
		k := addrKey(l.addr)
		if prev, ok := listens[k]; ok {
			v.fail(l.key, "%s is already %s", l.addr, prev)
			continue
		}
		listens[k] = l.key
		for _, b := range order {
			if sameListener(l.addr, b.addr) {
				v.fail(l.key, "%s is %s's address (%s): the proxy would connect to itself", l.addr, b.what, b.key)
			}
		}
	}
}

// checkAddr returns what is wrong with a host:port address, or "". A
// listen address may have an empty host.
func checkAddr(addr string, listen bool) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		if _, _, err2 := net.SplitHostPort(addr + ":6379"); err2 == nil {
			return fmt.Sprintf("%q has no port: write host:port, as in %s:6379", addr, addr)
		}
		return fmt.Sprintf("%q is not host:port", addr)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 || strconv.Itoa(n) != port {
		return fmt.Sprintf("%q: the port must be a number from 1 to 65535", addr)
	}
	if host == "" {
		if listen {
			return ""
		}
		return fmt.Sprintf("%q has no host", addr)
	}
	if net.ParseIP(host) == nil && !validHostname(host) {
		return fmt.Sprintf("%q: %q is neither an IP address nor a host name", addr, host)
	}
	return ""
}

// validHostname accepts the letters, digits, '-', '_' and '.' of DNS
// names.
func validHostname(h string) bool {
	if len(h) > 253 {
		return false
	}
	for _, label := range strings.Split(strings.TrimSuffix(h, "."), ".") {
		if label == "" || len(label) > 63 {
			return false
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
				return false
			}
		}
	}
	return true
}

// addrKey is an address as compared for duplicates: host in lower case,
// IP addresses in one spelling. It does not resolve names.
func addrKey(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	if ip := net.ParseIP(host); ip != nil {
		host = ip.String()
	}
	return net.JoinHostPort(strings.ToLower(strings.TrimSuffix(host, ".")), port)
}

// sameListener reports whether listening on listen would take the
// backend address b (an addrKey): the same address, or a wildcard listen
// address on the port of a backend on this machine (a loopback host).
func sameListener(listen, b string) bool {
	lk := addrKey(listen)
	if lk == b {
		return true
	}
	lh, lp, _ := net.SplitHostPort(lk)
	bh, bp, _ := net.SplitHostPort(b)
	if lp != bp {
		return false
	}
	wildcard := lh == "" || lh == "0.0.0.0" || lh == "::"
	return wildcard && isLoopback(bh)
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func (v *validator) replicas() {
	c := v.c
	if n := len(c.Replicas); n > router.MaxReplicas {
		v.fail("replicas", "%d replicas: routing weighs at most %d", n, router.MaxReplicas)
	}
	for i, r := range c.Replicas {
		if r.Weight < 0 || r.Weight > router.MaxWeight {
			v.fail(fmt.Sprintf("replicas[%d].weight", i), "must be between 0 and %d, got %d", router.MaxWeight, r.Weight)
		}
	}
}

// poolEmpty reports whether no backend is in the weighted read pool, so
// that every read takes when_replicas_lag's fallback (read_from replicas
// or any only).
func (c *Config) poolEmpty() bool {
	switch c.Routing.ReadFrom {
	case router.FromReplicas, router.FromAny:
	default:
		return false
	}
	if c.Routing.ReadFrom == router.FromAny && c.Routing.MasterWeight > 0 {
		return false
	}
	for _, r := range c.Replicas {
		if r.Weight > 0 {
			return false
		}
	}
	return true
}

// emptyPool says why the read pool is empty.
func (c *Config) emptyPool() string {
	why := "no replica has a weight above 0"
	if len(c.Replicas) == 0 {
		why = "there are no replicas"
	}
	if c.Routing.ReadFrom == router.FromAny {
		why += " and master_weight is 0"
	}
	return why
}

func (v *validator) routing() {
	c := v.c
	r := c.Routing
	for _, err := range unjoin(r.Policy().Validate()) {
		key, msg, ok := strings.Cut(err.Error(), ": ")
		if !ok {
			key, msg = "routing", err.Error()
		}
		v.errs = append(v.errs, c.errorAt(key, msg))
	}
	switch {
	case r.LagPollInterval < MinPollInterval:
		v.fail("routing.lag_poll_interval", "must be at least %v, got %v", MinPollInterval, r.LagPollInterval)
	case r.MaxLag > 0 && r.LagPollInterval >= r.MaxLag:
		v.fail(c.given("routing.lag_poll_interval", "routing.max_lag"),
			"lag_poll_interval (%v) must be less than max_lag (%v): lag is measured to within one poll interval", r.LagPollInterval, r.MaxLag)
	}
	switch {
	case r.PollTimeout <= 0:
		v.fail("routing.poll_timeout", "must be more than 0, got %v", r.PollTimeout)
	case r.LagPollInterval > 0 && r.PollTimeout > MaxPollTimeoutIntervals*r.LagPollInterval:
		v.fail(c.given("routing.poll_timeout", "routing.lag_poll_interval"),
			"poll_timeout (%v) must be at most %d × lag_poll_interval (%v): a backend that stops answering keeps its last sample that long",
			r.PollTimeout, MaxPollTimeoutIntervals, MaxPollTimeoutIntervals*r.LagPollInterval)
	case r.MaxLag > 0 && r.PollTimeout > r.MaxLag:
		v.fail(c.given("routing.poll_timeout", "routing.max_lag"),
			"poll_timeout (%v) must be at most max_lag (%v): a replica that stops answering keeps its last measured lag until its poll times out",
			r.PollTimeout, r.MaxLag)
	}
	if c.poolEmpty() && r.WhenReplicasLag == router.LagError {
		v.fail(c.given("routing.when_replicas_lag", "replicas", "routing.read_from"),
			"error would refuse every read with read_from: %s: %s", r.ReadFrom, c.emptyPool())
	}
}

func (v *validator) backendAuth() {
	b := v.c.BackendAuth
	if b.PasswordEnv == "" {
		return
	}
	hint := ""
	if strings.HasPrefix(b.PasswordEnv, "$") {
		hint = fmt.Sprintf(" (name the variable without the $: %s)", strings.TrimPrefix(b.PasswordEnv, "$"))
	}
	switch {
	case !b.passwordSet:
		v.fail("backend_auth.password_env", "the environment variable %s is not set%s", b.PasswordEnv, hint)
	case b.Password == "":
		v.fail("backend_auth.password_env", "the environment variable %s is empty", b.PasswordEnv)
	}
}

func (v *validator) limits() {
	l := v.c.Limits
	if l.MaxClients < 1 {
		v.fail("limits.max_clients", "must be at least 1, got %d", l.MaxClients)
	}
	if l.ClientQueryBuffer < MinQueryBuffer {
		v.fail("limits.client_query_buffer", "must be at least %s (as in Redis), got %s", MinQueryBuffer, l.ClientQueryBuffer)
	}
	if l.ClientOutputBuffer <= 0 {
		v.fail("limits.client_output_buffer", "must be more than 0: a client that stops reading would grow the proxy without bound")
	}
	if l.IdleTimeout < 0 {
		v.fail("limits.idle_timeout", "must be at least 0 (0: never), got %v", l.IdleTimeout)
	}
}

// allowCommands checks each entry on its own, to report them all.
func (v *validator) allowCommands() {
	for i, name := range v.c.AllowCommands {
		if _, err := router.NewClassifier([]string{name}); err != nil {
			if inner := errors.Unwrap(err); inner != nil {
				err = inner
			}
			v.fail(fmt.Sprintf("allow_commands[%d]", i), "%v", err)
		}
	}
}

// Warnings returns what a valid config does that its author may not
// expect, one line each, naming the key and its line.
func (c *Config) Warnings() []string {
	var out []string
	warn := func(key, format string, args ...any) {
		out = append(out, c.errorAt(key, fmt.Sprintf(format, args...)).Error())
	}
	r := c.Routing
	if c.poolEmpty() && r.WhenReplicasLag != router.LagError {
		warn(c.given("replicas", "routing.read_from"), "every read goes to the master: %s", c.emptyPool())
	}
	if r.MasterWeight != router.DefaultPolicy().MasterWeight && r.ReadFrom != router.FromAny {
		warn("routing.master_weight", "applies only with read_from: any (read_from is %s)", r.ReadFrom)
	}
	if r.WhenReplicasLag != router.DefaultPolicy().WhenReplicasLag && r.ReadFrom == router.FromMaster {
		warn("routing.when_replicas_lag", "ignored with read_from: master")
	}
	if c.BackendAuth.Username != "" && c.BackendAuth.PasswordEnv == "" {
		warn("backend_auth.username", "set without password_env: the proxy authenticates as %s with an empty password", c.BackendAuth.Username)
	}
	return out
}

// unjoin returns the errors inside an errors.Join, or err itself.
func unjoin(err error) []error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}
