// Package router is the proxy's routing policy, as pure functions: it
// reads requests and numbers handed to it and returns decisions. It does no
// I/O, starts no goroutines and reads no clock; time comes in as arguments.
//
// The parts, in the order a request meets them:
//
//   - Classify (classify.go) sorts a request by the shared command table
//     (backend/command): a read a replica may serve, a write, a command the
//     master must answer, an admin command, one that needs a connection of
//     its own, one the proxy answers itself, or one it refuses.
//   - Session (session.go) follows the state a client builds on its
//     connection — a transaction, WATCH, pub/sub, a selected database — and
//     says where each request goes: a replica, the master's shared
//     connection, the session's pinned master connection, a master
//     connection for one blocking command, or the proxy itself.
//   - Policy and Eligible (policy.go, eligible.go) turn the lag monitor's
//     samples into effective replica weights. They run on health events,
//     not per request.
//   - Picker (pick.go) spends those weights on the request path: smooth
//     weighted round-robin, the fallback when no replica qualifies, and
//     the read-your-writes filter; it does not allocate.
//   - Writes and Fresh (ryw.go) hold a session's read-your-writes
//     requirement and the replicas that meet it.
//   - History (history.go) turns a replica's offset into time lag.
//
// A Classifier and an Eligibility are read-only once made, and every event
// loop may share them. Session, Writes, Picker and History are not safe for
// concurrent use: each event loop owns its sessions and its Picker, and
// points the Picker at a new Eligibility when the monitor reports.
package router
