# Access Kiosk. `make` with no target lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

GO       ?= go
BIN      := bin
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -X accesskiosk/internal/version.Version=$(VERSION)
# Bounded fuzzing in `make test`, as an execution count per target: Go 1.26's
# duration-based -fuzztime can end a clean run with a bare "context deadline
# exceeded" (golang/go#75804, fixed in Go 1.27); a count has no deadline to
# race. `make fuzz FUZZTIME=5000000x` (or FUZZTIME=10m) for longer.
FUZZTIME ?= 200000x
# Targets that fsync on every execution (the agent's disk queue) get fewer.
FUZZ_SLOW     := FuzzEntryFile
FUZZTIME_SLOW ?= 5000x

# Debian packages the build, the tests, the demo and the images need.
# The cross compiler is for the kiosk of the other architecture (images/deb/gobuild.sh).
DEB_HOST_ARCH := $(shell dpkg --print-architecture 2>/dev/null)
APT_PACKAGES := \
	gcc libc6-dev curl pkg-config libwebkit2gtk-4.1-dev libgtk-3-dev libglvnd-core-dev bubblewrap xdg-dbus-proxy \
	xvfb xauth xdotool dbus dbus-daemon dbus-x11 at-spi2-core fonts-dejavu-core dconf-service dconf-gsettings-backend \
	cage xwayland grim \
	chromium chromium-driver \
	postgresql \
	iproute2 stress-ng \
	sane-utils gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good \
	mmdebstrap qemu-system-x86 mtools dosfstools e2fsprogs fdisk nftables \
	dpkg-dev lintian help2man licensecheck systemd \
	qemu-user-static binfmt-support arch-test socat qemu-system-arm \
	cups-ipp-utils cups-daemon poppler-utils \
	$(if $(filter amd64,$(DEB_HOST_ARCH)),gcc-aarch64-linux-gnu,gcc-x86-64-linux-gnu)

.PHONY: help
help: ## list the targets
	@echo "Access Kiosk: make TARGET"
	@grep -hE '^[a-z][a-z0-9_-]*:.*## ' $(MAKEFILE_LIST) | \
		awk 'BEGIN{FS=":.*## "} {printf "  %-12s %s\n", $$1, $$2}'

.PHONY: deps
deps: ## check the toolchain, install the Debian and npm packages the build and tests need (idempotent)
	@# The toolchain Debian 12 does not carry (README): Go 1.26, Node.js >= 20.19 with npm.
	@ok=1; \
	gov=$$($(GO) env GOVERSION 2>/dev/null | sed -n 's/^go\([0-9.]*\).*/\1/p'); \
	if [ -z "$$gov" ] || [ "$$(printf '%s\n' 1.26 "$$gov" | sort -V | head -n1)" != 1.26 ]; then ok=; \
		echo "deps: Go 1.26 is needed, found $${gov:-none} ($(GO)): install it from https://go.dev/dl/" \
			"(Debian 12's golang-go is 1.19) and put its bin/ first on PATH"; fi; \
	nodev=$$(node --version 2>/dev/null | sed -n 's/^v\([0-9.]*\).*/\1/p'); \
	if [ -z "$$nodev" ] || [ "$$(printf '%s\n' 20.19 "$$nodev" | sort -V | head -n1)" != 20.19 ]; then ok=; \
		echo "deps: Node.js >= 20.19 is needed (sass's engines), found $${nodev:-none}: install Node.js 20 or 22 LTS" \
			"from https://nodejs.org/ or NodeSource's Debian repository (Debian 12's nodejs is 18)"; fi; \
	command -v npm >/dev/null || { ok=; echo "deps: npm is missing: it comes with Node.js from nodejs.org or NodeSource"; }; \
	[ -n "$$ok" ] && echo "deps: Go $$gov, Node.js $$nodev" || exit 1
	@missing=""; for p in $(APT_PACKAGES); do \
		dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
		sudo=""; [ "$$(id -u)" = 0 ] || sudo=sudo; \
		echo "deps: installing$$missing"; \
		$$sudo apt-get update -q && \
		DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -q --no-install-recommends $$missing; \
	else echo "deps: Debian packages present"; fi
	@# npm: reinstalled when package-lock.json's content changed (a checkout's newer mtime is no
	@# change), never through a link (npm ci would empty the linked folder of the tree it belongs to).
	@if [ -f package-lock.json ]; then \
		want=$$(sha256sum package-lock.json | cut -c1-64); have=$$(cat node_modules/.package-lock.sha256 2>/dev/null); \
		if [ "$$have" = "$$want" ]; then echo "deps: npm packages present"; \
		elif [ -L node_modules ]; then \
			echo "deps: node_modules links to $$(readlink node_modules), installed for another package-lock.json:" \
				"run make deps there, or rm node_modules here and run make deps"; exit 1; \
		else npm ci --no-audit --no-fund && echo "$$want" > node_modules/.package-lock.sha256; fi; fi

