# Shared by scripts/quickstart and scripts/test.

# Debian packages: python3-venv for the virtualenv, plus whatever the caller names.
# As root this installs them (apt-get update first); otherwise it says what is missing.
ensure_debian_packages() {
  local wanted=(python3-venv "$@") missing=() pkg
  command -v dpkg-query >/dev/null || return 0
  for pkg in "${wanted[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  # A Python that already has venv (pyenv, a custom build) does not need python3-venv.
  if python3 -c 'import ensurepip, venv' 2>/dev/null; then
    missing=("${missing[@]/python3-venv}")
  fi
  missing=($(printf '%s\n' "${missing[@]}" | grep -v '^$' || true))
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ]; then
    echo "Missing Debian packages: ${missing[*]}. Install them as root (apt-get install ${missing[*]}) and re-run." >&2
    return 0
  fi
  echo "Installing Debian packages: ${missing[*]}" >&2
  apt-get update -qq
  # The tests start their own servers (sshd, Prometheus, VictoriaMetrics, MooseFS...) on loopback
  # in temporary directories: the packages' own services must not start now, nor at boot.
  local guard=""
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    guard=/usr/sbin/policy-rc.d
    printf '#!/bin/sh\nexit 101\n' > "$guard" && chmod 755 "$guard"
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null || {
    [ -n "$guard" ] && rm -f "$guard"; return 1; }
  [ -n "$guard" ] && rm -f "$guard"
  if command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
    for pkg in "${missing[@]}"; do
      [ "$pkg" = openssh-server ] && continue  # an SSH server is what the machine may be reached by
      dpkg -L "$pkg" 2>/dev/null | grep -E '^/lib/systemd/system/[^/]+\.service$' | xargs -r -n1 basename |
        xargs -r systemctl disable --quiet 2>/dev/null || true
    done
  fi
}

ensure_venv() {
  if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
  fi
}
