package proxy

// Real INFO output, captured from Redis 7.0.15 and lagwise server over
// the wire. Raw strings cannot hold CR: the lines end in LF here, and
// monCRLF restores the CRLF the servers send.

import "strings"

func monCRLF(s string) string { return strings.ReplaceAll(s, "\n", "\r\n") }

var (
	// Redis 7.0.15 master, one replica online.
	monInfoRedisMaster = monCRLF(`# Replication
role:master
connected_slaves:1
slave0:ip=127.0.0.1,port=17302,state=online,offset=99,lag=1
master_failover_state:no-failover
master_replid:42285cb3864cf3f9602f1fc4d2e821f67dbc0648
master_replid2:0000000000000000000000000000000000000000
master_repl_offset:99
second_repl_offset:-1
repl_backlog_active:1
repl_backlog_size:1048576
repl_backlog_first_byte_offset:1
repl_backlog_histlen:99
`)

	// Redis 7.0.15 master, two replicas online.
	monInfoRedisMaster2 = monCRLF(`# Replication
role:master
connected_slaves:2
slave0:ip=127.0.0.1,port=17302,state=online,offset=194890153,lag=1
slave1:ip=127.0.0.1,port=17303,state=online,offset=194890153,lag=0
master_failover_state:no-failover
master_replid:42285cb3864cf3f9602f1fc4d2e821f67dbc0648
master_replid2:0000000000000000000000000000000000000000
master_repl_offset:194890153
second_repl_offset:-1
repl_backlog_active:1
repl_backlog_size:1048576
repl_backlog_first_byte_offset:193832521
repl_backlog_histlen:1057633
`)

	// Redis 7.0.15 master while a replica waits for its snapshot (diskless sync delay).
	monInfoRedisMasterWaitBgsave = monCRLF(`# Replication
role:master
connected_slaves:1
slave0:ip=127.0.0.1,port=17302,state=wait_bgsave,offset=0,lag=0
master_failover_state:no-failover
master_replid:42285cb3864cf3f9602f1fc4d2e821f67dbc0648
master_replid2:0000000000000000000000000000000000000000
master_repl_offset:71
second_repl_offset:-1
repl_backlog_active:1
repl_backlog_size:1048576
repl_backlog_first_byte_offset:1
repl_backlog_histlen:71
`)

	// Redis 7.0.15 replica, link up.
	monInfoRedisReplica = monCRLF(`# Replication
role:slave
master_host:127.0.0.1
master_port:17301
master_link_status:up
master_last_io_seconds_ago:10
master_sync_in_progress:0
slave_read_repl_offset:99
slave_repl_offset:99
slave_priority:100
slave_read_only:1
replica_announced:1
connected_slaves:0
master_failover_state:no-failover
master_replid:42285cb3864cf3f9602f1fc4d2e821f67dbc0648
master_replid2:0000000000000000000000000000000000000000
master_repl_offset:99
second_repl_offset:-1
repl_backlog_active:1
repl_backlog_size:1048576
repl_backlog_first_byte_offset:72
repl_backlog_histlen:28
`)

	// Redis 7.0.15 replica just started: link down, its own replication ID.
	monInfoRedisReplicaConnecting = monCRLF(`# Replication
role:slave
master_host:127.0.0.1
master_port:17301
master_link_status:down
master_last_io_seconds_ago:-1
master_sync_in_progress:0
slave_read_repl_offset:1
slave_repl_offset:1
master_link_down_since_seconds:-1
slave_priority:100
slave_read_only:1
replica_announced:1
connected_slaves:0
master_failover_state:no-failover
master_replid:155bbc6fdf5b0ad15c2eb8ba0944a9a4f9b6419b
master_replid2:0000000000000000000000000000000000000000
master_repl_offset:0
second_repl_offset:-1
repl_backlog_active:0
repl_backlog_size:1048576
repl_backlog_first_byte_offset:0
repl_backlog_histlen:0
`)

	// Redis 7.0.15 replica in a full sync (INFO replication persistence).
	monInfoRedisReplicaSyncing = monCRLF(`# Persistence
loading:0
async_loading:0
current_cow_peak:0
current_cow_size:0
current_cow_size_age:0
current_fork_perc:0.00
current_save_keys_processed:0
current_save_keys_total:0
rdb_changes_since_last_save:4
rdb_bgsave_in_progress:0
rdb_last_save_time:1795664612
rdb_last_bgsave_status:ok
rdb_last_bgsave_time_sec:-1
rdb_current_bgsave_time_sec:-1
rdb_saves:0
rdb_last_cow_size:0
rdb_last_load_keys_expired:0
rdb_last_load_keys_loaded:2
aof_enabled:0
aof_rewrite_in_progress:0
aof_rewrite_scheduled:0
aof_last_rewrite_time_sec:-1
aof_current_rewrite_time_sec:-1
aof_last_bgrewrite_status:ok
aof_rewrites:0
aof_rewrites_consecutive_failures:0
aof_last_write_status:ok
aof_last_cow_size:0
module_fork_in_progress:0
module_fork_last_cow_size:0

# Replication
role:slave
master_host:127.0.0.1
master_port:17301
master_link_status:down
master_last_io_seconds_ago:-1
master_sync_in_progress:1
slave_read_repl_offset:261
slave_repl_offset:261
master_sync_total_bytes:-1
master_sync_read_bytes:0
master_sync_left_bytes:-1
master_sync_perc:-0.00
master_sync_last_io_seconds_ago:0
master_link_down_since_seconds:-1
slave_priority:100
slave_read_only:1
replica_announced:1
connected_slaves:0
master_failover_state:no-failover
master_replid:3a65bc2d7126bb7fe553d08756a98d84c449edaa
master_replid2:42285cb3864cf3f9602f1fc4d2e821f67dbc0648
master_repl_offset:261
second_repl_offset:221
repl_backlog_active:1
repl_backlog_size:1048576
repl_backlog_first_byte_offset:142
repl_backlog_histlen:120
`)

	// Redis 7.0.15 replica loading the snapshot of a full sync (INFO replication persistence).
	monInfoRedisReplicaLoading = monCRLF(`# Persistence
loading:1
async_loading:0
current_cow_peak:0
current_cow_size:0
current_cow_size_age:0
current_fork_perc:0.00
current_save_keys_processed:0
current_save_keys_total:0
rdb_changes_since_last_save:4
rdb_bgsave_in_progress:0
rdb_last_save_time:1795664612
rdb_last_bgsave_status:ok
rdb_last_bgsave_time_sec:-1
rdb_current_bgsave_time_sec:-1
rdb_saves:0
rdb_last_cow_size:0
rdb_last_load_keys_expired:0
rdb_last_load_keys_loaded:373742
aof_enabled:0
aof_rewrite_in_progress:0
aof_rewrite_scheduled:0
aof_last_rewrite_time_sec:-1
aof_current_rewrite_time_sec:-1
aof_last_bgrewrite_status:ok
aof_rewrites:0
aof_rewrites_consecutive_failures:0
aof_last_write_status:ok
aof_last_cow_size:0
module_fork_in_progress:0
module_fork_last_cow_size:0
loading_start_time:1795664738
loading_total_bytes:44889090
loading_rdb_used_mem:457646640
loading_loaded_bytes:8388607
loading_loaded_perc:18.69
loading_eta_seconds:8

# Replication
role:slave
master_host:127.0.0.1
master_port:17301
master_link_status:down
master_last_io_seconds_ago:-1
master_sync_in_progress:1
slave_read_repl_offset:1
slave_repl_offset:1
master_sync_total_bytes:44889090
master_sync_read_bytes:44889090
master_sync_left_bytes:0
master_sync_perc:100.00
master_sync_last_io_seconds_ago:3
master_link_down_since_seconds:-1
slave_priority:100
slave_read_only:1
replica_announced:1
connected_slaves:0
master_failover_state:no-failover
master_replid:3a65bc2d7126bb7fe553d08756a98d84c449edaa
master_replid2:42285cb3864cf3f9602f1fc4d2e821f67dbc0648
master_repl_offset:261
second_repl_offset:221
repl_backlog_active:0
repl_backlog_size:1048576
repl_backlog_first_byte_offset:0
repl_backlog_histlen:0
`)

	// Redis 7.0.15 replica, INFO persistence.
	monInfoRedisReplicaPersistence = monCRLF(`# Persistence
loading:0
async_loading:0
current_cow_peak:0
current_cow_size:0
current_cow_size_age:0
current_fork_perc:0.00
current_save_keys_processed:0
current_save_keys_total:0
rdb_changes_since_last_save:0
rdb_bgsave_in_progress:0
rdb_last_save_time:1795664573
rdb_last_bgsave_status:ok
rdb_last_bgsave_time_sec:-1
rdb_current_bgsave_time_sec:-1
rdb_saves:0
rdb_last_cow_size:0
rdb_last_load_keys_expired:0
rdb_last_load_keys_loaded:2
aof_enabled:0
aof_rewrite_in_progress:0
aof_rewrite_scheduled:0
aof_last_rewrite_time_sec:-1
aof_current_rewrite_time_sec:-1
aof_last_bgrewrite_status:ok
aof_rewrites:0
aof_rewrites_consecutive_failures:0
aof_last_write_status:ok
aof_last_cow_size:0
module_fork_in_progress:0
module_fork_last_cow_size:0
`)

	// Redis 7.0.15 replica of a replica: it prints the top master's replication ID.
	monInfoRedisSubReplica = monCRLF(`# Replication
role:slave
master_host:127.0.0.1
master_port:17302
master_link_status:up
master_last_io_seconds_ago:5
master_sync_in_progress:0
slave_read_repl_offset:194890181
slave_repl_offset:194890181
slave_priority:100
slave_read_only:1
replica_announced:1
connected_slaves:0
master_failover_state:no-failover
master_replid:42285cb3864cf3f9602f1fc4d2e821f67dbc0648
master_replid2:0000000000000000000000000000000000000000
master_repl_offset:194890181
second_repl_offset:-1
repl_backlog_active:1
repl_backlog_size:1048576
repl_backlog_first_byte_offset:194890154
repl_backlog_histlen:28
`)

	// lagwise server master, one replica online.
	monInfoLagwiseMaster = monCRLF(`# Replication
role:master
connected_slaves:1
slave0:ip=127.0.0.1,port=17312,state=online,offset=180,lag=0
master_failover_state:no-failover
master_replid:08b0511a1b8c1c7a9402e9f4a41584e2d514ccda
master_replid2:0000000000000000000000000000000000000000
master_repl_offset:122
second_repl_offset:-1
repl_backlog_active:1
repl_backlog_size:1048576
repl_backlog_first_byte_offset:1
repl_backlog_histlen:122
`)

	// lagwise server master while a replica waits for its snapshot.
	monInfoLagwiseMasterWaitBgsave = monCRLF(`# Replication
role:master
connected_slaves:1
slave0:ip=127.0.0.1,port=17312,state=wait_bgsave,offset=0,lag=0
master_failover_state:no-failover
master_replid:08b0511a1b8c1c7a9402e9f4a41584e2d514ccda
master_replid2:0000000000000000000000000000000000000000
master_repl_offset:58
second_repl_offset:-1
repl_backlog_active:1
repl_backlog_size:1048576
repl_backlog_first_byte_offset:1
repl_backlog_histlen:58
`)

	// lagwise server replica, link up.
	monInfoLagwiseReplica = monCRLF(`# Replication
role:slave
master_host:127.0.0.1
master_port:17311
master_link_status:up
master_last_io_seconds_ago:2
master_sync_in_progress:0
slave_read_repl_offset:180
slave_repl_offset:180
slave_priority:100
slave_read_only:1
replica_announced:1
connected_slaves:0
master_failover_state:no-failover
master_replid:08b0511a1b8c1c7a9402e9f4a41584e2d514ccda
master_replid2:0000000000000000000000000000000000000000
master_repl_offset:180
second_repl_offset:-1
repl_backlog_active:1
repl_backlog_size:1048576
repl_backlog_first_byte_offset:59
repl_backlog_histlen:122
`)

	// lagwise server replica just started: link down.
	monInfoLagwiseReplicaConnecting = monCRLF(`# Replication
role:slave
master_host:127.0.0.1
master_port:17311
master_link_status:down
master_last_io_seconds_ago:-1
master_sync_in_progress:0
slave_read_repl_offset:0
slave_repl_offset:0
master_link_down_since_seconds:3
slave_priority:100
slave_read_only:1
replica_announced:1
connected_slaves:0
master_failover_state:no-failover
master_replid:f274e5ab856fce130bd67ad2c7f98c0e8fe48acd
master_replid2:0000000000000000000000000000000000000000
master_repl_offset:0
second_repl_offset:-1
repl_backlog_active:0
repl_backlog_size:1048576
repl_backlog_first_byte_offset:0
repl_backlog_histlen:0
`)

	// lagwise server replica, INFO persistence.
	monInfoLagwiseReplicaPersistence = monCRLF(`# Persistence
loading:0
async_loading:0
current_cow_peak:0
current_cow_size:0
current_cow_size_age:0
current_fork_perc:0.00
current_save_keys_processed:0
current_save_keys_total:0
rdb_changes_since_last_save:2
rdb_bgsave_in_progress:0
rdb_last_save_time:1795664810
rdb_last_bgsave_status:ok
rdb_last_bgsave_time_sec:-1
rdb_current_bgsave_time_sec:-1
rdb_saves:0
rdb_last_cow_size:0
rdb_last_load_keys_expired:0
rdb_last_load_keys_loaded:0
aof_enabled:0
aof_rewrite_in_progress:0
aof_rewrite_scheduled:0
aof_last_rewrite_time_sec:-1
aof_current_rewrite_time_sec:-1
aof_last_bgrewrite_status:ok
aof_rewrites:0
aof_rewrites_consecutive_failures:0
aof_last_write_status:ok
aof_last_cow_size:0
module_fork_in_progress:0
module_fork_last_cow_size:0
`)
)
