package main

import (
	"bytes"
	"errors"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/lagwise/lagwise"
	"github.com/lagwise/lagwise/backend"
	"github.com/lagwise/lagwise/backend/resp"
	"github.com/lagwise/lagwise/config"
)

func TestChooseConfig(t *testing.T) {
	none := func(string) bool { return false }
	here := func(p string) bool { return p == "config.yaml" }
	if c := chooseConfig("my.yaml", here); c.path != "my.yaml" || !strings.Contains(c.why, "--config") {
		t.Errorf("--config my.yaml with ./config.yaml present: got %+v, want my.yaml from --config", c)
	}
	if c := chooseConfig("", here); c.path != "config.yaml" || !strings.Contains(c.why, "./config.yaml") {
		t.Errorf("no flag, ./config.yaml present: got %+v, want config.yaml", c)
	}
	if c := chooseConfig("", none); c.path != "" || !strings.Contains(c.why, "built into") {
		t.Errorf("no flag, no ./config.yaml: got %+v, want the embedded default", c)
	}
}

// testHosts is a machine with one interface address, 192.0.2.7, where
// "myhost" resolves to it and "far" to another machine's address.
var testHosts = hostChecker{
	local: []net.IP{net.ParseIP("192.0.2.7"), net.ParseIP("2001:db8::7")},
	lookup: func(h string) ([]string, error) {
		switch h {
		case "myhost":
			return []string{"192.0.2.7"}, nil
		case "mixed":
			return []string{"127.0.0.1", "198.51.100.1"}, nil
		case "far":
			return []string{"198.51.100.1"}, nil
		}
		return nil, errors.New("no such host")
	},
}

func TestBindFor(t *testing.T) {
	ok := []struct {
		addr string
		bind []string
	}{
		{"127.0.0.1:6380", []string{"127.0.0.1"}},
		{"127.0.0.2:6380", []string{"127.0.0.2"}},
		{"[::1]:6380", []string{"::1"}},
		{"localhost:6380", []string{"127.0.0.1", "-::1"}},
		{"LocalHost.:6380", []string{"127.0.0.1", "-::1"}},
		{"192.0.2.7:6380", []string{"192.0.2.7"}},
		{"[2001:db8::7]:6380", []string{"2001:db8::7"}},
		{"myhost:6380", []string{"192.0.2.7"}},
	}
	for _, c := range ok {
		got, err := testHosts.bindFor(c.addr)
		if err != nil || !reflect.DeepEqual(got, c.bind) {
			t.Errorf("bindFor(%q) = %q, %v; want %q", c.addr, got, err, c.bind)
		}
	}
	for _, addr := range []string{"10.1.2.3:6380", "[2001:db8::8]:6380", "far:6380", "mixed:6380"} {
		_, err := testHosts.bindFor(addr)
		want := "lagwise up starts servers on this machine; " + addr + " is not local — run `lagwise proxy` for remote backends"
		if err == nil || err.Error() != want {
			t.Errorf("bindFor(%q) = %v; want %q", addr, err, want)
		}
	}
	if _, err := testHosts.bindFor("nowhere:6380"); err == nil || !strings.Contains(err.Error(), "nowhere") {
		t.Errorf("bindFor(nowhere:6380) = %v; want an error naming the host", err)
	}
}

