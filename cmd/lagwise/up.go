package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/lagwise/lagwise"
	"github.com/lagwise/lagwise/config"
	"github.com/lagwise/lagwise/proxy"
)

const upUsage = `usage: lagwise up [--config FILE] [--dir DIR] [--timeout 30s]

Starts, on this machine, the master and the replicas config.yaml names, as
lagwise servers (child processes of this binary), waits until replication
is up, then runs the proxy in front of them, until Ctrl-C or SIGTERM stops
everything: the proxy first, then the replicas, then the master.

  --config FILE   the proxy's config; default ./config.yaml if it exists,
                  else the one built into the binary
  --dir DIR       where the servers keep their data and logs, one
                  subdirectory each; default a new directory under %s
  --timeout D     how long to wait for the servers and replication

The servers run without persistence (save "", appendonly no) and start
a full sync at once (repl-diskless-sync-delay 0); their logs stay in DIR
after the run. With backend_auth.password_env set, the servers require
that password (requirepass and masterauth, read from their standard
input). Every backend address must be on this machine: for remote
backends, run lagwise proxy.
`

// Timeouts of lagwise up.
const (
	// upStartTimeout is --timeout's default: how long the servers may
	// take to answer PING and the replicas to report their link up.
	upStartTimeout = 30 * time.Second
	// upProxyTimeout bounds the wait for the proxy to answer once the
	// servers are up.
	upProxyTimeout = 10 * time.Second
	// upStopTimeout is how long a server has to exit after SIGTERM
	// before it gets SIGKILL, and the proxy to stop.
	upStopTimeout = 10 * time.Second
	// upPollEvery is how often readiness is checked.
	upPollEvery = 50 * time.Millisecond
)

// runUp is `lagwise up`. Exit status: 0 after a clean stop on Ctrl-C or
// SIGTERM, 1 when something failed (a bad config, a busy port, a server
// that died or did not come up), 2 on a usage error.
func runUp(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("lagwise up", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	cfgFlag := fs.String("config", "", "")
	dirFlag := fs.String("dir", "", "")
	timeout := fs.Duration("timeout", upStartTimeout, "")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprintf(stdout, upUsage, os.TempDir())
			return 0
		}
		fmt.Fprintf(stderr, "lagwise up: %v\n\n"+upUsage, err, os.TempDir())
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "lagwise up: unexpected argument %q\n\n"+upUsage, fs.Arg(0), os.TempDir())
		return 2
	}
	if *timeout <= 0 {
		fmt.Fprintf(stderr, "lagwise up: --timeout must be more than 0, got %v\n", *timeout)
		return 2
	}

	// Signals first: a Ctrl-C from here on stops whatever has started.
	sig := make(chan os.Signal, 2)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sig)

	u := &upRun{stdout: stdout, stderr: stderr, sig: sig, timeout: *timeout}
	return u.run(*cfgFlag, *dirFlag)
}

// configChoice is the config lagwise up runs on.
type configChoice struct {
	// path is the file to load; "" for the embedded default.
	path string
	// why says where the choice came from, for the user.
	why string
}

// chooseConfig picks the config: --config if given, else ./config.yaml
// if it exists, else the embedded default.
func chooseConfig(flagPath string, exists func(string) bool) configChoice {
	switch {
	case flagPath != "":
		return configChoice{path: flagPath, why: "from --config"}
	case exists("config.yaml"):
		return configChoice{path: "config.yaml", why: "./config.yaml, found in the current directory"}
	}
	return configChoice{why: "the default built into lagwise (no --config, no ./config.yaml)"}
}

func fileExists(path string) bool {
	st, err := os.Stat(path)
	return err == nil && !st.IsDir()
}

// upServer is one server lagwise up starts.
type upServer struct {
	// role is "master" or "replica"; name is "master", "replica1", ...
	role, name string
	// addr is the address as the config file gives it.
	addr string
	host string
	port int
	// bind is the server's bind directive: the addresses it listens on.
	bind []string
	// dir is its data directory, logPath its log file.
	dir, logPath string

	cmd  *exec.Cmd
	done chan struct{} // closed once the process has exited
	err  error         // what Wait returned, once done is closed
}

