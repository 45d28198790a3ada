# Run "make help" for the list of targets.
GO          ?= go
OAPI_CODEGEN_PKG = github.com/oapi-codegen/oapi-codegen/v2/cmd/oapi-codegen
STATICCHECK_PKG = honnef.co/go/tools/cmd/staticcheck
# cmd/specdiff is its own module (oasdiff's dependencies stay out of the root one).
SPECDIFF_DIR = cmd/specdiff
# OURS and GEN_DIR can be overridden to check another copy of the spec or of gen/.
OURS        ?= openapi/link-token.yaml
GEN_DIR     ?= gen
# Acknowledged breaking changes, read by "make breaking".
ALLOW       ?= $(wildcard openapi/allowed-breaking.txt)

.DEFAULT_GOAL := help
.PHONY: help generate check-generated lint test ci contract contract-live breaking upstream bin/specdiff bench fuzz

help: ## List the targets.
	@awk 'BEGIN {FS = ":.*## "} /^[a-z-]+:.*## / {printf "  %-16s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

generate: ## Regenerate gen/ from openapi/link-token.yaml.
	$(GO) generate ./gen

check-generated: ## Fail, printing the diff, when gen/ is not what the spec generates. Changes nothing.
	@set -e; tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	spec=$$(cd "$(dir $(OURS))" && pwd)/$(notdir $(OURS)); \
	$(GO) build -o "$$tmp/oapi-codegen" $(OAPI_CODEGEN_PKG); \
	cp "$(GEN_DIR)/oapi-codegen.yaml" "$$tmp/"; \
	(cd "$$tmp" && ./oapi-codegen -config oapi-codegen.yaml "$$spec"); \
	stale=""; \
	for f in $$(cd "$$tmp" && ls *.gen.go) $$(cd "$(GEN_DIR)" && ls *.gen.go 2>/dev/null); do \
		case " $$stale " in *" $$f "*) continue;; esac; \
		diff -u --label "$(GEN_DIR)/$$f (committed)" --label "$(GEN_DIR)/$$f (generated from $(OURS))" \
			"$(GEN_DIR)/$$f" "$$tmp/$$f" 2>&1 || stale="$$stale $$f"; \
	done; \
	if [ -n "$$stale" ]; then \
		echo ""; \
		echo "check-generated: $(GEN_DIR)/ is out of date with $(OURS); these files differ:"; \
		for f in $$stale; do echo "  $(GEN_DIR)/$$f"; done; \
		echo "fix: run 'make generate' and commit $(GEN_DIR)/ together with the spec"; \
		exit 1; \
	fi; \
	echo "check-generated: $(GEN_DIR)/ matches $(OURS)"

lint: ## gofmt, go vet, staticcheck, and load and validate the spec.
	@out=$$(gofmt -l $$(find . -name '*.go' -not -path './.git/*')); \
	if [ -n "$$out" ]; then echo "gofmt: these files need formatting:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	cd $(SPECDIFF_DIR) && $(GO) vet ./...
	$(GO) run $(STATICCHECK_PKG) ./...
	$(GO) build -o bin/staticcheck $(STATICCHECK_PKG) && cd $(SPECDIFF_DIR) && ../../bin/staticcheck ./...
	$(GO) test -count=1 -run 'TestSpec' ./openapi

test: ## Run every test with the race detector (both modules).
	$(GO) test -race -count=1 ./...
	cd $(SPECDIFF_DIR) && $(GO) test -race -count=1 ./...

bin/specdiff:
	$(GO) build -C $(SPECDIFF_DIR) -o $(CURDIR)/bin/specdiff .

breaking: bin/specdiff ## Fail when the spec breaks callers compared with BASE (a git ref or file). ALLOW=file acknowledges changes.
	@test -n "$(BASE)" || { echo "breaking: set BASE, e.g. make breaking BASE=origin/main"; exit 2; }
	bin/specdiff breaking -base "$(BASE)" -head $(OURS) $(if $(ALLOW),-allow "$(ALLOW)") $(if $(FORMAT),-format $(FORMAT))

upstream: bin/specdiff ## Compare our spec with Merge's published document SPEC (a file or https URL).
	@test -n "$(SPEC)" || { echo "upstream: set SPEC, e.g. make upstream SPEC=merge_mktg.oas.json"; exit 2; }
	bin/specdiff upstream -spec "$(SPEC)" -ours $(OURS) $(if $(FORMAT),-format $(FORMAT))

contract: ## Run the contract suite against CONTRACT_BASE_URL (and the mock).
	@test -n "$$CONTRACT_BASE_URL" || { echo "contract: set CONTRACT_BASE_URL, e.g. http://127.0.0.1:4010 (see README, Contract testing)"; exit 2; }
	$(GO) test -count=1 -v -run 'TestContract/(mock|server)' ./contracttest

contract-live: ## Run the contract suite against Merge's live API: needs MERGE_API_KEY, optional MERGE_REGION.
	@test -n "$$MERGE_API_KEY" || { echo "contract-live: set MERGE_API_KEY (and MERGE_REGION: us, eu or apac)"; exit 2; }
	CONTRACT_BASE_URL= $(GO) test -count=1 -v -run 'TestContract/live' ./contracttest

# Benchmarks: each runs BENCHCOUNT times; the table uses the medians.
BENCHCOUNT ?= 5
BENCHTIME  ?= 1s

bench: ## Benchmarks against one loopback server, and the table of ratios computed from the run.
	@mkdir -p bin
	$(GO) test -run '^$$' -bench . -benchmem -count $(BENCHCOUNT) -benchtime $(BENCHTIME) ./contracttest > bin/bench.txt || { cat bin/bench.txt; exit 1; }
	@cat bin/bench.txt
	@awk -f contracttest/testdata/benchtable.awk bin/bench.txt

# Fuzz targets, as package:target.
FUZZ_TARGETS = client:FuzzResponseDecoding client:FuzzParseRetryAfter client:FuzzParseRegion \
	contracttest:FuzzVerdictsAgree contracttest:FuzzMock
FUZZTIME ?= 30s

fuzz: ## Run each fuzz target for FUZZTIME (default 30s).
	@set -e; for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; name=$${t#*:}; \
		echo "fuzz: $$name ($$pkg) for $(FUZZTIME)"; \
		$(GO) test -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) ./$$pkg; \
	done

ci: check-generated lint test ## What CI runs: check-generated, lint, test, and each fuzz target for a few seconds.
	$(MAKE) --no-print-directory fuzz FUZZTIME=3s
