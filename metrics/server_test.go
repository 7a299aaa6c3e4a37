package metrics

import (
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
)

// testServerSnapshot is a replica with a sub-replica online and one
// waiting for its snapshot.
func testServerSnapshot() ServerSnapshot {
	errs := map[string]int64{"ERR": 3, "WRONGTYPE": 1}
	for i := range 200 {
		errs["X"+strconv.Itoa(1000+i)] = 1
	}
	return ServerSnapshot{
		Version: "0.1.0", RedisVersion: "7.0.15", UptimeSeconds: 12.5,
		ConnectedClients: 3, MaxClients: 10000, ConnectionsReceived: 9,
		CommandsProcessed: 42,
		Commands: []CommandStat{
			{Name: "set", Calls: 10, Usec: 2500000, Failed: 1},
			{Name: "config|get", Calls: 2, Usec: 40},
			{Name: "set", Calls: 99}, // named twice: reported once
		},
		ErrorReplies: 204, Errors: errs,
		Keyspace:    []DBKeys{{DB: 2, Keys: 5, Expires: 1}},
		ExpiredKeys: 4, UsedMemory: 1 << 20, UsedMemoryPeak: 2 << 20, MaxMemory: 1 << 30,
		Role: "slave", MasterReplOffset: 1000, ReplBacklogActive: true, ReplBacklogSize: 1 << 20, ReplBacklogHistlen: 1000,
		MasterLinkUp: true, MasterLinkState: "connected", MasterLastIOSeconds: 0.5, ReplicaOffset: 1000,
		Replicas: []ServerReplica{
			{Addr: "127.0.0.1:7002", Online: true, AckOffset: 990, AckLagSeconds: 0.25},
			{Addr: "127.0.0.1:7003", AckOffset: 0, AckLagSeconds: -1},
			{Addr: "127.0.0.1:7002", Online: true, AckOffset: 1}, // a duplicate address
		},
		RDBChangesSinceLastSave: 7, RDBLastSaveTime: 1700000000, RDBLastBgsaveOK: true,
		AOFLastWriteOK: true, SyncFull: 2, SyncPartialOK: 1,
	}
}