func mustParse(t *testing.T, yaml string) *config.Config {
	t.Helper()
	c, err := config.Parse([]byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	return c
}

func TestPlanServers(t *testing.T) {
	c := mustParse(t, `
master: 127.0.0.1:7000
replicas:
  - addr: localhost:7001
  - addr: myhost:7002
`)
	servers, err := planServers(c, testHosts)
	if err != nil {
		t.Fatal(err)
	}
	placeServers(servers, "/data")
	type row struct{ role, name, addr, host, port, bind, dir, log string }
	var got []row
	for _, s := range servers {
		got = append(got, row{s.role, s.name, s.addr, s.host, strconv.Itoa(s.port), strings.Join(s.bind, " "), s.dir, s.logPath})
	}
	want := []row{
		{"master", "master", "127.0.0.1:7000", "127.0.0.1", "7000", "127.0.0.1", "/data/master", "/data/master/server.log"},
		{"replica", "replica1", "localhost:7001", "localhost", "7001", "127.0.0.1 -::1", "/data/replica1", "/data/replica1/server.log"},
		{"replica", "replica2", "myhost:7002", "myhost", "7002", "192.0.2.7", "/data/replica2", "/data/replica2/server.log"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("planServers:\n got %v\nwant %v", got, want)
	}
}

func TestPlanServersRejects(t *testing.T) {
	cases := []struct{ name, yaml, want string }{
		{"remote master", "master: 10.9.9.9:6380\n",
			"master: lagwise up starts servers on this machine; 10.9.9.9:6380 is not local — run `lagwise proxy` for remote backends"},
		{"remote replica", "master: 127.0.0.1:6380\nreplicas:\n  - addr: far:6381\n",
			"replicas[0].addr: lagwise up starts servers on this machine; far:6381 is not local"},
		{"ACL user", "master: 127.0.0.1:6380\nbackend_auth:\n  username: app\n",
			`backend_auth.username is "app"`},
	}
	for _, c := range cases {
		_, err := planServers(mustParse(t, c.yaml), testHosts)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want an error containing %q", c.name, err, c.want)
		}
	}
}

func TestServerArgs(t *testing.T) {
	m := &upServer{role: "master", name: "master", host: "localhost", port: 7000, bind: []string{"127.0.0.1", "-::1"}, dir: "/d/master"}
	r := &upServer{role: "replica", name: "replica1", host: "127.0.0.1", port: 7001, bind: []string{"127.0.0.1"}, dir: "/d/replica1"}
	want := []string{"server", "--port", "7000", "--bind", "127.0.0.1 -::1", "--dir", "/d/master", "--save", "", "--appendonly", "no", "--repl-diskless-sync-delay", "0"}
	if got := serverArgs(m, m, false); !reflect.DeepEqual(got, want) {
		t.Errorf("master:\n got %q\nwant %q", got, want)
	}
	want = []string{"server", "-", "--port", "7001", "--bind", "127.0.0.1", "--dir", "/d/replica1", "--save", "", "--appendonly", "no", "--repl-diskless-sync-delay", "0", "--replicaof", "localhost", "7000"}
	if got := serverArgs(r, m, true); !reflect.DeepEqual(got, want) {
		t.Errorf("replica with a password:\n got %q\nwant %q", got, want)
	}

	// The arguments are what lagwise server takes.
	m.dir, r.dir = t.TempDir(), t.TempDir()
	for _, s := range []*upServer{m, r} {
		args := serverArgs(s, m, false)[1:]
		cfg, _, err := backend.LoadConfig(args)
		if err != nil {
			t.Fatalf("backend.LoadConfig(%q): %v", args, err)
		}
		for name, want := range map[string]string{"port": strconv.Itoa(s.port), "save": "", "appendonly": "no", "dir": s.dir, "repl-diskless-sync-delay": "0"} {
			if got, _ := cfg.Get(name); got != want {
				t.Errorf("%s: %s is %q, want %q", s.name, name, got, want)
			}
		}
	}
}

func TestServerSecrets(t *testing.T) {
	for _, pw := range []string{"secret", "with space", `q"uo'te\`, "new\nline\r\x00\xff", "#hash", ""} {
		text := serverSecrets(pw)
		lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
		if len(lines) != 2 {
			t.Fatalf("%q: %d lines, want 2: %q", pw, len(lines), text)
		}
		for i, name := range []string{"requirepass", "masterauth"} {
			argv, ok := resp.SplitArgs([]byte(lines[i]), nil)
			if !ok || len(argv) != 2 || string(argv[0]) != name || string(argv[1]) != pw {
				t.Errorf("%q: line %q splits into %q (ok %v)", pw, lines[i], argv, ok)
			}
		}
	}
}

func TestCheckPorts(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	busy := l.Addr().String()
	free := func() string {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		return l.Addr().String()
	}
	c := mustParse(t, "master: "+busy+"\nlisten: "+free()+"\nmetrics_listen: "+free()+"\n")
	servers, err := planServers(c, testHosts)
	if err != nil {
		t.Fatal(err)
	}
	err = checkPorts(c, servers)
	if err == nil || !strings.Contains(err.Error(), "master "+busy+": "+busy+" is in use") {
		t.Errorf("master on a busy port: got %v", err)
	}

	c = mustParse(t, "master: "+free()+"\nlisten: "+busy+"\nmetrics_listen: "+free()+"\n")
	servers, _ = planServers(c, testHosts)
	if err := checkPorts(c, servers); err == nil || !strings.Contains(err.Error(), "the proxy's listen: "+busy+" is in use") {
		t.Errorf("listen on a busy port: got %v", err)
	}

	c = mustParse(t, "master: "+free()+"\nlisten: "+free()+"\nmetrics_listen: "+free()+"\n")
	servers, _ = planServers(c, testHosts)
	if err := checkPorts(c, servers); err != nil {
		t.Errorf("every port free: %v", err)
	}
}

func TestEndpointAndMetricsURL(t *testing.T) {
	cases := []struct{ listen, endpoint, url string }{
		{"127.0.0.1:6379", "redis-cli -h 127.0.0.1 -p 6379", "http://127.0.0.1:6379/metrics"},
		{":6379", "redis-cli -h 127.0.0.1 -p 6379", "http://127.0.0.1:6379/metrics"},
		{"0.0.0.0:6379", "redis-cli -h 127.0.0.1 -p 6379", "http://127.0.0.1:6379/metrics"},
		{"[::]:6379", "redis-cli -h ::1 -p 6379", "http://[::1]:6379/metrics"},
		{"localhost:7000", "redis-cli -h localhost -p 7000", "http://localhost:7000/metrics"},
	}
	for _, c := range cases {
		if got := endpointLine(c.listen); got != c.endpoint {
			t.Errorf("endpointLine(%q) = %q, want %q", c.listen, got, c.endpoint)
		}
		if got := metricsURL(c.listen); got != c.url {
			t.Errorf("metricsURL(%q) = %q, want %q", c.listen, got, c.url)
		}
	}
}

func TestInfoField(t *testing.T) {
	info := "# Replication\r\nrole:slave\r\nmaster_host:127.0.0.1\r\nmaster_link_status:up\r\n"
	if got := infoField(info, "master_link_status"); got != "up" {
		t.Errorf("master_link_status = %q", got)
	}
	if got := infoField(info, "master_port"); got != "" {
		t.Errorf("master_port = %q, want empty", got)
	}
}

func TestLogTail(t *testing.T) {
	path := filepath.Join(t.TempDir(), "server.log")
	var b bytes.Buffer
	for i := 1; i <= 30; i++ {
		b.WriteString("line " + strconv.Itoa(i) + "\n")
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	got := logTail(path, 3)
	if want := "    line 28\n    line 29\n    line 30"; got != want {
		t.Errorf("logTail = %q, want %q", got, want)
	}
	if got := logTail(filepath.Join(t.TempDir(), "none"), 3); got != "" {
		t.Errorf("logTail of a missing file = %q", got)
	}
}

// The embedded default is a config lagwise up can run: valid, every
// backend on this machine.
func TestUpEmbeddedDefault(t *testing.T) {
	c, err := config.Parse(lagwise.DefaultConfig)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	servers, err := planServers(c, hostChecker{lookup: testHosts.lookup})
	if err != nil {
		t.Fatal(err)
	}
	if len(servers) < 2 {
		t.Errorf("the default starts %d servers, want a master and replicas", len(servers))
	}
}

func TestRunUpUsage(t *testing.T) {
	var out, errb bytes.Buffer
	if code := runUp([]string{"extra"}, &out, &errb); code != 2 || !strings.Contains(errb.String(), `unexpected argument "extra"`) {
		t.Errorf("an extra argument: code %d, stderr %q", code, errb.String())
	}
	errb.Reset()
	if code := runUp([]string{"--help"}, &out, &errb); code != 0 || !strings.Contains(out.String(), "usage: lagwise up") {
		t.Errorf("--help: code %d, stdout %q", code, out.String())
	}
	errb.Reset()
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("master: 10.9.9.9:6380\nlisten: 127.0.0.1:1\nmetrics_listen: 127.0.0.1:2\n"), 0o644)
	if code := runUp([]string{"--config", bad, "--dir", filepath.Join(dir, "data")}, &out, &errb); code != 1 || !strings.Contains(errb.String(), "10.9.9.9:6380 is not local") {
		t.Errorf("a remote master: code %d, stderr %q", code, errb.String())
	}
	if _, err := os.Stat(filepath.Join(dir, "data")); !os.IsNotExist(err) {
		t.Errorf("a refused config made the data directory (%v)", err)
	}
}