func (s *upServer) String() string { return s.name + " " + s.addr }

// hostChecker decides whether a host names this machine.
type hostChecker struct {
	// local holds the addresses of this host's interfaces.
	local []net.IP
	// lookup resolves a host name to addresses.
	lookup func(host string) ([]string, error)
}

// newHostChecker returns a hostChecker for this machine.
func newHostChecker() hostChecker {
	h := hostChecker{lookup: net.LookupHost}
	if addrs, err := net.InterfaceAddrs(); err == nil {
		for _, a := range addrs {
			if n, ok := a.(*net.IPNet); ok {
				h.local = append(h.local, n.IP)
			}
		}
	}
	return h
}

// isLocalIP reports whether ip is a loopback, unspecified or interface
// address of this host.
func (h hostChecker) isLocalIP(ip net.IP) bool {
	if ip.IsLoopback() || ip.IsUnspecified() {
		return true
	}
	for _, l := range h.local {
		if l.Equal(ip) {
			return true
		}
	}
	return false
}

// bindFor returns the bind directive's addresses for a server at addr,
// or an error if addr is not on this machine. localhost binds 127.0.0.1
// and, if the machine has it, ::1 (the leading "-" makes it optional).
func (h hostChecker) bindFor(addr string) ([]string, error) {
	notLocal := fmt.Errorf("lagwise up starts servers on this machine; %s is not local — run `lagwise proxy` for remote backends", addr)
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("%q is not host:port", addr)
	}
	if strings.EqualFold(strings.TrimSuffix(host, "."), "localhost") {
		return []string{"127.0.0.1", "-::1"}, nil
	}
	if ip := net.ParseIP(host); ip != nil {
		if !h.isLocalIP(ip) {
			return nil, notLocal
		}
		return []string{ip.String()}, nil
	}
	ips, err := h.lookup(host)
	if err != nil {
		return nil, fmt.Errorf("%s: cannot tell whether %s is this machine: %v", addr, host, err)
	}
	var bind []string
	for _, s := range ips {
		ip := net.ParseIP(s)
		if ip == nil || !h.isLocalIP(ip) {
			return nil, notLocal
		}
		bind = append(bind, ip.String())
	}
	if len(bind) == 0 {
		return nil, notLocal
	}
	return bind, nil
}

