.PHONY: build test bench

build:
	CGO_ENABLED=0 go build -o lagwise ./cmd/lagwise

# Every test: vet, unit and end-to-end tests, bounded fuzzing.
test:
	@bash scripts/test.sh

# The server benchmark against Redis 7.0, side by side.
bench:
	@bash bench/server.sh
