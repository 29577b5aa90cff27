# konter: two commands for a fresh Debian/Ubuntu machine: `make demo` and `make test`.
SHELL := /bin/bash
APT_PKGS := pkg-config clang libclang-dev libtesseract-dev libleptonica-dev \
            tesseract-ocr-eng tesseract-ocr-ind freetds-bin tmux python3-pip
PY_PKGS := librouteros python-tds

.PHONY: deps pydeps build demo test bench

# Installs the missing system packages (apt-get, through sudo when not root).
deps:
	@missing=""; for p in $(APT_PKGS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  SUDO=""; [ "$$(id -u)" -ne 0 ] && SUDO=sudo; \
	  echo "installing:$$missing"; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi

# Python clients used only by tests, to cross-check the simulators with independent code.
pydeps:
	@python3 -c "import librouteros, pytds" 2>/dev/null || \
	  python3 -m pip install -q $(PY_PKGS) 2>/dev/null || \
	  python3 -m pip install -q --break-system-packages $(PY_PKGS)

build: deps
	cargo build --release

demo: build
	./target/release/konter demo

test: deps pydeps
	cargo fmt --check
	cargo clippy --all-targets -- -D warnings
	cargo test --all-targets
	cargo test --no-default-features --all-targets

bench: deps
	cargo run --release --example bench_intake -- 100000
	cargo run --release --example bench_router
	cargo run --release --example bench_otomax
	cargo run --release --example bench_photo_find