func TestServerScrape(t *testing.T) {
	snap := testServerSnapshot()
	reg := NewServerRegistry(ServerSourceFunc(func() ServerSnapshot { return snap }))
	body, fams := scrape(t, ServerHandler(reg, nil))
	want := []struct {
		name   string
		labels []string
		v      float64
	}{
		{"lagwise_server_up", nil, 1},
		{"lagwise_server_ready", nil, 1},
		{"lagwise_server_loading", nil, 0},
		{"lagwise_server_build_info", []string{"version", "0.1.0", "redis_version", "7.0.15"}, 1},
		{"lagwise_server_commands_total", []string{"cmd", "set"}, 10},
		{"lagwise_server_commands_duration_seconds_total", []string{"cmd", "set"}, 2.5},
		{"lagwise_server_commands_failed_total", []string{"cmd", "set"}, 1},
		{"lagwise_server_commands_total", []string{"cmd", "config|get"}, 2},
		{"lagwise_server_errors_total", []string{"error", "ERR"}, 3},
		{"lagwise_server_keys", []string{"db", "2"}, 5},
		{"lagwise_server_expiring_keys", []string{"db", "2"}, 1},
		{"lagwise_server_keys", []string{"db", "0"}, 0},
		{"lagwise_server_role", []string{"role", "slave"}, 1},
		{"lagwise_server_role", []string{"role", "master"}, 0},
		{"lagwise_server_master_link_up", nil, 1},
		{"lagwise_server_master_last_io_age_seconds", nil, 0.5},
		{"lagwise_server_replica_offset_bytes", nil, 1000},
		{"lagwise_server_connected_replicas", nil, 3},
		{"lagwise_server_replica_ack_offset_bytes", []string{"replica", "127.0.0.1:7002"}, 990},
		{"lagwise_server_replica_ack_lag_seconds", []string{"replica", "127.0.0.1:7002"}, 0.25},
		{"lagwise_server_replica_ack_lag_seconds", []string{"replica", "127.0.0.1:7003"}, math.Inf(1)},
		{"lagwise_server_replica_online", []string{"replica", "127.0.0.1:7003"}, 0},
		{"lagwise_server_rdb_last_save_timestamp_seconds", nil, 1700000000},
		{"lagwise_server_sync_full_total", nil, 2},
	}
	for _, w := range want {
		got, ok := value(fams, w.name, w.labels...)
		if !ok || got != w.v {
			t.Errorf("%s%v = %v (present %v), want %v", w.name, w.labels, got, ok, w.v)
		}
	}
	if n := len(fams["lagwise_server_errors_total"].GetMetric()); n != maxErrorCodes {
		t.Errorf("%d error codes exported, want at most %d", n, maxErrorCodes)
	}
	if n := len(fams["lagwise_server_replica_ack_offset_bytes"].GetMetric()); n != 2 {
		t.Errorf("%d replica series, want 2", n)
	}
	if !strings.Contains(body, "# TYPE lagwise_server_commands_total counter") {
		t.Error("commands_total is not a counter")
	}

	// A master exports no replica-side metrics.
	snap.Role = "master"
	_, fams = scrape(t, ServerHandler(reg, nil))
	for _, name := range []string{"lagwise_server_master_link_up", "lagwise_server_replica_offset_bytes", "lagwise_server_master_last_io_age_seconds"} {
		if fams[name] != nil {
			t.Errorf("a master exports %s", name)
		}
	}

	// Starting: only what needs no dataset.
	snap = ServerSnapshot{Starting: true, Version: "0.1.0", RedisVersion: "7.0.15"}
	_, fams = scrape(t, ServerHandler(reg, nil))
	for name := range fams {
		switch {
		case strings.HasPrefix(name, "go_"), strings.HasPrefix(name, "process_"):
		case name == "lagwise_server_up", name == "lagwise_server_ready", name == "lagwise_server_loading",
			name == "lagwise_server_build_info", name == "lagwise_server_uptime_seconds":
		default:
			t.Errorf("%s exported while starting", name)
		}
	}
	if v, _ := value(fams, "lagwise_server_loading"); v != 1 {
		t.Errorf("loading %v while starting", v)
	}
}

func TestServerReady(t *testing.T) {
	for _, c := range []struct {
		snap   ServerSnapshot
		ok     bool
		reason string
	}{
		{ServerSnapshot{Role: "master"}, true, ""},
		{ServerSnapshot{Role: "master", Loading: true}, false, "loading the dataset"},
		{ServerSnapshot{Starting: true}, false, "loading the dataset"},
		{ServerSnapshot{Role: "slave", MasterLinkUp: true}, true, ""},
		{ServerSnapshot{Role: "slave", MasterLinkState: "sync"}, false, "master link down (sync)"},
		{ServerSnapshot{Role: "slave"}, false, "master link down (down)"},
	} {
		if ok, reason := c.snap.Ready(); ok != c.ok || reason != c.reason {
			t.Errorf("%+v: %v %q, want %v %q", c.snap, ok, reason, c.ok, c.reason)
		}
	}

	var snap ServerSnapshot
	h := ServerHandler(NewServerRegistry(ServerSourceFunc(func() ServerSnapshot { return snap })), func() (bool, string) { return snap.Ready() })
	srv := httptest.NewServer(h)
	defer srv.Close()
	get := func(path string) (int, string) {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	snap = ServerSnapshot{Role: "slave", MasterLinkState: "connecting"}
	if code, body := get("/readyz"); code != 503 || body != "master link down (connecting)\n" {
		t.Errorf("/readyz: %d %q", code, body)
	}
	snap.MasterLinkUp = true
	if code, body := get("/readyz"); code != 200 || body != "ready\n" {
		t.Errorf("/readyz: %d %q", code, body)
	}
	if code, body := get("/healthz"); code != 200 || body != "ok\n" {
		t.Errorf("/healthz: %d %q", code, body)
	}
	if code, body := get("/"); code != 200 || !strings.HasPrefix(body, "lagwise server:") {
		t.Errorf("/: %d %q", code, body)
	}
	if code, _ := get("/nope"); code != 404 {
		t.Errorf("/nope: %d", code)
	}
}
