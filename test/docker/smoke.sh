#!/usr/bin/env bash
# Docker smoke test (issue 12). Builds the Dockerfile and runs the image as compose.yaml's app
# service would run (its environment, `.env` as an env file, one file per secret under
# /run/secrets made by `npx empulse secrets --dir`), in production mode, against this machine's
# PostgreSQL and Redis and a throwaway SMTP server. Checks: migrations applied at start,
# /health/ready answers 200, Docker's own healthcheck turns healthy, a registration is accepted and
# its email delivered, `empulse check` and `users set-role` work inside the container, /data can be
# streamed out with tar (the README's backup), the server runs as a non-root user and is PID 1
# itself on a read-only filesystem without capabilities, and `docker stop` (SIGTERM) ends it
# gracefully with exit code 0. Then validates compose.yaml with dclint.
#
# What it starts is its own and goes away on exit (trap): a dockerd on a private socket and data
# root, the SMTP server, a PostgreSQL role and database. Containers use the host network, bound to
# 127.0.0.1: this machine allows loopback traffic only, never a bridge network.
#
# Where the official node image cannot be pulled (no registry reachable), it makes a stand-in base
# image: Debian bookworm (debootstrap, from the apt mirror this machine uses), the project's own
# Node binary, the host's npm and CA bundle; it says so loudly, and keeps the result under
# ${XDG_CACHE_HOME:-~/.cache}/empulse-docker for the next run.
#
# Needs root (it installs docker.io and debootstrap from Debian when missing), PostgreSQL and Redis
# as `npm test` does (TEST_DATABASE_URL, TEST_REDIS_URL; defaults postgresql://postgres@127.0.0.1:5432/test
# and redis://127.0.0.1:6379), and npm's registry reachable from the build.
# Usage: bash test/docker/smoke.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
export PATH="$PWD/node_modules/.bin:$PATH"

started=$SECONDS
say() { printf 'docker smoke [%3ss]: %s\n' "$((SECONDS - started))" "$*"; }
fail() {
  printf 'docker smoke: FAILED: %s\n' "$*" >&2
  exit 1
}

