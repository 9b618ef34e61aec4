#!/usr/bin/env bash
# Usage: deploy/container/check-offline.sh APPDIR
# What can be checked of the container image without its base image (whose registry these
# machines cannot reach): that the published app in APPDIR starts and answers on port 8080 as the
# image's non-root user (UID 1654, the .NET images' "app"), with the whole root filesystem
# read-only and only a scratch temp folder writable, as deploy/aws/cpm.yaml runs it. It runs in
# private mount and network namespaces (root and util-linux's unshare needed), so port 8080 is the
# namespace's own and nothing outside changes. Exit 0 when every check passes.
set -euo pipefail

if [ $# -ne 1 ] || [ ! -f "$1/Cpm.Api.dll" ]; then
  echo "Usage: deploy/container/check-offline.sh APPDIR (a folder with the published Cpm.Api.dll)" >&2
  exit 2
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "check-offline.sh needs root, for the namespaces and to drop to UID 1654" >&2
  exit 2
fi

app=$(cd "$1" && pwd)
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
chmod 1777 "$scratch"

unshare --mount --net bash -euo pipefail -s "$app" "$scratch" "$(command -v dotnet)" <<'INSIDE'
app=$1 scratch=$2 dotnet=$3
ip link set lo up
mount --make-rprivate /
mount --bind "$scratch" "$scratch"
mount -o remount,bind,ro /

if touch "$app/written" 2>/dev/null; then
  echo "FAIL: the root filesystem is still writable" >&2
  exit 1
fi

# As the image runs it: the app's folder as working directory, the container's port variable, no
# HOME to write to, and TMPDIR the only writable place (the task definition's /tmp volume).
cd "$app"
setpriv --reuid=1654 --regid=1654 --clear-groups \
  env -i PATH=/usr/bin:/bin HOME=/nonexistent TMPDIR="$scratch" ASPNETCORE_HTTP_PORTS=8080 \
    "$dotnet" Cpm.Api.dll --Auth:ApiKeys:0=offline-check-key --Storage:Sqlite:Path="$scratch/cpm.db" \
    --Ods:BaseUrl=http://127.0.0.1:9/ORD/2-0-0/organisations >"$scratch/service.log" 2>&1 &
service=$!
trap 'kill "$service" 2>/dev/null || true' EXIT

for _ in $(seq 1 60); do
  if curl -fsS -o /dev/null http://127.0.0.1:8080/_ping 2>/dev/null; then
    break
  fi
  if ! kill -0 "$service" 2>/dev/null; then
    echo "FAIL: the service exited:" >&2
    cat "$scratch/service.log" >&2
    exit 1
  fi
  sleep 0.5
done

status=0
check() {
  if "$@"; then echo "ok: ${DESCRIPTION}"; else echo "FAIL: ${DESCRIPTION}" >&2; status=1; fi
}
DESCRIPTION="answers /_ping on port 8080" check curl -fsS -o /dev/null http://127.0.0.1:8080/_ping
DESCRIPTION="answers /_status with storage on port 8080" check curl -fsS -o /dev/null -H 'apikey: offline-check-key' http://127.0.0.1:8080/_status
DESCRIPTION="serves the UI from its read-only folder" check curl -fsS -o /dev/null http://127.0.0.1:8080/ui/
DESCRIPTION="serves the API docs" check curl -fsS -o /dev/null http://127.0.0.1:8080/docs/
DESCRIPTION="runs as UID 1654, not root" check test "$(awk '/^Uid:/ { print $2 }' "/proc/$service/status")" = 1654
DESCRIPTION="wrote nothing into its own folder" check test ! -e "$app/cpm.db"

if [ "$status" -ne 0 ]; then
  cat "$scratch/service.log" >&2
fi
exit "$status"
INSIDE