.PHONY: assets
assets: ## copy front-end assets from node_modules beside the Go code that embeds them
	@true
	@# kiosk/ui: GOV.UK Frontend compiled without GDS Transport or the crown, for the built-in pages
	@test -x node_modules/.bin/sass || { echo "assets: node_modules missing: run make deps"; exit 1; }
	node_modules/.bin/sass --no-source-map --style=compressed --quiet-deps --load-path=node_modules kiosk/ui/sass/kiosk.scss kiosk/ui/dist/kiosk.css

	@# fleet console: GOV.UK Frontend compiled without the GDS Transport font or the crown
	node_modules/.bin/sass --load-path=node_modules/govuk-frontend/dist --style=compressed --no-source-map --quiet-deps \
		fleet/console/scss/console.scss fleet/console/assets/console.css
	cp node_modules/govuk-frontend/dist/govuk/govuk-frontend.min.js fleet/console/assets/govuk-frontend.min.js
	@# fleet insights: the standalone page's and the printable report's stylesheets (charts + GOV.UK Frontend)
	node_modules/.bin/sass --load-path=node_modules/govuk-frontend/dist --style=compressed --no-source-map --quiet-deps \
		fleet/insights/scss/insights.scss:fleet/insights/assets/insights.css fleet/insights/scss/report.scss:fleet/insights/assets/report.css

.PHONY: build
build: assets ## build bin/kiosk, bin/agent, bin/fleet, bin/provision
	@mkdir -p $(BIN)
	@for cmd in kiosk/cmd/kiosk agent/cmd/agent fleet/cmd/fleet provisioning/cmd/provision; do \
		if [ -d $$cmd ]; then echo "go build $$cmd"; $(GO) build -ldflags "$(LDFLAGS)" -o $(BIN)/ ./$$cmd || exit 1; fi; \
	done
	@# bin/kiosk's no-GL EGL vendor (kiosk.yaml webgl: false), beside it, where it looks
	$(CC) -O2 -Wall -Werror -shared -fPIC -fvisibility=hidden -o $(BIN)/libEGL_accesskiosk_nogl.so kiosk/webkit/nogl/nogl.c

.PHONY: test
test: deps assets ## run every test: vet, gofmt, unit and real-component tests, bounded fuzzing
	@unformatted=$$(gofmt -l $$(git ls-files '*.go')); \
		if [ -n "$$unformatted" ]; then echo "gofmt needed: $$unformatted"; exit 1; fi
	$(GO) vet ./...
	CGO_ENABLED=0 $(GO) vet ./...
	$(GO) test -count=1 -timeout 40m ./...
	@$(MAKE) --no-print-directory fuzz FUZZTIME=$(FUZZTIME)
	@$(MAKE) --no-print-directory check-packages