// planServers turns the config into the servers to start, master first.
// It fails on a backend that is not on
// this machine and on a backend_auth lagwise server cannot honour.
func planServers(c *config.Config, h hostChecker) ([]*upServer, error) {
	if u := c.BackendAuth.Username; u != "" && u != "default" {
		return nil, fmt.Errorf("backend_auth.username is %q: lagwise server has no ACL users, so lagwise up cannot start servers for it; leave it empty", u)
	}
	var out []*upServer
	add := func(key, role, name, addr string) error {
		bind, err := h.bindFor(addr)
		if err != nil {
			return fmt.Errorf("%s: %w", key, err)
		}
		host, p, _ := net.SplitHostPort(addr)
		port, err := strconv.Atoi(p)
		if err != nil {
			return fmt.Errorf("%s: %s: the port is not a number", key, addr)
		}
		out = append(out, &upServer{role: role, name: name, addr: addr, host: host, port: port, bind: bind})
		return nil
	}
	if err := add("master", "master", "master", c.Master); err != nil {
		return nil, err
	}
	for i, r := range c.Replicas {
		if err := add(fmt.Sprintf("replicas[%d].addr", i), "replica", "replica"+strconv.Itoa(i+1), r.Addr); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// placeServers gives each server its directory under dir, named after
// it (master, replica1, ...), with its log file server.log there.
func placeServers(servers []*upServer, dir string) {
	for _, s := range servers {
		s.dir = filepath.Join(dir, s.name)
		s.logPath = filepath.Join(s.dir, "server.log")
	}
}

// serverArgs returns the arguments for s of this executable: `server`
// and its directives. With a password, the first argument is "-": the
// server reads requirepass and masterauth from its standard input (see
// serverSecrets), which keeps the password out of the process list.
func serverArgs(s, master *upServer, password bool) []string {
	args := []string{"server"}
	if password {
		args = append(args, "-")
	}
	args = append(args,
		"--port", strconv.Itoa(s.port),
		"--bind", strings.Join(s.bind, " "),
		"--dir", s.dir,
		"--save", "",
		"--appendonly", "no",
		// The replicas start together: no need to wait for more of
		// them before a full sync (Redis's default waits 5 s).
		"--repl-diskless-sync-delay", "0",
	)
	if s != master {
		args = append(args, "--replicaof", master.host, strconv.Itoa(master.port))
	}
	return args
}

// serverSecrets is the redis.conf text a server reads on its standard
// input when the backends have a password: requirepass for clients (the
// proxy among them) and masterauth for replicas, every server both, so
// any of them can be promoted.
func serverSecrets(password string) string {
	q := quoteConf(password)
	return "requirepass " + q + "\nmasterauth " + q + "\n"
}

// quoteConf quotes s as one redis.conf argument: in double quotes, every
// byte but letters and digits as \xHH.
func quoteConf(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' {
			b.WriteByte(c)
			continue
		}
		fmt.Fprintf(&b, `\x%02x`, c)
	}
	b.WriteByte('"')
	return b.String()
}

// checkFree listens on addr for a moment: an address in use is an error
// naming what wanted it. optional addresses that this machine lacks are
// skipped (the "-::1" of a bind).
func checkFree(what, addr string, optional bool) error {
	l, err := net.Listen("tcp", addr)
	if err == nil {
		l.Close()
		return nil
	}
	if optional && !errors.Is(err, syscall.EADDRINUSE) {
		return nil
	}
	if errors.Is(err, syscall.EADDRINUSE) {
		return fmt.Errorf("%s: %s is in use by another program (stop it, or change the port in the config)", what, addr)
	}
	return fmt.Errorf("%s: cannot listen on %s: %v", what, addr, err)
}

// checkPorts checks, before anything starts, that every server's and
// the proxy's addresses are free.
func checkPorts(c *config.Config, servers []*upServer) error {
	var errs []error
	for _, s := range servers {
		for _, b := range s.bind {
			optional := strings.HasPrefix(b, "-")
			ip := strings.TrimPrefix(b, "-")
			if err := checkFree(s.String(), net.JoinHostPort(ip, strconv.Itoa(s.port)), optional); err != nil {
				errs = append(errs, err)
			}
		}
	}
	for _, l := range []struct{ key, addr string }{{"listen", c.Listen}, {"metrics_listen", c.MetricsListen}} {
		if err := checkFree("the proxy's "+l.key, l.addr, false); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// dialAddr is the address to connect to for a listen address: a
// wildcard host is reached on loopback.
func dialAddr(listen string) string {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return listen
	}
	switch host {
	case "", "0.0.0.0":
		host = "127.0.0.1"
	case "::":
		host = "::1"
	}
	return net.JoinHostPort(host, port)
}

// endpointLine is the redis-cli command that reaches the proxy.
func endpointLine(listen string) string {
	host, port, err := net.SplitHostPort(dialAddr(listen))
	if err != nil {
		return "redis-cli (listen " + listen + ")"
	}
	return "redis-cli -h " + host + " -p " + port
}

// metricsURL is the proxy's metrics URL.
func metricsURL(metricsListen string) string {
	return "http://" + dialAddr(metricsListen) + "/metrics"
}

// upRun is one run of lagwise up.
type upRun struct {
	stdout, stderr io.Writer
	sig            chan os.Signal
	timeout        time.Duration

	exe      string
	cfg      *config.Config
	password string
	servers  []*upServer
	// exited gets each server as its process exits.
	exited chan *upServer
}

func (u *upRun) say(format string, args ...any) {
	fmt.Fprintf(u.stdout, "lagwise up: "+format+"\n", args...)
}

func (u *upRun) fail(format string, args ...any) int {
	fmt.Fprintf(u.stderr, "lagwise up: "+format+"\n", args...)
	return 1
}

// errStop says a signal asked to stop.
var errStop = errors.New("stopping on a signal")

// diedError is a server that exited while it should be running.
type diedError struct{ s *upServer }

func (e diedError) Error() string {
	s := e.s
	status := "exited"
	if s.cmd.ProcessState != nil {
		status = s.cmd.ProcessState.String()
	}
	msg := fmt.Sprintf("%s (pid %d) stopped unexpectedly: %s; its log is %s", s, s.cmd.Process.Pid, status, s.logPath)
	if tail := logTail(s.logPath, 10); tail != "" {
		msg += ", which ends with:\n" + tail
	}
	return msg
}

// logTail returns the last n lines of the file at path, indented.
func logTail(path string, n int) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.Size() > 64<<10 {
		f.Seek(-64<<10, io.SeekEnd)
	}
	var lines []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if len(lines) > n {
			lines = lines[1:]
		}
	}
	for i, l := range lines {
		lines[i] = "    " + l
	}
	return strings.Join(lines, "\n")
}