admin_url=${TEST_DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/test}
redis_url=${TEST_REDIS_URL:-redis://127.0.0.1:6379}
official_image=node:24-bookworm-slim
cache=${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/empulse-docker

[ "$(id -u)" -eq 0 ] || fail "must run as root (it starts dockerd and may install packages)."
[ -x node_modules/.bin/node ] || fail "run npm ci first (the project's Node 24 and dclint come from it)."

# --- 1. packages --------------------------------------------------------------------------------
installed() { [ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null)" = installed ]; }
missing=()
for p in docker.io debootstrap; do installed "$p" || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  say "installing ${missing[*]} from Debian"
  command -v apt-get >/dev/null 2>&1 || fail "apt-get not found; install ${missing[*]} by hand."
  apt_log=$(mktemp)
  export DEBIAN_FRONTEND=noninteractive
  if ! { apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}"; } >"$apt_log" 2>&1; then
    cat "$apt_log" >&2
    rm -f "$apt_log"
    fail "apt-get install ${missing[*]} failed (see above)."
  fi
  rm -f "$apt_log"
fi
for bin in dockerd docker debootstrap psql curl; do
  command -v "$bin" >/dev/null 2>&1 || fail "$bin not found on PATH."
done

# --- cleanup: everything below is undone on exit, whatever happens -------------------------------
work=$(mktemp -d "${TMPDIR:-/tmp}/empulse-docker-smoke.XXXXXX")
# dockerd's exec root holds Unix sockets (at most 108 bytes a path): keep it short, under /tmp.
exec_root=$(mktemp -d /tmp/eds.XXXXXX)
export DOCKER_HOST="unix://$exec_root/docker.sock"
# The daemon here is Debian's 20.10 and buildx is not installed: the classic builder, on purpose
# (the Dockerfile uses nothing BuildKit-only).
export DOCKER_BUILDKIT=0
dockerd_pid='' container='' sink_pid='' db='' role=''

psql_admin() { psql "$admin_url" -v ON_ERROR_STOP=1 -qAt "$@"; }

cleanup() {
  local status=$?
  set +e
  if [ -n "$container" ]; then docker rm -f -v "$container" >/dev/null 2>&1; fi
  if [ -n "$sink_pid" ]; then kill "$sink_pid" 2>/dev/null; wait "$sink_pid" 2>/dev/null; fi
  if [ -n "$dockerd_pid" ]; then
    kill "$dockerd_pid" 2>/dev/null
    for _ in $(seq 1 100); do kill -0 "$dockerd_pid" 2>/dev/null || break; sleep 0.2; done
    kill -9 "$dockerd_pid" 2>/dev/null
    wait "$dockerd_pid" 2>/dev/null
  fi
  # Whatever dockerd left mounted (it unmounts on a clean stop), deepest first.
  awk -v a="$work" -v b="$exec_root" 'index($2, a) == 1 || index($2, b) == 1 { print $2 }' /proc/mounts | sort -r |
    while read -r m; do umount -l "$m" 2>/dev/null; done
  if [ -n "$db" ]; then psql_admin -c "drop database if exists $db with (force)" >/dev/null 2>&1; fi
  if [ -n "$role" ]; then psql_admin -c "drop role if exists $role" >/dev/null 2>&1; fi
  rm -rf "$work" "$exec_root"
  if [ "$status" -ne 0 ]; then
    printf 'docker smoke: failed after %ss (exit %s)\n' "$((SECONDS - started))" "$status" >&2
  fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# --- 2. a private dockerd -------------------------------------------------------------------------
say "starting dockerd (data root $work/docker, socket $exec_root/docker.sock)"
echo '{}' >"$work/daemon.json"
# No bridge, no iptables, no IP forwarding: nothing on the host's network changes; containers
# use the host network. Its own config, pid file and paths: a system dockerd, if any, is untouched.
dockerd --config-file "$work/daemon.json" --data-root "$work/docker" --exec-root "$exec_root" \
  --pidfile "$exec_root/dockerd.pid" -H "$DOCKER_HOST" \
  --iptables=false --ip-masq=false --ip-forward=false --bridge=none --log-level=warn \
  >"$work/dockerd.log" 2>&1 &
dockerd_pid=$!
for _ in $(seq 1 150); do
  docker version >/dev/null 2>&1 && break
  kill -0 "$dockerd_pid" 2>/dev/null || { cat "$work/dockerd.log" >&2; fail "dockerd exited (log above)."; }
  sleep 0.2
done
docker version >/dev/null 2>&1 || { tail -20 "$work/dockerd.log" >&2; fail "dockerd did not answer within 30 s."; }
say "dockerd $(docker version -f '{{.Server.Version}}') is up, storage driver $(docker info -f '{{.Driver}}')"

# --- 3. the base image ----------------------------------------------------------------------------
# The first bookworm mirror apt is configured with (deb822 .sources first, then sources.list).
debian_mirror() {
  local uri=''
  if compgen -G '/etc/apt/sources.list.d/*.sources' >/dev/null; then
    uri=$(awk 'BEGIN { RS = ""; FS = "\n" }
      { u = ""; s = "" ; off = 0
        for (i = 1; i <= NF; i++) {
          if ($i ~ /^URIs:/) { v = $i; sub(/^URIs:[ \t]*/, "", v); split(v, w, /[ \t]+/); u = w[1] }
          if ($i ~ /^Suites:/) s = " " $i " "
          if ($i ~ /^Enabled:[ \t]*no/) off = 1
        }
        if (!off && u != "" && s ~ /[ \t]bookworm[ \t]/) { print u; exit } }' /etc/apt/sources.list.d/*.sources)
  fi
  if [ -z "$uri" ] && [ -f /etc/apt/sources.list ]; then
    uri=$(sed -E 's/\[[^]]*\]//' /etc/apt/sources.list | awk '$1 == "deb" && $3 == "bookworm" { print $2; exit }')
  fi
  echo "${uri:-http://deb.debian.org/debian}"
}

# Debian bookworm (minbase) plus the project's Node, the host's npm and CA bundle, and a user
# `node` with uid 1000: what the Dockerfile expects of node:24-bookworm-slim. Cached as a tarball
# named after what went into it; the debootstrap step is cached apart (the slow part, ~40 s).
make_local_base() {
  local node_bin npm_dir ca=/etc/ssl/certs/ca-certificates.crt node_version npm_version key base_tar minbase rootfs mirror
  node_bin=$(readlink -f node_modules/node/bin/node)
  [ -x "$node_bin" ] || fail "the project's Node binary (node_modules/node/bin/node) is missing: run npm ci."
  # The npm on PATH, found from its own file (`npm root -g` would answer relative to the project's
  # Node, which has none).
  npm_dir=$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")
  [ -f "$npm_dir/bin/npm-cli.js" ] || fail "the host's npm was not found (looked in $npm_dir)."
  [ -f "$ca" ] || fail "no CA bundle at $ca."
  node_version=$("$node_bin" --version)
  npm_version=$(node -p "require(process.argv[1]).version" "$npm_dir/package.json")
  key="bookworm-node${node_version}-npm${npm_version}-ca$(sha256sum "$ca" | cut -c1-12)"
  base_tar="$cache/base-$key.tar"
  minbase="$cache/bookworm-minbase.tar"
  mkdir -p "$cache"
  if [ ! -f "$base_tar" ]; then
    rootfs="$work/rootfs"
    mkdir -p "$rootfs"
    if [ -f "$minbase" ]; then
      say "local base: Debian bookworm minbase from the cache"
      tar -C "$rootfs" -xf "$minbase"
    else
      mirror=$(debian_mirror)
      say "local base: debootstrap --variant=minbase bookworm from $mirror (not cached yet, ~40 s)"
      debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 ||
        { tail -30 "$work/debootstrap.log" >&2; fail "debootstrap failed (log above)."; }
      # What a container image does not need: package caches, indexes, documentation.
      rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/lib/apt/lists/* \
        "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/* "$rootfs"/usr/share/locale/*
      tar -C "$rootfs" -cf "$minbase.tmp.$$" . && mv "$minbase.tmp.$$" "$minbase"
    fi
    say "local base: adding Node $node_version, npm $npm_version, the CA bundle and user node (uid 1000)"
    install -D -m 0755 "$node_bin" "$rootfs/usr/local/bin/node"
    mkdir -p "$rootfs/usr/local/lib/node_modules"
    cp -a "$npm_dir" "$rootfs/usr/local/lib/node_modules/npm"
    ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$rootfs/usr/local/bin/npm"
    ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$rootfs/usr/local/bin/npx"
    # npm in the build reaches the registry through this machine's TLS-inspecting egress, whose CA
    # only the host's bundle has (NODE_EXTRA_CA_CERTS below). The official image needs none of it.
    install -D -m 0644 "$ca" "$rootfs/etc/ssl/certs/ca-certificates.crt"
    chroot "$rootfs" groupadd --gid 1000 node
    chroot "$rootfs" useradd --uid 1000 --gid node --shell /bin/bash --create-home node
    rm -f "$cache"/base-*.tar
    tar -C "$rootfs" -cf "$base_tar.tmp.$$" . && mv "$base_tar.tmp.$$" "$base_tar"
    rm -rf "$rootfs"
  else
    say "local base: $(basename "$base_tar") from the cache"
  fi
  docker import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt' \
    --change 'CMD ["node"]' \
    "$base_tar" "$local_image" >/dev/null
}

local_image=empulse-local/node:24-bookworm
say "pulling $official_image"
if pull_error=$(timeout 300 docker pull -q "$official_image" 2>&1); then
  node_image=$official_image
  say "base image: the official $official_image"
else
  node_image=$local_image
  say "NOTE: the official $official_image could NOT be pulled ($(printf '%s' "$pull_error" | head -1 | cut -c1-160))"
  say "NOTE: building on a LOCALLY MADE base image instead ($local_image: Debian bookworm, Node, npm), not the official one"
  make_local_base
fi

# --- 4. the image ---------------------------------------------------------------------------------
say "building the Dockerfile on $node_image"
build_started=$SECONDS
docker build --network host --build-arg "NODE_IMAGE=$node_image" -t empulse-smoke:latest . >"$work/build.log" 2>&1 ||
  { tail -40 "$work/build.log" >&2; fail "docker build failed (log above)."; }
say "built empulse-smoke:latest in $((SECONDS - build_started)) s, $(docker image inspect -f '{{.Size}}' empulse-smoke:latest | awk '{ printf "%d MB", $1 / 1e6 }')"
[ "$(docker image inspect -f '{{.Config.User}}' empulse-smoke:latest)" = node ] || fail "the image's user is not node."
# The README's way to make the secret files on a server without Node: the command in the image.
docker run --rm --network none --user "$(id -u)" -v "$work:/work" -w /work empulse-smoke:latest \
  node /app/host/node.ts secrets --dir image-secrets >/dev/null 2>"$work/image-secrets.err" ||
  { cat "$work/image-secrets.err" >&2; fail "secrets --dir inside the image failed."; }
[ "$(find "$work/image-secrets" -type f -perm 600 | wc -l)" -ge 9 ] || fail "secrets --dir inside the image wrote too few files."
rm -rf "$work/image-secrets"

# --- 5. what compose.yaml gives the app: secrets, environment, .env -------------------------------
say "generating secrets with npx empulse secrets --dir"
secrets="$work/secrets"
npx --no-install empulse secrets --dir "$secrets" >"$work/secrets.out" 2>&1 || { cat "$work/secrets.out" >&2; fail "empulse secrets --dir failed."; }
[ "$(stat -c %a "$secrets")" = 700 ] || fail "the secrets directory is not mode 0700."
for f in "$secrets"/*; do [ "$(stat -c %a "$f")" = 600 ] || fail "$(basename "$f") is not mode 0600."; done
# (-f: the value is read from the file, never put on a command line.)
for f in "$secrets"/*; do grep -qFf "$f" "$work/secrets.out" && fail "secrets --dir printed the value of $(basename "$f")."; done

# A database and role of their own on this machine's server, with the generated password, and the
# generated DATABASE_URL pointed at them (compose's points at the `postgres` service).
id="$(date +%s)_$$"
db="empulse_smoke_$id" role="empulse_smoke_$id"
# The password goes through psql's stdin (printf is a shell builtin): never on a command line.
{ printf '\\set pw %s\n' "$(cat "$secrets/postgres_password")"; printf "create role %s login password :'pw';\n" "$role"; } |
  psql_admin >/dev/null || fail "cannot create a role on the test server (TEST_DATABASE_URL, postgres@127.0.0.1:5432 by default)."
psql_admin -c "create database $db owner $role" >/dev/null
run_secrets="$work/run-secrets"
mkdir -m 700 "$run_secrets"
node -e '
  const [generated, admin, role, db] = process.argv.slice(1);
  const url = new URL(require("node:fs").readFileSync(generated, "utf8"));
  const server = new URL(admin);
  url.username = role; url.hostname = server.hostname; url.port = server.port || "5432"; url.pathname = "/" + db;
  process.stdout.write(url.href);
' "$secrets/database_url" "$admin_url" "$role" "$db" >"$run_secrets/database_url"
chmod 600 "$run_secrets/database_url"

say "starting an SMTP server for the app's email"
node test/docker/smtp-sink.ts >"$work/smtp.out" 2>"$work/smtp.err" &
sink_pid=$!
for _ in $(seq 1 50); do grep -q '^port ' "$work/smtp.out" 2>/dev/null && break; sleep 0.1; done
smtp_port=$(awk '/^port / { print $2; exit }' "$work/smtp.out")
[ -n "$smtp_port" ] || { cat "$work/smtp.err" >&2; fail "the SMTP server did not start."; }

# What an operator's .env holds (README): not generated, not secret here.
port=$(node -e 'const s = require("node:net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); })')
cat >"$work/.env" <<EOF
EMAIL_FROM=Empulse Smoke <no-reply@empulse.example>
PUBLIC_APP_URL=https://app.empulse.example
SMTP_URL=smtp://127.0.0.1:$smtp_port
TRUSTED_PROXIES=127.0.0.1
EOF

node test/docker/compose-app.ts compose.yaml >"$work/compose-app.txt" || fail "cannot read compose.yaml's app service."
run_args=(--name empulse-smoke --network host --health-interval 1s --health-timeout 3s)
env_files=0
while read -r kind rest; do
  case $kind in
    env)
      # Compose's service names do not resolve on the host network: this machine's Redis instead.
      case $rest in REDIS_URL=*) rest="REDIS_URL=$redis_url" ;; esac
      run_args+=(-e "$rest")
      ;;
    secret)
      read -r name _ <<<"$rest"
      # Mounted one file at a time, read-only, as compose does (and readable by uid 1000, the
      # README's chown step). The database URL is this run's.
      src="$secrets/$name"
      [ "$name" = database_url ] && src="$run_secrets/database_url"
      [ -f "$src" ] || fail "compose.yaml's secret $name is not among the files secrets --dir wrote."
      chown 1000 "$src"
      run_args+=(-v "$src:/run/secrets/$name:ro")
      ;;
    env_file) env_files=$((env_files + 1)) ;;
    option)
      read -r -a flags <<<"$rest"
      run_args+=("${flags[@]}")
      ;;
  esac
done <"$work/compose-app.txt"
[ "$env_files" -eq 1 ] || fail "expected compose.yaml's app to read one env file (.env)."
# Host networking: listen on loopback only, on a free port.
run_args+=(--env-file "$work/.env" -e HOST=127.0.0.1 -e "PORT=$port")

# --- 6. run, use, stop ----------------------------------------------------------------------------
say "running the image in production mode on 127.0.0.1:$port (database $db)"
container=$(docker run -d "${run_args[@]}" empulse-smoke:latest)
base="http://127.0.0.1:$port"
status=''
for _ in $(seq 1 120); do
  status=$(curl -s -o /dev/null -w '%{http_code}' "$base/health/ready" || true)
  [ "$status" = 200 ] && break
  [ "$(docker inspect -f '{{.State.Running}}' "$container")" = true ] ||
    { docker logs "$container" 2>&1 | tail -30 >&2; fail "the container exited (its log above)."; }
  sleep 0.5
done
[ "$status" = 200 ] || { docker logs "$container" 2>&1 | tail -30 >&2; fail "/health/ready never answered 200 (last: $status)."; }
say "/health/ready answers 200"
# (Into a variable first: `docker logs | grep -q` fails under pipefail when grep leaves early.)
logs=$(docker logs "$container" 2>&1)
grep -q '"msg":"migrations applied"' <<<"$logs" || { tail -30 <<<"$logs" >&2; fail "the log does not show migrations applied at start."; }

health=''
for _ in $(seq 1 60); do
  health=$(docker inspect -f '{{.State.Health.Status}}' "$container")
  [ "$health" = healthy ] && break
  sleep 0.5
done
[ "$health" = healthy ] || { docker inspect -f '{{json .State.Health}}' "$container" >&2; fail "Docker's healthcheck says $health."; }
say "Docker's healthcheck: healthy"

# A client address of its own behind the trusted proxy (127.0.0.1), so repeated runs against the
# shared Redis do not exhaust the per-address registration budget.
client_ip="198.51.100.$((RANDOM % 254 + 1))"
email="smoke-$id@empulse.example"
password="smoke $(node -p 'require("node:crypto").randomBytes(12).toString("hex")') passphrase"
answer=$(curl -s -w '\n%{http_code}' -H 'content-type: application/json' -H "x-forwarded-for: $client_ip" \
  -d "{\"email\":\"$email\",\"password\":\"$password\",\"displayName\":\"Smoke Test\"}" "$base/v1/auth/register")
[ "$(tail -1 <<<"$answer")" = 202 ] || fail "register answered $(tail -1 <<<"$answer"): $(head -1 <<<"$answer")"
[ "$(head -1 <<<"$answer" | jq -r .status)" = verification_sent ] || fail "register answered $(head -1 <<<"$answer")"
say "POST /v1/auth/register: 202 verification_sent"
for _ in $(seq 1 40); do grep -qF "\"$email\"" "$work/smtp.out" && break; sleep 0.5; done
grep -qF "\"$email\"" "$work/smtp.out" || fail "no email reached $email over SMTP within 20 s."
say "its email went out over SMTP: $(grep -F "\"$email\"" "$work/smtp.out" | jq -r .subject)"

# Metrics behind the token compose.yaml mounts (METRICS_TOKEN_FILE): 401 without it, the series with it.
[ "$(curl -s -o /dev/null -w '%{http_code}' "$base/metrics")" = 401 ] || fail "/metrics answered without the token."
# (The header from a 0600 file: a token on curl's command line would show in ps.)
( umask 077; printf 'authorization: Bearer %s\n' "$(cat "$secrets/metrics_token")" >"$work/metrics.header" )
curl -sf -H @"$work/metrics.header" "$base/metrics" >"$work/metrics.out" || fail "/metrics refused the mounted token."
grep -q '^http_requests_total{method="POST",route="/v1/auth/register",status="202"} 1$' "$work/metrics.out" ||
  fail "/metrics lacks the registration: $(grep '^http_requests_total' "$work/metrics.out" | head -5)"
say "GET /metrics: 401 without the token; with it, the registration counted by route pattern"

# The operator's commands inside the running container, reading the same secret files.
# (Their answers on stdout, their log lines on stderr.)
docker exec "$container" node host/node.ts check >"$work/check.out" 2>"$work/check.err" ||
  { cat "$work/check.out" "$work/check.err" >&2; fail "empulse check inside the container failed (above)."; }
say "empulse check inside the container: $(grep -c ': ok' "$work/check.out") lines ok, none failing"
docker exec "$container" node host/node.ts users set-role "$email" admin >"$work/set-role.out" 2>"$work/set-role.err" ||
  { cat "$work/set-role.out" "$work/set-role.err" >&2; fail "users set-role inside the container failed (above)."; }
grep -q 'is now admin' "$work/set-role.out" || { cat "$work/set-role.out" >&2; fail "users set-role did not make the account an admin."; }
say "users set-role inside the container: $(head -1 "$work/set-role.out")"

# The README's backup of uploads streams /data out of the running container with tar.
docker exec "$container" tar -C /data -cf - . | tar -tf - >"$work/data.list" || fail "tar of /data in the container failed."
grep -q '^./storage/$' "$work/data.list" || fail "/data holds no storage directory: $(tr '\n' ' ' <"$work/data.list")"
say "uploads backup route: tar of /data in the container works ($(wc -l <"$work/data.list") entries)"

uid=$(docker exec "$container" id -u)
[ "$uid" != 0 ] || fail "the server runs as root."
pid1=$(docker exec "$container" cat /proc/1/cmdline | tr '\0' ' ')
case $pid1 in node\ *host/node.ts\ start*) ;; *) fail "PID 1 is \"$pid1\", not the server itself." ;; esac
say "runs as uid $uid ($(docker exec "$container" id -un)); PID 1 is the server: $pid1"
docker exec "$container" touch /app/written 2>/dev/null && fail "the server can write its own code (/app)."
[ "$(docker inspect -f '{{.HostConfig.ReadonlyRootfs}} {{.HostConfig.CapDrop}}' "$container")" = 'true [ALL]' ] ||
  fail "compose.yaml's read_only and cap_drop did not reach the container."
say "read-only filesystem (but /data and /tmp), no capabilities"

say "docker stop (SIGTERM)"
docker stop -t 30 "$container" >/dev/null
exit_code=$(docker inspect -f '{{.State.ExitCode}}' "$container")
logs=$(docker logs "$container" 2>&1)
[ "$exit_code" = 0 ] || { tail -20 <<<"$logs" >&2; fail "exit code $exit_code after SIGTERM."; }
grep -q '"msg":"shutting down"' <<<"$logs" && grep -q '"reason":"SIGTERM"' <<<"$logs" ||
  { tail -20 <<<"$logs" >&2; fail "the log does not show a SIGTERM shutdown."; }
grep -q '"msg":"kernel stopped"' <<<"$logs" || { tail -20 <<<"$logs" >&2; fail "the log does not show the plugins stopped."; }
say "stopped gracefully: exit code 0, log shows shutting down (SIGTERM) and kernel stopped"

psql_admin -c "drop database $db with (force)" >/dev/null && db=''
psql_admin -c "drop role $role" >/dev/null && role=''
say "dropped the database"

# --- 7. compose.yaml ------------------------------------------------------------------------------
dclint --max-warnings 0 compose.yaml >"$work/dclint.out" 2>&1 || { cat "$work/dclint.out" >&2; fail "dclint found problems in compose.yaml."; }
say "compose.yaml: dclint, no errors or warnings"
# The Dockerfile was validated by building it; dockerfile-utils checks it too when installed.
if [ -x node_modules/.bin/dockerfile-utils ]; then
  dockerfile-utils lint Dockerfile >"$work/dockerfile-utils.out" 2>&1 || { cat "$work/dockerfile-utils.out" >&2; fail "dockerfile-utils found problems in the Dockerfile."; }
  say "Dockerfile: dockerfile-utils lint, no problems"
fi

say "passed in $((SECONDS - started)) s"
