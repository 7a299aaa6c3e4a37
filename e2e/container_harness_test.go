package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
)

// The container tests run the lagwise image (Dockerfile, scripts/image.sh)
// in a local Docker engine: a master, two replicas and the proxy, each a
// container of its own on a private network, where they know each other by
// name (master, replica1, replica2). The test reaches them from the host
// through ports published on 127.0.0.1 and picked by the engine, and
// breaks them with docker network disconnect, docker pause and docker kill.
//
// No registry is needed: the image starts FROM scratch and the binary is
// built on this machine. Without a Docker engine that answers `docker
// info`, the tests skip; LAGWISE_REQUIRE_DOCKER=1 makes them fail instead,
// and TestContainerGuard fails when they skipped although the engine
// answers.

// envRequireDocker makes the container tests fail rather than skip when
// Docker is not available.
const envRequireDocker = "LAGWISE_REQUIRE_DOCKER"

// dockerTimeout bounds one docker command.
const dockerTimeout = 2 * time.Minute

var (
	// containerRun is a random tag for this run's image, containers and
	// networks, so that runs side by side do not meet.
	containerRun = randomID()

	// containerOutcome records the container tests that ran and those
	// that skipped, with why, for TestContainerGuard.
	containerOutcome struct {
		sync.Mutex
		ran     int
		skipped []string
	}
)

func randomID() string {
	b := make([]byte, 4)
	if _, err := rand.Read(b); err != nil {
		return strconv.FormatInt(time.Now().UnixNano()%1e8, 36)
	}
	return hex.EncodeToString(b)
}

// dockerCmd runs docker with args and returns its trimmed output (stdout
// and stderr) and an error naming the command when it fails.
func dockerCmd(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), dockerTimeout)
	defer cancel()
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, "docker", args...)
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	s := strings.TrimSpace(out.String())
	if err != nil {
		return s, fmt.Errorf("docker %s: %v: %s", strings.Join(args, " "), err, s)
	}
	return s, nil
}