# `make test-under-load`: the kiosk, agent and fleet tests on a machine kept busy by a CPU hog at
# twice the cores (stress-ng), as CI on a shared developer machine may be. LOAD_PACKAGES to narrow.
LOAD_PACKAGES ?= ./kiosk/... ./agent/... ./fleet/...

.PHONY: test-under-load
test-under-load: deps assets ## run the kiosk, agent and fleet tests with a CPU hog at twice the cores (stress-ng)
	@command -v stress-ng >/dev/null || { echo "test-under-load: stress-ng is missing: run make deps"; exit 1; }
	@$(GO) test -count=1 -run '^$$' $(LOAD_PACKAGES) >/dev/null # build first, without the hog
	@hogs=$$(( 2 * $$(nproc) )); start=$$(date +%s); loads=$$(mktemp); \
	echo "test-under-load: stress-ng --cpu $$hogs beside go test $(LOAD_PACKAGES)"; \
	stress-ng --cpu $$hogs --timeout 90m --quiet & hog=$$!; \
	while sleep 15; do cut -d' ' -f1 /proc/loadavg; done > $$loads & sampler=$$!; \
	trap 'kill $$hog $$sampler 2>/dev/null; wait $$hog $$sampler 2>/dev/null; rm -f $$loads' EXIT; \
	$(GO) test -count=1 -timeout 60m $(LOAD_PACKAGES); rc=$$?; \
	echo "test-under-load: $$( [ $$rc = 0 ] && echo PASS || echo FAIL ) in $$(( $$(date +%s) - start ))s;" \
		"1-min load average $$(sort -n $$loads | sed -n '1p;$$p' | paste -sd- -) ($$(nproc) cores, $$hogs hogs)"; \
	exit $$rc