func (u *upRun) run(cfgFlag, dirFlag string) int {
	choice := chooseConfig(cfgFlag, fileExists)
	var (
		c   *config.Config
		err error
	)
	if choice.path == "" {
		c, err = config.Parse(lagwise.DefaultConfig)
	} else {
		c, err = config.Load(choice.path)
	}
	if err == nil {
		err = c.Validate()
	}
	if err != nil {
		name := choice.path
		if name == "" {
			name = "the built-in config"
		}
		if problems := config.Errors(err); len(problems) > 0 {
			for _, p := range problems {
				fmt.Fprintln(u.stderr, p)
			}
			return u.fail("%s is not valid", name)
		}
		return u.fail("%s: %v", name, err)
	}
	u.cfg = c
	if u.exe, err = os.Executable(); err != nil {
		return u.fail("cannot find this program's own file to start the servers: %v", err)
	}

	// Everything is checked before anything is written or started.
	servers, err := planServers(c, newHostChecker())
	if err != nil {
		return u.fail("%v", err)
	}
	if err := checkPorts(c, servers); err != nil {
		return u.fail("%s", strings.ReplaceAll(err.Error(), "\n", "\nlagwise up: "))
	}
	dir, made := dirFlag, false
	if dir == "" {
		if dir, err = os.MkdirTemp("", "lagwise-up-"); err != nil {
			return u.fail("making a data directory: %v", err)
		}
		made = true
	} else if dir, err = filepath.Abs(dir); err != nil {
		return u.fail("--dir %s: %v", dirFlag, err)
	}
	placeServers(servers, dir)
	for _, s := range servers {
		if err := os.MkdirAll(s.dir, 0o755); err != nil {
			return u.fail("data directory of %s: %v", s, err)
		}
	}
	cfgPath := choice.path
	if cfgPath == "" {
		cfgPath = filepath.Join(dir, "config.yaml")
		if err := os.WriteFile(cfgPath, lagwise.DefaultConfig, 0o644); err != nil {
			return u.fail("writing the built-in config to %s: %v", cfgPath, err)
		}
		u.say("config: %s, written to %s (the proxy reloads it when it changes)", choice.why, cfgPath)
	} else {
		abs, _ := filepath.Abs(cfgPath)
		u.say("config: %s (%s)", abs, choice.why)
	}
	if made {
		u.say("data directory: %s (made for this run)", dir)
	} else {
		u.say("data directory: %s", dir)
	}
	u.password = string(c.BackendAuth.Password)
	u.servers = servers
	u.exited = make(chan *upServer, len(servers))

	code := u.serve(cfgPath)
	u.say("stopped; data and logs kept in %s", dir)
	return code
}