// mustDocker is dockerCmd that fails the test on error.
func mustDocker(t *testing.T, args ...string) string {
	t.Helper()
	out, err := dockerCmd(args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// dockerAvailable reports whether a Docker engine answers, and if not, why.
func dockerAvailable() (bool, string) {
	if _, err := exec.LookPath("docker"); err != nil {
		return false, "no docker command on PATH"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "docker", "info", "--format", "{{.ServerVersion}}").CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) == 0 {
		return false, fmt.Sprintf("docker info does not answer: %v %s", err, bytes.TrimSpace(out))
	}
	return true, ""
}

func requireDocker() bool {
	v := os.Getenv(envRequireDocker)
	b, err := strconv.ParseBool(v)
	return v != "" && (err != nil || b)
}

// containerSkip skips t (or fails it under LAGWISE_REQUIRE_DOCKER=1) and
// records the skip for TestContainerGuard.
func containerSkip(t *testing.T, why string) {
	t.Helper()
	containerOutcome.Lock()
	containerOutcome.skipped = append(containerOutcome.skipped, t.Name()+": "+why)
	containerOutcome.Unlock()
	if requireDocker() {
		t.Fatalf("%s=1, but the container tests cannot run: %s", envRequireDocker, why)
	}
	t.Skip(why)
}

// requireContainers skips the test without a Docker engine or a proxy in
// this build, and otherwise builds the image, removed when the test ends.
func requireContainers(t *testing.T) string {
	t.Helper()
	if againstRedis() {
		t.Skip("LAGWISE_DIFF_AGAINST=redis: the container tests need the lagwise binary")
	}
	if ok, why := dockerAvailable(); !ok {
		containerSkip(t, "no Docker engine: "+why)
	}
	requireProxy(t)
	containerOutcome.Lock()
	containerOutcome.ran++
	containerOutcome.Unlock()
	start := time.Now()
	image, err := buildImage()
	if err != nil {
		t.Fatalf("building the image: %v", err)
	}
	t.Cleanup(func() {
		if out, err := dockerCmd("rmi", "-f", image); err != nil {
			t.Errorf("removing the image %s: %v", image, out)
		}
	})
	t.Logf("built the binary and the image %s in %v", image, time.Since(start).Round(time.Millisecond))
	return image
}

// buildImage builds a static linux lagwise and the image around it with
// scripts/image.sh, tagged for this run only.
func buildImage() (string, error) {
	root, err := filepath.Abs("..")
	if err != nil {
		return "", err
	}
	dir, err := os.MkdirTemp("", "lagwise-image-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, "lagwise")
	build := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w", "-o", bin, "./cmd/lagwise")
	build.Dir = root
	build.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux")
	if out, err := build.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build (CGO_ENABLED=0 GOOS=linux): %v\n%s", err, out)
	}
	tag := "lagwise-e2e:" + containerRun
	img := exec.Command("bash", filepath.Join(root, "scripts", "image.sh"), tag, bin)
	img.Dir = root
	if out, err := img.CombinedOutput(); err != nil {
		return "", fmt.Errorf("scripts/image.sh %s %s: %v\n%s", tag, bin, err, out)
	}
	return tag, nil
}

// dnet is a private Docker network of one test.
type dnet struct {
	name string
}

// newNetwork creates a network removed when the test ends (after its
// containers, which are removed by cleanups registered later).
func newNetwork(t *testing.T) *dnet {
	t.Helper()
	name := fmt.Sprintf("lagwise-e2e-%s-%s", containerRun, randomID())
	mustDocker(t, "network", "create", "--driver", "bridge", name)
	t.Cleanup(func() {
		if out, err := dockerCmd("network", "rm", name); err != nil {
			t.Errorf("removing the network %s: %v", name, out)
		}
	})
	return &dnet{name: name}
}

// ctr is a running container.
type ctr struct {
	name  string // the container's name
	alias string // its name on the network: master, replica1, ...
	net   *dnet
	ports map[string]string // container port ("6379") → 127.0.0.1:host port
}

// runOpts are what startContainer needs beyond the image's defaults.
type runOpts struct {
	alias   string
	publish []string // container ports to publish on 127.0.0.1
	mounts  []string // -v values
	args    []string // the command after /lagwise
}

// startContainer runs a container of the image on n, removed (with its
// anonymous volumes) when the test ends; if the test failed, the tail of
// its log is printed first.
func startContainer(t *testing.T, image string, n *dnet, o runOpts) *ctr {
	t.Helper()
	c := &ctr{name: n.name + "-" + o.alias, alias: o.alias, net: n, ports: map[string]string{}}
	args := []string{"run", "-d", "--name", c.name, "--network", n.name, "--network-alias", o.alias}
	for _, p := range o.publish {
		args = append(args, "-p", "127.0.0.1::"+p)
	}
	for _, m := range o.mounts {
		args = append(args, "-v", m)
	}
	args = append(append(args, image), o.args...)
	_, err := dockerCmd(args...)
	t.Cleanup(func() {
		if t.Failed() {
			logs, _ := dockerCmd("logs", "--tail", "40", c.name)
			t.Logf("%s log tail:\n%s", o.alias, logs)
		}
		dockerCmd("unpause", c.name) // a paused container is removed too, but quicker once running
		if out, err := dockerCmd("rm", "-f", "-v", c.name); err != nil {
			t.Errorf("removing the container %s: %v", c.name, out)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range o.publish {
		out := mustDocker(t, "port", c.name, p+"/tcp")
		for _, l := range strings.Split(out, "\n") {
			if strings.HasPrefix(l, "127.0.0.1:") {
				c.ports[p] = strings.TrimSpace(l)
				break
			}
		}
		if c.ports[p] == "" {
			t.Fatalf("%s: docker port %s: %q", o.alias, p, out)
		}
	}
	return c
}

// addr is the host address of the container's port 6379.
func (c *ctr) addr() string { return c.ports["6379"] }

// waitPing waits until the container answers PING on its published port.
func (c *ctr) waitPing(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(startupTimeout)
	for !pingOK(c.addr()) {
		if time.Now().After(deadline) {
			logs, _ := dockerCmd("logs", "--tail", "40", c.name)
			t.Fatalf("%s does not answer PING on %s after %v; log:\n%s", c.alias, c.addr(), startupTimeout, logs)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// node returns a control connection to a server container, closed when
// the test ends, as the node helpers of the replication tests use it.
func (c *ctr) node(t *testing.T) *node {
	t.Helper()
	cl, err := dial(c.addr())
	if err != nil {
		t.Fatalf("connecting to %s: %v", c.alias, err)
	}
	t.Cleanup(func() { cl.Close() })
	return &node{name: c.alias, s: &server{name: c.alias, addr: c.addr()}, c: cl}
}

// serverArgs are the arguments of every server container: reachable from
// the network, no persistence, a short repl-timeout and a backlog that
// covers the disconnections of these tests.
func serverArgs(extra ...string) []string {
	return append([]string{
		"server", "--port", "6379", "--bind", "0.0.0.0", "--protected-mode", "no", "--dir", "/data",
		"--save", "", "--appendonly", "no", "--enable-debug-command", "yes",
		"--repl-timeout", "2", "--repl-ping-replica-period", "1",
		"--repl-backlog-size", "64mb", "--repl-diskless-sync-delay", "0",
	}, extra...)
}

// dcluster is a master, two replicas and a proxy, each in its container.
type dcluster struct {
	net       *dnet
	master    *ctr
	replicas  []*ctr
	proxy     *ctr
	confDir   string // bind-mounted at /etc/lagwise in the proxy
	reconcile bool
}

// containerConfig is the proxy's config.yaml: master and replicas by
// their names on the network.
func containerConfig(master string, replicas []string, reconcile bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, "listen: 0.0.0.0:6379\nmetrics_listen: 0.0.0.0:9121\nmaster: %s\nreplicas:\n", master)
	for _, r := range replicas {
		fmt.Fprintf(&b, "  - addr: %s\n    weight: 1\n", r)
	}
	b.WriteString("routing:\n  max_lag: 500ms\n  lag_poll_interval: 100ms\n  poll_timeout: 250ms\n")
	fmt.Fprintf(&b, "reconcile: %v\nlog_level: debug\n", reconcile)
	return b.String()
}

// startDockerCluster starts the master, two replicas of it and the proxy,
// and waits until both replicas get reads.
func startDockerCluster(t *testing.T, image string, reconcile bool) *dcluster {
	t.Helper()
	n := newNetwork(t)
	dc := &dcluster{net: n, reconcile: reconcile}
	dc.master = startContainer(t, image, n, runOpts{alias: "master", publish: []string{"6379"}, args: serverArgs()})
	for i := 1; i <= 2; i++ {
		dc.replicas = append(dc.replicas, startContainer(t, image, n, runOpts{
			alias: fmt.Sprintf("replica%d", i), publish: []string{"6379"},
			args: serverArgs("--replicaof", "master", "6379"),
		}))
	}

	// The config's directory is bind-mounted, so that a config rewritten
	// by renaming a new file over the old one reaches the proxy; the
	// proxy runs as uid 10001, which must be able to read it.
	dir, err := os.MkdirTemp("", "lagwise-e2e-conf-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	dc.confDir = dir
	dc.writeConfig(t, "master:6379", []string{"replica1:6379", "replica2:6379"})
	dc.proxy = startContainer(t, image, n, runOpts{
		alias: "proxy", publish: []string{"6379", "9121"},
		mounts: []string{dir + ":/etc/lagwise:ro"},
		args:   []string{"proxy", "--config", "/etc/lagwise/config.yaml"},
	})
	for _, c := range append([]*ctr{dc.master, dc.proxy}, dc.replicas...) {
		c.waitPing(t)
	}
	for _, r := range dc.replicas {
		waitUntil(t, replWait, r.alias+" to be routable through the proxy", func() bool { return dc.routable(t, r) })
	}
	return dc
}

// writeConfig writes the proxy's config.yaml the way editors save: a new
// file renamed over the old one.
func (dc *dcluster) writeConfig(t *testing.T, master string, replicas []string) {
	t.Helper()
	path := filepath.Join(dc.confDir, "config.yaml")
	tmp := path + ".new"
	if err := os.WriteFile(tmp, []byte(containerConfig(master, replicas, dc.reconcile)), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(tmp, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// lagwise returns LAGWISE <sub> through the proxy.
func (dc *dcluster) lagwise(t *testing.T, sub string) string {
	t.Helper()
	return lagwiseAt(t, dc.proxy.addr(), sub)
}

// routable reports whether LAGWISE LAG says r gets reads.
func (dc *dcluster) routable(t *testing.T, r *ctr) bool {
	t.Helper()
	kv, ok := lagLine([]byte(dc.lagwise(t, "LAG")), r.alias+":6379")
	return ok && truthy(kv["routable"])
}

// metrics scrapes the proxy's published metrics port.
func (dc *dcluster) metrics(t *testing.T) map[string]*dto.MetricFamily {
	t.Helper()
	_, fams := scrapeProxy(t, dc.proxy.ports["9121"])
	return fams
}

// setEncodedLen is the size of `SET key key` in RESP, as it travels in
// the replication stream.
func setEncodedLen(key string) int64 {
	bulk := func(s string) int { return 1 + len(strconv.Itoa(len(s))) + 2 + len(s) + 2 }
	return int64(len("*3\r\n") + bulk("SET") + 2*bulk(key))
}