.PHONY: fuzz
fuzz: ## run every fuzz target for FUZZTIME each (default 200000 executions)
	@for pkg in $$($(GO) list ./...); do \
		for f in $$($(GO) test -list '^Fuzz' $$pkg 2>/dev/null | grep '^Fuzz'); do \
			t=$(FUZZTIME); case " $(FUZZ_SLOW) " in *" $$f "*) t=$(FUZZTIME_SLOW);; esac; \
			echo "fuzz $$pkg $$f for $$t"; \
			$(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $$t -timeout 10m $$pkg || exit 1; \
		done; \
	done

.PHONY: bundle
bundle: build ## release bundle of bin/kiosk, bin/agent and their units for this machine (bin/accesskiosk-VERSION-ARCH.tar.zst)
	@rm -rf $(BIN)/bundle-tree && mkdir -p $(BIN)/bundle-tree/bin $(BIN)/bundle-tree/units
	@for p in kiosk agent; do [ -f $(BIN)/$$p ] && cp $(BIN)/$$p $(BIN)/bundle-tree/bin/; \
		[ -f $$p/cmd/$$p/$$p.service ] && cp $$p/cmd/$$p/$$p.service $(BIN)/bundle-tree/units/accesskiosk-$$p.service; true; done
	$(BIN)/fleet release bundle --version $(VERSION) --out $(BIN)/accesskiosk-$(VERSION)-$$($(GO) env GOARCH).tar.zst $(BIN)/bundle-tree

.PHONY: fault-test
fault-test: ## SIGKILL the updater at 100 random points of download, verify, unpack and switch; check it recovers
	UPDATE_FAULT_RUNS=100 $(GO) test -count=1 -timeout 30m -run '^TestFaultInjection$$' -v ./agent/update/

.PHONY: bench
bench: deps assets ## print the benchmarks: policy, reset and memory vs Chromium, ingest and a short fleet load test vs bare net/http, console pages at 10,000 kiosks, agent
	$(GO) test -run '^$$' -bench . -benchmem -count=1 -timeout 60m ./...

# The demo's pieces are separate targets so that each part can add its own. Without a display
# each runs until the kiosk has shown its home page (and, for the fleet demo, the agent has
# reported it), for at most DEMO_SECONDS, and fails with the kiosk's log when that did not happen.
DEMO_DIR     ?= $(CURDIR)/$(BIN)/demo
DEMO_SECONDS ?= 60

.PHONY: screenshots-console
screenshots-console: assets ## save a PNG of every fleet console page into out/screenshots/
	@mkdir -p out/screenshots
	SCREENSHOTS=$(CURDIR)/out/screenshots $(GO) test -count=1 -run 'Screenshots' ./fleet/console/

.PHONY: screenshots-insights
screenshots-insights: assets ## save the Insights charts (standalone page at 1280 and 320 px, forced colours) and the printable report (PNG, PDF) in out/screenshots/
	@mkdir -p out/screenshots
	SCREENSHOTS=$(CURDIR)/out/screenshots $(GO) test -count=1 -run '^TestScreenshots$$' ./fleet/insights/

.PHONY: loadtest
loadtest: assets ## fleet load test: 20,000 kiosks every 30 s on SQLite and on 2 PostgreSQL replicas, vs bare net/http, the knee, a 100,000 projection (LOADTEST_KIOSKS, _INTERVAL, _WINDOW, _STEP, _MAX)
	LOADTEST=1 $(GO) test -count=1 -timeout 90m -run '^TestLoad$$' -v ./fleet/loadtest/

.PHONY: soak
soak: assets ## fleet soak: 10,000 simulated devices for 2 minutes (SOAK_DEVICES, SOAK_DURATION to change)
	SOAK_DEVICES=$${SOAK_DEVICES:-10000} SOAK_DURATION=$${SOAK_DURATION:-2m} $(GO) test -count=1 -timeout 30m -run '^TestSoak$$' -v ./fleet/server/

.PHONY: demo
demo: deps build demo-fleet ## run fleet server + agent + kiosk locally on the embedded defaults (Xvfb + screenshot without a display)

.PHONY: demo-fleet
demo-fleet: ## run bin/fleet, an agent enrolled with it and bin/kiosk together; prints the console address and a login
	BIN=$(BIN) DEMO_DIR=$(DEMO_DIR) DEMO_SECONDS=$(DEMO_SECONDS) fleet/cmd/fleet/demo.sh

.PHONY: demo-kiosk
demo-kiosk: ## run bin/kiosk on its embedded default (without a display: under Xvfb until home is shown, saving a screenshot)
	@mkdir -p $(DEMO_DIR)
	@if [ -n "$$DISPLAY$$WAYLAND_DISPLAY" ]; then \
		echo "demo: kiosk in a window on your display (Ctrl-C to stop)"; \
		$(BIN)/kiosk --windowed --screenshot $(DEMO_DIR)/kiosk-home.png; \
	else \
		echo "demo: no display; running the kiosk under Xvfb until it shows home (at most $(DEMO_SECONDS)s)"; \
		rm -f $(DEMO_DIR)/kiosk-home.png; \
		xvfb-run -a -s "-screen 0 1280x800x24" dbus-run-session -- bash -c \
			'"$$0" --windowed --screenshot "$$1" & k=$$!; end=$$((SECONDS + $$2)); \
			while [ ! -s "$$1" ] && [ $$SECONDS -lt $$end ] && kill -0 $$k 2>/dev/null; do sleep 0.5; done; \
			kill $$k 2>/dev/null; wait $$k' \
			$(BIN)/kiosk $(DEMO_DIR)/kiosk-home.png $(DEMO_SECONDS) > $(DEMO_DIR)/kiosk.log 2>&1 || true; \
		test -s $(DEMO_DIR)/kiosk-home.png || { echo "demo: FAILED: the kiosk did not show its home page" \
			"(no screenshot was saved); its log:"; tail -n 60 $(DEMO_DIR)/kiosk.log; exit 1; }; \
		echo "demo: screenshot of the kiosk's home page: $(DEMO_DIR)/kiosk-home.png"; \
	fi

.PHONY: screenshots-kiosk-pages
screenshots-kiosk-pages: deps assets ## save every built-in kiosk page at 1280x800 and 800x1280, and the print panel (3 languages, both contrasts, portrait and landscape), in out/screenshots/
	@mkdir -p out/screenshots
	set -o pipefail; KIOSK_SCREENSHOTS=$(CURDIR)/out/screenshots $(GO) test -count=1 -run '^Test(Print)?Screenshots$$' -v ./kiosk/ui/ | grep -E 'saved|FAIL|ok|Error'
	@test -n "$$(ls out/screenshots/kiosk-* 2>/dev/null)"

.PHONY: screenshots-volunteer
screenshots-volunteer: deps assets ## save the volunteer screens (PIN pad, locked, service picker, outcome) in out/screenshots/
	@mkdir -p out/screenshots
	set -o pipefail; KIOSK_SCREENSHOTS=$(CURDIR)/out/screenshots $(GO) test -count=1 -run '^TestVolunteerScreenshots$$' -v ./kiosk/ui/ | grep -E 'saved|FAIL|ok|Error'
	@test -n "$$(ls out/screenshots/kiosk-volunteer-* 2>/dev/null)"

.PHONY: screenshots-assist
screenshots-assist: deps assets ## save remote help (issue 17): the console's viewer while sharing, the kiosk's consent prompt and its sharing bar with a ring, in out/screenshots/
	@mkdir -p out/screenshots
	SCREENSHOTS=$(CURDIR)/out/screenshots $(GO) test -count=1 -run '^TestRemoteHelpEndToEnd$$' ./fleet/assist/
	SCREENSHOTS=$(CURDIR)/out/screenshots $(GO) test -count=1 -run '^TestAssistShare$$' ./kiosk/shell/
	@test -f out/screenshots/console-assist.png
	@test -f out/screenshots/kiosk-assist-consent.png
	@test -f out/screenshots/kiosk-assist-sharing.png

.PHONY: screenshots-picker
screenshots-picker: deps assets ## save the file picker (choose, scan preview, this session's files; English, Welsh, Polish, both contrasts, landscape and portrait) in out/screenshots/
	@mkdir -p out/screenshots
	set -o pipefail; KIOSK_SCREENSHOTS=$(CURDIR)/out/screenshots $(GO) test -count=1 -run '^TestPickerScreenshots$$' -v ./kiosk/ui/ | grep -E 'saved|FAIL|ok|Error'
	@test -n "$$(ls out/screenshots/kiosk-picker-* 2>/dev/null)"

.PHONY: screenshots-kiosk-shell
screenshots-kiosk-shell: deps assets ## save the real kiosk window (guide beside a service, keyboard up over a form, the toolbar's More panel; also high contrast, Welsh, Polish) at 1280x800 and 800x1280 in out/screenshots/
	@mkdir -p out/screenshots
	set -o pipefail; KIOSK_SCREENSHOTS=$(CURDIR)/out/screenshots $(GO) test -count=1 -run '^(TestScreenshotsShell|TestToolbarFitsScreen)$$' -v ./kiosk/shell/ | grep -E 'saved|FAIL|ok|Error|want'
	@test -n "$$(ls out/screenshots/kiosk-shell-* 2>/dev/null)"

.PHONY: screenshots
screenshots: screenshots-kiosk-pages screenshots-volunteer screenshots-picker screenshots-kiosk-shell screenshots-console screenshots-insights screenshots-assist ## save screenshots of every screen in out/screenshots/

# Images and packages (images/README.md). Image builds run as root, niced.
# SUITE is the Debian release the images and the kiosk's libraries come from:
# trixie (Debian 13, the default) or bookworm. Packages go to out/deb/SUITE;
# a bookworm image is built into images/TARGET/build-bookworm.
SUITE ?= trixie
export SUITE
IMAGE_BUILD = build$(if $(filter-out trixie,$(SUITE)),-$(SUITE))
DEB_ARCHES ?= amd64 arm64

.PHONY: deb
deb: deps assets ## build the Debian packages accesskiosk-{fleet,agent,kiosk} (amd64, arm64) for SUITE (default trixie) into out/deb/SUITE/
	images/deb/build.sh $(DEB_ARCHES)

# The packages `make test` checks (CHECK_ARCHES=amd64 arm64 for both).
CHECK_ARCHES ?= $(DEB_HOST_ARCH)

.PHONY: check-packages
check-packages: deps assets ## build the packages (CHECK_ARCHES, default this machine's) and check them: lintian 0 errors 0 warnings; systemd-analyze security agent <= 4.5, kiosk <= 5.0, fleet <= 2.1
	images/deb/build.sh $(CHECK_ARCHES)
	images/deb/check.sh $(CHECK_ARCHES)

.PHONY: image-x86
image-x86: ## build the x86-64 UEFI kiosk image from SUITE (default trixie) into images/x86/build/ (root, mmdebstrap)
	@$(MAKE) --no-print-directory deb DEB_ARCHES=amd64
	BUILD_DIR=$(CURDIR)/images/x86/$(IMAGE_BUILD) nice -n 10 images/x86/build.sh

.PHONY: image-rpi
image-rpi: ## build the Raspberry Pi 4 + 5 (arm64) kiosk image from SUITE into images/rpi/build/ (root, qemu-user)
	@$(MAKE) --no-print-directory deb DEB_ARCHES=arm64
	BUILD_DIR=$(CURDIR)/images/rpi/$(IMAGE_BUILD) nice -n 10 images/rpi/build.sh

.PHONY: image-test
image-test: ## check the x86 image's root file system, boot it under QEMU against a fleet on loopback
	@test -f images/x86/$(IMAGE_BUILD)/accesskiosk-x86.img || $(MAKE) --no-print-directory image-x86
	@if compgen -G 'fleet/cmd/fleet/*.go' >/dev/null; then mkdir -p $(BIN) && $(GO) build -ldflags "$(LDFLAGS)" -o $(BIN)/ ./fleet/cmd/fleet; fi
	AK_BUILD=$(IMAGE_BUILD) $(GO) test -tags imagetest -count=1 -timeout 50m -v ./images/...

.PHONY: image-test-rpi
image-test-rpi: ## check the Pi image's root, boot its kernel and root under qemu-system-aarch64 (virt) against a fleet on loopback
	@test -f images/rpi/$(IMAGE_BUILD)/accesskiosk-rpi.img || $(MAKE) --no-print-directory image-rpi
	@mkdir -p $(BIN) && $(GO) build -ldflags "$(LDFLAGS)" -o $(BIN)/ ./fleet/cmd/fleet
	AK_IMAGE=rpi AK_BUILD=$(IMAGE_BUILD) $(GO) test -tags imagetest -count=1 -timeout 150m -v -run '^(TestBuiltRootfs|TestPiBoot|TestImageFilesystems|TestBoot)$$' ./images/imagecheck/

# The kiosk of each built x86 root, trixie's and bookworm's, benchmarked in one run on this
# machine (images/imagecheck/bench_test.go): cold start, PSS, reset. Both roots must be built
# (make image-x86; make image-x86 SUITE=bookworm).
BENCH_ROOTS ?= trixie=$(CURDIR)/images/x86/build/rootfs bookworm=$(CURDIR)/images/x86/build-bookworm/rootfs

.PHONY: image-bench
image-bench: ## benchmark the kiosk inside each built x86 root (BENCH_ROOTS: trixie's and bookworm's WebKitGTK), same machine, one run
	AK_BENCH_ROOTS="$(BENCH_ROOTS)" $(GO) test -tags imagetest -count=1 -timeout 30m -v -run '^TestKioskBench$$' ./images/imagecheck/

.PHONY: clean
clean: ## remove build output
	rm -rf $(BIN)