// serve starts the servers and the proxy, waits for a signal or a
// failure, and stops everything.
func (u *upRun) serve(cfgPath string) int {
	defer u.stopServers()
	master := u.servers[0]
	if err := u.start(master, master); err != nil {
		return u.fail("%v", err)
	}
	if err := u.waitFor("the master to answer PING", func() (bool, string) {
		err := probe(master.addr, u.cfg.BackendAuth.Username, u.password, "PING", nil)
		return err == nil, fmt.Sprintf("%s: %v", master, err)
	}); err != nil {
		return u.failWait(err)
	}
	for _, r := range u.servers[1:] {
		if err := u.start(r, master); err != nil {
			return u.fail("%v", err)
		}
	}
	if err := u.waitFor("the servers to answer and the replicas to report master_link_status:up", u.replicationUp); err != nil {
		return u.failWait(err)
	}
	u.say("replication is up: %d %s of %s", len(u.servers)-1, plural(len(u.servers)-1, "replica", "replicas"), master.addr)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	proxyDone := make(chan error, 1)
	logger := log.New(u.stderr, "", log.LstdFlags)
	go func() {
		proxyDone <- serveProxy(ctx, cfgPath, proxy.NewLogger(func(format string, args ...any) {
			logger.Printf("proxy: "+format, args...)
		}))
	}()
	stopProxy := func() {
		cancel()
		select {
		case <-proxyDone:
		case <-time.After(upStopTimeout):
			fmt.Fprintf(u.stderr, "lagwise up: the proxy did not stop within %v\n", upStopTimeout)
		}
	}

	var proxyErr error
	proxyExited := false
	err := u.waitUntil(time.Now().Add(upProxyTimeout), "the proxy to answer on "+u.cfg.Listen, func() (bool, string) {
		select {
		case proxyErr = <-proxyDone:
			proxyExited = true
			return true, ""
		default:
		}
		// Any reply will do: with auth.password set, PING gets -NOAUTH.
		err := probe(dialAddr(u.cfg.Listen), "", "", "PING", nil)
		return err == nil || isRESPError(err), fmt.Sprintf("proxy %s: %v", u.cfg.Listen, err)
	})
	if proxyExited {
		if proxyErr == nil {
			proxyErr = errors.New("it stopped at once")
		}
		return u.fail("the proxy did not start: %v", proxyErr)
	}
	if err != nil {
		stopProxy()
		return u.failWait(err)
	}

	fmt.Fprintf(u.stdout, "\nlagwise is up.\n")
	auth := ""
	if u.cfg.Auth.Password != "" {
		auth = "   (then AUTH with auth.password)"
	}
	fmt.Fprintf(u.stdout, "  endpoint:  %s%s\n", endpointLine(u.cfg.Listen), auth)
	fmt.Fprintf(u.stdout, "  metrics:   %s\n", metricsURL(u.cfg.MetricsListen))
	fmt.Fprintf(u.stdout, "  data:      %s\n", filepath.Dir(master.dir))
	fmt.Fprintf(u.stdout, "Ctrl-C to stop.\n\n")

	select {
	case <-u.sig:
		u.say("stopping: the proxy, then the replicas, then the master")
		stopProxy()
		return 0
	case s := <-u.exited:
		stopProxy()
		return u.fail("%v", diedError{s})
	case err := <-proxyDone:
		if err == nil {
			err = errors.New("it returned without a signal")
		}
		return u.fail("the proxy stopped: %v", err)
	}
}

// failWait reports why a wait ended early and returns the exit status:
// 0 for a signal, 1 otherwise.
func (u *upRun) failWait(err error) int {
	if errors.Is(err, errStop) {
		u.say("stopping before everything was up")
		return 0
	}
	var d diedError
	if errors.As(err, &d) {
		return u.fail("%v", d)
	}
	return u.fail("%v", err)
}

