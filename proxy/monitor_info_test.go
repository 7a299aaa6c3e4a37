package proxy

import (
	"bufio"
	"errors"
	"reflect"
	"strings"
	"testing"
)

const (
	monRedisReplID   = "42285cb3864cf3f9602f1fc4d2e821f67dbc0648"
	monLagwiseReplID = "08b0511a1b8c1c7a9402e9f4a41584e2d514ccda"
)

func TestParseInfoReplication(t *testing.T) {
	cases := []struct {
		name  string
		texts []string
		want  InfoReplication
	}{
		{"redis master", []string{monInfoRedisMaster}, InfoReplication{
			Role: "master", ReplID: monRedisReplID, ReplID2: "0000000000000000000000000000000000000000",
			MasterReplOffset: 99, HasMasterReplOffset: true,
			Slaves: []InfoSlave{{IP: "127.0.0.1", Port: 17302, State: "online", Offset: 99, Lag: 1}},
		}},
		{"redis master, two replicas", []string{monInfoRedisMaster2}, InfoReplication{
			Role: "master", ReplID: monRedisReplID, ReplID2: "0000000000000000000000000000000000000000",
			MasterReplOffset: 194890153, HasMasterReplOffset: true,
			Slaves: []InfoSlave{
				{IP: "127.0.0.1", Port: 17302, State: "online", Offset: 194890153, Lag: 1},
				{IP: "127.0.0.1", Port: 17303, State: "online", Offset: 194890153, Lag: 0},
			},
		}},
		{"redis master, replica waiting for its snapshot", []string{monInfoRedisMasterWaitBgsave}, InfoReplication{
			Role: "master", ReplID: monRedisReplID, ReplID2: "0000000000000000000000000000000000000000",
			MasterReplOffset: 71, HasMasterReplOffset: true,
			Slaves: []InfoSlave{{IP: "127.0.0.1", Port: 17302, State: "wait_bgsave", Offset: 0, Lag: 0}},
		}},
		{"redis replica", []string{monInfoRedisReplica, monInfoRedisReplicaPersistence}, InfoReplication{
			Role: "slave", ReplID: monRedisReplID, ReplID2: "0000000000000000000000000000000000000000",
			MasterReplOffset: 99, HasMasterReplOffset: true,
			MasterHost: "127.0.0.1", MasterPort: 17301, LinkStatus: "up",
			SlaveReplOffset: 99, HasSlaveReplOffset: true,
		}},
		{"redis replica connecting", []string{monInfoRedisReplicaConnecting}, InfoReplication{
			Role: "slave", ReplID: "155bbc6fdf5b0ad15c2eb8ba0944a9a4f9b6419b", ReplID2: "0000000000000000000000000000000000000000",
			MasterReplOffset: 0, HasMasterReplOffset: true,
			MasterHost: "127.0.0.1", MasterPort: 17301, LinkStatus: "down",
			SlaveReplOffset: 1, HasSlaveReplOffset: true,
		}},
		{"redis replica syncing", []string{monInfoRedisReplicaSyncing}, InfoReplication{
			Role: "slave", ReplID: "3a65bc2d7126bb7fe553d08756a98d84c449edaa", ReplID2: monRedisReplID,
			MasterReplOffset: 261, HasMasterReplOffset: true,
			MasterHost: "127.0.0.1", MasterPort: 17301, LinkStatus: "down", SyncInProgress: true,
			SlaveReplOffset: 261, HasSlaveReplOffset: true,
		}},
		{"redis replica loading", []string{monInfoRedisReplicaLoading}, InfoReplication{
			Role: "slave", ReplID: "3a65bc2d7126bb7fe553d08756a98d84c449edaa", ReplID2: monRedisReplID,
			MasterReplOffset: 261, HasMasterReplOffset: true,
			MasterHost: "127.0.0.1", MasterPort: 17301, LinkStatus: "down", SyncInProgress: true,
			SlaveReplOffset: 1, HasSlaveReplOffset: true, Loading: true,
		}},
		{"redis replica of a replica", []string{monInfoRedisSubReplica}, InfoReplication{
			Role: "slave", ReplID: monRedisReplID, ReplID2: "0000000000000000000000000000000000000000",
			MasterReplOffset: 194890181, HasMasterReplOffset: true,
			MasterHost: "127.0.0.1", MasterPort: 17302, LinkStatus: "up",
			SlaveReplOffset: 194890181, HasSlaveReplOffset: true,
		}},
		{"lagwise master", []string{monInfoLagwiseMaster}, InfoReplication{
			Role: "master", ReplID: monLagwiseReplID, ReplID2: "0000000000000000000000000000000000000000",
			MasterReplOffset: 122, HasMasterReplOffset: true,
			Slaves: []InfoSlave{{IP: "127.0.0.1", Port: 17312, State: "online", Offset: 180, Lag: 0}},
		}},
		{"lagwise master, replica waiting for its snapshot", []string{monInfoLagwiseMasterWaitBgsave}, InfoReplication{
			Role: "master", ReplID: monLagwiseReplID, ReplID2: "0000000000000000000000000000000000000000",
			MasterReplOffset: 58, HasMasterReplOffset: true,
			Slaves: []InfoSlave{{IP: "127.0.0.1", Port: 17312, State: "wait_bgsave", Offset: 0, Lag: 0}},
		}},
		{"lagwise replica", []string{monInfoLagwiseReplica, monInfoLagwiseReplicaPersistence}, InfoReplication{
			Role: "slave", ReplID: monLagwiseReplID, ReplID2: "0000000000000000000000000000000000000000",
			MasterReplOffset: 180, HasMasterReplOffset: true,
			MasterHost: "127.0.0.1", MasterPort: 17311, LinkStatus: "up",
			SlaveReplOffset: 180, HasSlaveReplOffset: true,
		}},
		{"lagwise replica connecting", []string{monInfoLagwiseReplicaConnecting}, InfoReplication{
			Role: "slave", ReplID: "f274e5ab856fce130bd67ad2c7f98c0e8fe48acd", ReplID2: "0000000000000000000000000000000000000000",
			MasterReplOffset: 0, HasMasterReplOffset: true,
			MasterHost: "127.0.0.1", MasterPort: 17311, LinkStatus: "down",
			SlaveReplOffset: 0, HasSlaveReplOffset: true,
		}},
		{"LF line ends, IPv6 replica, async loading", []string{
			"# Replication\nrole:master\nslave0:ip=::1,port=7001,state=send_bulk,offset=5,lag=-1\nmaster_repl_offset:9\n",
			"# Persistence\nloading:0\nasync_loading:1\n"}, InfoReplication{
			Role: "master", MasterReplOffset: 9, HasMasterReplOffset: true, Loading: true,
			Slaves: []InfoSlave{{IP: "::1", Port: 7001, State: "send_bulk", Offset: 5, Lag: -1}},
		}},
		{"unknown fields, no trailing newline", []string{"role:slave\r\nsomething_new:1\r\nslaves:3\r\nslave_repl_offset:7"}, InfoReplication{
			Role: "slave", SlaveReplOffset: 7, HasSlaveReplOffset: true,
		}},
		{"empty", []string{""}, InfoReplication{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var got InfoReplication
			for _, text := range c.texts {
				if err := ParseInfoReplication(text, &got); err != nil {
					t.Fatal(err)
				}
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("got  %+v\nwant %+v", got, c.want)
			}
		})
	}
}

