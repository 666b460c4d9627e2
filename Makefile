# Access Kiosk. `make` with no target lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

GO       ?= go
BIN      := bin
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -X accesskiosk/version.Version=$(VERSION)
# Bounded fuzzing in `make test`; `make fuzz FUZZTIME=10m` for longer.
FUZZTIME ?= 20s

# Debian packages the build, the tests, the demo and the images need.
APT_PACKAGES := \
	pkg-config libwebkit2gtk-4.1-dev libgtk-3-dev bubblewrap xdg-dbus-proxy \
	xvfb xauth xdotool dbus dbus-daemon dbus-x11 at-spi2-core fonts-dejavu-core \
	cage xwayland grim \
	chromium chromium-driver \
	postgresql \
	iproute2 \
	mmdebstrap qemu-system-x86 mtools dosfstools e2fsprogs fdisk

.PHONY: help
help: ## list the targets
	@echo "Access Kiosk: make TARGET"
	@grep -hE '^[a-z][a-z0-9_-]*:.*## ' $(MAKEFILE_LIST) | \
		awk 'BEGIN{FS=":.*## "} {printf "  %-12s %s\n", $$1, $$2}'

.PHONY: deps
deps: ## install the Debian and npm packages the build and tests need (idempotent; fast when done)
	@missing=""; for p in $(APT_PACKAGES); do \
		dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
		sudo=""; [ "$$(id -u)" = 0 ] || sudo=sudo; \
		echo "deps: installing$$missing"; \
		$$sudo apt-get update -q && \
		DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -q --no-install-recommends $$missing; \
	else echo "deps: Debian packages present"; fi
	@if [ -f package-lock.json ]; then \
		if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then \
			npm ci --no-audit --no-fund; else echo "deps: npm packages present"; fi; fi

.PHONY: assets
assets: ## copy front-end assets from node_modules beside the Go code that embeds them
	@true
	@# fleet console: GOV.UK Frontend compiled without the GDS Transport font or the crown
	@test -x node_modules/.bin/sass || { echo "assets: run make deps first (npm packages missing)"; exit 1; }
	node_modules/.bin/sass --load-path=node_modules/govuk-frontend/dist --style=compressed --no-source-map --quiet-deps \
		fleet/console/scss/console.scss fleet/console/assets/console.css

.PHONY: build
build: assets ## build bin/kiosk, bin/agent, bin/fleet, bin/provision
	@mkdir -p $(BIN)
	@for cmd in kiosk/cmd/kiosk agent/cmd/agent fleet/cmd/fleet provisioning/cmd/provision; do \
		if [ -d $$cmd ]; then echo "go build $$cmd"; $(GO) build -ldflags "$(LDFLAGS)" -o $(BIN)/ ./$$cmd || exit 1; fi; \
	done

.PHONY: test
test: deps assets ## run every test: vet, gofmt, unit and real-component tests, bounded fuzzing
	@unformatted=$$(gofmt -l $$(git ls-files '*.go')); \
		if [ -n "$$unformatted" ]; then echo "gofmt needed: $$unformatted"; exit 1; fi
	$(GO) vet ./...
	CGO_ENABLED=0 $(GO) vet ./...
	$(GO) test -count=1 -timeout 40m ./...
	@$(MAKE) --no-print-directory fuzz FUZZTIME=$(FUZZTIME)

.PHONY: fuzz
fuzz: ## run every fuzz target for FUZZTIME each (default 20s)
	@for pkg in $$($(GO) list ./...); do \
		for f in $$($(GO) test -list '^Fuzz' $$pkg 2>/dev/null | grep '^Fuzz'); do \
			echo "fuzz $$pkg $$f for $(FUZZTIME)"; \
			$(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
		done; \
	done

.PHONY: bench
bench: deps assets ## print the benchmarks: policy, reset and memory vs Chromium, ingest vs bare net/http, agent
	$(GO) test -run '^$$' -bench . -benchmem -count=1 -timeout 60m ./...

.PHONY: screenshots
screenshots: assets ## save a PNG of every console page (and kiosk page) into out/screenshots/
	@mkdir -p out/screenshots
	SCREENSHOTS=$(CURDIR)/out/screenshots $(GO) test -count=1 -run 'Screenshots' ./fleet/console/

.PHONY: soak
soak: assets ## fleet soak: 10,000 simulated devices for 2 minutes (SOAK_DEVICES, SOAK_DURATION to change)
	SOAK_DEVICES=$${SOAK_DEVICES:-10000} SOAK_DURATION=$${SOAK_DURATION:-2m} $(GO) test -count=1 -timeout 30m -run '^TestSoak$$' -v ./fleet/server/

.PHONY: demo
demo: deps build ## run fleet server + agent + kiosk locally on the embedded defaults (Xvfb + screenshot without a display)
	@echo "demo: not wired yet"

.PHONY: clean
clean: ## remove build output
	rm -rf $(BIN)