// start starts the server process s, in its own process group so a
// Ctrl-C in the terminal reaches only lagwise up, which stops the
// servers in order.
func (u *upRun) start(s, master *upServer) error {
	logf, err := os.OpenFile(s.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("log file of %s: %v", s, err)
	}
	defer logf.Close()
	s.cmd = exec.Command(u.exe, serverArgs(s, master, u.password != "")...)
	s.cmd.Stdout, s.cmd.Stderr = logf, logf
	if u.password != "" {
		s.cmd.Stdin = strings.NewReader(serverSecrets(u.password))
	}
	s.cmd.SysProcAttr = &syscall.SysProcAttr{
		Setpgid: true,
		// Should lagwise up itself be killed, its servers are told to
		// stop too rather than keep the ports.
		Pdeathsig: syscall.SIGTERM,
	}
	if err := s.cmd.Start(); err != nil {
		return fmt.Errorf("starting %s: %v", s, err)
	}
	s.done = make(chan struct{})
	go func() {
		s.err = s.cmd.Wait()
		close(s.done)
		u.exited <- s
	}()
	u.say("started %s (pid %d, log %s)", s, s.cmd.Process.Pid, s.logPath)
	return nil
}

// replicationUp reports whether every server answers PING and every
// replica's master link is up, and otherwise names the first laggard.
func (u *upRun) replicationUp() (bool, string) {
	user := u.cfg.BackendAuth.Username
	for _, s := range u.servers {
		if err := probe(s.addr, user, u.password, "PING", nil); err != nil {
			return false, fmt.Sprintf("%s does not answer PING: %v (log %s)", s, err, s.logPath)
		}
	}
	for _, s := range u.servers[1:] {
		var info string
		if err := probe(s.addr, user, u.password, "INFO", &info, "replication"); err != nil {
			return false, fmt.Sprintf("%s: INFO replication: %v (log %s)", s, err, s.logPath)
		}
		if st := infoField(info, "master_link_status"); st != "up" {
			if st == "" {
				st = "(none; role:" + infoField(info, "role") + ")"
			}
			return false, fmt.Sprintf("%s reports master_link_status:%s (log %s)", s, st, s.logPath)
		}
	}
	return true, ""
}

// waitFor waits up to the run's timeout for cond; see waitUntil.
func (u *upRun) waitFor(what string, cond func() (bool, string)) error {
	return u.waitUntil(time.Now().Add(u.timeout), what, cond)
}

// waitUntil polls cond until it holds, a signal comes (errStop), a
// server exits (diedError) or the deadline passes (an error with the
// last state cond reported).
func (u *upRun) waitUntil(deadline time.Time, what string, cond func() (bool, string)) error {
	start := time.Now()
	tick := time.NewTicker(upPollEvery)
	defer tick.Stop()
	for {
		ok, state := cond()
		if ok {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("waited %v for %s: %s", time.Since(start).Round(time.Second), what, state)
		}
		select {
		case <-u.sig:
			return errStop
		case s := <-u.exited:
			return diedError{s}
		case <-tick.C:
		}
	}
}

// stopServers stops the running servers, replicas first, then the
// master: SIGTERM, then SIGKILL for one that does not exit within
// upStopTimeout or on a second signal.
func (u *upRun) stopServers() {
	var replicas, masters []*upServer
	for _, s := range u.servers {
		if s.cmd == nil || s.cmd.Process == nil {
			continue
		}
		if s.role == "master" {
			masters = append(masters, s)
		} else {
			replicas = append(replicas, s)
		}
	}
	u.stopGroup(replicas)
	u.stopGroup(masters)
}

