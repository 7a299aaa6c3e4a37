.PHONY: build test bench

build:
	CGO_ENABLED=0 go build -o lagwise ./cmd/lagwise

# Every test: vet, unit and end-to-end tests, bounded fuzzing.
test:
	@bash scripts/test.sh

# The benchmarks against Redis 7.0, side by side: `make bench` runs
# bench/server.sh, `make bench BENCH=persist` bench/persist.sh,
# `make bench BENCH=repl` bench/repl.sh.
BENCH ?= server
bench:
	@test -f bench/$(BENCH).sh || { echo "no bench/$(BENCH).sh (BENCH=server, persist or repl)" >&2; exit 2; }
	@bash bench/$(BENCH).sh
