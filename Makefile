.PHONY: build test bench docker

build:
	CGO_ENABLED=0 go build -o lagwise ./cmd/lagwise

# Every test: vet, unit and end-to-end tests, bounded fuzzing.
test:
	@bash scripts/test.sh

# The benchmarks against Redis 7.0, side by side: `make bench` runs
# bench/server.sh, `make bench BENCH=<name>` bench/<name>.sh (persist,
# repl, proxy), `make bench BENCH=all` the whole suite.
BENCH ?= server
bench:
	@test -f bench/$(BENCH).sh || { echo "no bench/$(BENCH).sh (BENCH=server, persist, repl, proxy or all)" >&2; exit 2; }
	@bash bench/$(BENCH).sh

# The container image: a static linux binary built here, then an image FROM
# scratch around it (scripts/image.sh; nothing is pulled). IMAGE names it.
IMAGE ?= lagwise:latest
docker:
	CGO_ENABLED=0 GOOS=linux go build -trimpath -ldflags "-s -w" -o lagwise ./cmd/lagwise
	@bash scripts/image.sh $(IMAGE) ./lagwise