func TestParseInfoReplicationErrors(t *testing.T) {
	for _, text := range []string{
		"master_repl_offset:12x\r\n",
		"slave_repl_offset:\r\n",
		"master_port:http\r\n",
		"slave0:ip=1.2.3.4,port=x,state=online,offset=1,lag=0\r\n",
		"slave0:ip=1.2.3.4,state=online\r\n",
		"slave0:garbage\r\n",
		"slave0:ip=1.2.3.4,port=1,offset=-\r\n",
	} {
		var info InfoReplication
		if err := ParseInfoReplication(text, &info); err == nil {
			t.Errorf("%q: no error", text)
		}
	}
}

func TestMonReadReply(t *testing.T) {
	cases := []struct {
		in   string
		want monReply
	}{
		{"+OK\r\n", monReply{kind: '+', str: "OK"}},
		{"-WRONGPASS invalid username-password pair\r\n", monReply{kind: '-', str: "WRONGPASS invalid username-password pair"}},
		{":-12\r\n", monReply{kind: ':', n: -12}},
		{"$5\r\nab\r\nc\r\n", monReply{kind: '$', str: "ab\r\nc"}},
		{"$0\r\n\r\n", monReply{kind: '$'}},
		{"$-1\r\n", monReply{kind: '$', null: true}},
		{"*2\r\n$1\r\na\r\n*1\r\n:1\r\n", monReply{kind: '*', n: 2}},
	}
	for _, c := range cases {
		got, err := monReadReply(bufio.NewReader(strings.NewReader(c.in)), 0)
		if err != nil || got != c.want {
			t.Errorf("%q: %+v %v, want %+v", c.in, got, err, c.want)
		}
	}
	for _, bad := range []string{
		"OK\r\n", "+OK\n", ":x\r\n", "$-2\r\n", "$3\r\nabcd\r\n", "$99999999999\r\n", "*x\r\n",
		"\r\n", "%2\r\n", "$4\r\nab", "+" + strings.Repeat("a", 20000) + "\r\n",
	} {
		_, err := monReadReply(bufio.NewReaderSize(strings.NewReader(bad), 16<<10), 0)
		if err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
	_, err := monReadReply(bufio.NewReader(strings.NewReader("?\r\n")), 0)
	if !errors.Is(err, errMonProtocol) {
		t.Errorf("unknown type: %v", err)
	}
}