// stopGroup sends SIGTERM to each server of group that still runs and
// waits for them all.
func (u *upRun) stopGroup(group []*upServer) {
	var wg sync.WaitGroup
	kill := make(chan struct{})
	for _, s := range group {
		select {
		case <-s.done:
			continue
		default:
		}
		_ = s.cmd.Process.Signal(syscall.SIGTERM)
		wg.Add(1)
		go func(s *upServer) {
			defer wg.Done()
			timer := time.NewTimer(upStopTimeout)
			defer timer.Stop()
			select {
			case <-s.done:
				if s.err != nil {
					fmt.Fprintf(u.stderr, "lagwise up: %s exited with %v on SIGTERM (log %s)\n", s, s.err, s.logPath)
				}
				return
			case <-timer.C:
				fmt.Fprintf(u.stderr, "lagwise up: %s did not stop within %v of SIGTERM: killing it\n", s, upStopTimeout)
			case <-kill:
				fmt.Fprintf(u.stderr, "lagwise up: killing %s\n", s)
			}
			_ = s.cmd.Process.Kill()
			<-s.done
		}(s)
	}
	all := make(chan struct{})
	go func() { wg.Wait(); close(all) }()
	select {
	case <-all:
	case <-u.sig:
		close(kill)
		<-all
	}
}

// probe connects to addr, authenticates if password is set, sends the
// command and checks its reply: +PONG for PING, a bulk string (stored in
// *bulk) otherwise. A RESP error reply is a respError.
func probe(addr, user, password, cmd string, bulk *string, args ...string) error {
	conn, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return err
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(2 * time.Second))
	r := bufio.NewReader(conn)
	if password != "" {
		auth := []string{"AUTH", password}
		if user != "" {
			auth = []string{"AUTH", user, password}
		}
		if _, err := conn.Write(encodeArgs(auth)); err != nil {
			return err
		}
		if _, err := readSimple(r); err != nil {
			return fmt.Errorf("AUTH: %w", err)
		}
	}
	if _, err := conn.Write(encodeArgs(append([]string{cmd}, args...))); err != nil {
		return err
	}
	if bulk == nil {
		line, err := readSimple(r)
		if err != nil {
			return err
		}
		if line != "PONG" {
			return fmt.Errorf("unexpected reply %q", line)
		}
		return nil
	}
	line, err := r.ReadString('\n')
	if err != nil {
		return err
	}
	line = strings.TrimRight(line, "\r\n")
	if strings.HasPrefix(line, "-") {
		return respError(line[1:])
	}
	if !strings.HasPrefix(line, "$") {
		return fmt.Errorf("unexpected reply %q", line)
	}
	n, err := strconv.Atoi(line[1:])
	if err != nil || n < 0 || n > 16<<20 {
		return fmt.Errorf("unexpected reply %q", line)
	}
	buf := make([]byte, n+2)
	if _, err := io.ReadFull(r, buf); err != nil {
		return err
	}
	*bulk = string(buf[:n])
	return nil
}

// respError is an error reply.
type respError string

func (e respError) Error() string { return string(e) }

func isRESPError(err error) bool {
	var e respError
	return errors.As(err, &e)
}

// readSimple reads a simple-string reply; an error reply is a respError.
func readSimple(r *bufio.Reader) (string, error) {
	line, err := r.ReadString('\n')
	if err != nil {
		return "", err
	}
	line = strings.TrimRight(line, "\r\n")
	switch {
	case strings.HasPrefix(line, "+"):
		return line[1:], nil
	case strings.HasPrefix(line, "-"):
		return "", respError(line[1:])
	}
	return "", fmt.Errorf("unexpected reply %q", line)
}

// encodeArgs encodes a command as a RESP array of bulk strings.
func encodeArgs(args []string) []byte {
	b := []byte("*" + strconv.Itoa(len(args)) + "\r\n")
	for _, a := range args {
		b = append(b, '$')
		b = strconv.AppendInt(b, int64(len(a)), 10)
		b = append(b, "\r\n"...)
		b = append(b, a...)
		b = append(b, "\r\n"...)
	}
	return b
}

// infoField returns a field of INFO's text ("" if absent).
func infoField(info, name string) string {
	for _, line := range strings.Split(info, "\n") {
		if k, v, ok := strings.Cut(strings.TrimRight(line, "\r"), ":"); ok && k == name {
			return v
		}
	}
	return ""
}
