#!/usr/bin/env bash
# Usage: scripts/sbom.sh OUTDIR
# Writes OUTDIR/bom.json, a CycloneDX 1.6 JSON SBOM of the service (src/Cpm.Api): every NuGet package,
# direct and transitive, with version, licence and purl (build-only packages carry scope "excluded").
# Then audits the same packages with NuGet's own audit and writes OUTDIR/audit.txt, whose last line
# is the verdict. Exit 0 when the SBOM is written and no vulnerable package is known; 1 when the
# audit finds one; 2 for bad arguments. The CycloneDX tool is pinned in .config/dotnet-tools.json.
set -euo pipefail

if [ $# -ne 1 ] || [ -z "$1" ]; then
  echo "Usage: scripts/sbom.sh OUTDIR" >&2
  exit 2
fi

mkdir -p "$1"
out=$(cd "$1" && pwd)
cd "$(dirname "$0")/.."

dotnet tool restore >/dev/null
dotnet tool run dotnet-CycloneDX -- src/Cpm.Api/Cpm.Api.csproj --output "$out" --filename bom.json \
  --output-format Json --spec-version 1.6 --set-name Cpm.Api >"$out/cyclonedx.log"
echo "SBOM: $out/bom.json"

# NuGet answers "no vulnerable packages" both when there are none and when it could not get its
# advisory data. A canary with a known advisory (Newtonsoft.Json 12.0.1, GHSA-5crp-9r3c-p9vr)
# tells the two apart: if the canary is not flagged, a clean result proves nothing.
canary=$(mktemp -d)
trap 'rm -rf "$canary"' EXIT
cat >"$canary/canary.csproj" <<'XML'
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup>
    <TargetFramework>net10.0</TargetFramework>
    <NuGetAudit>false</NuGetAudit>
  </PropertyGroup>
  <ItemGroup>
    <PackageReference Include="Newtonsoft.Json" Version="12.0.1" />
  </ItemGroup>
</Project>
XML
echo '<Project />' >"$canary/Directory.Build.props"
echo '<Project />' >"$canary/Directory.Packages.props"
dotnet restore "$canary/canary.csproj" >/dev/null
canary_report=$(dotnet list "$canary/canary.csproj" package --vulnerable --format json)

report=$(dotnet list src/Cpm.Api/Cpm.Api.csproj package --vulnerable --include-transitive --format json)
vulnerable=$(grep -c '"vulnerabilities"' <<<"$report" || true)
{
  echo "$report"
  if [ "$vulnerable" -gt 0 ]; then
    echo "audit: VULNERABLE: packages with known advisories are listed above"
  elif ! grep -q '"vulnerabilities"' <<<"$canary_report"; then
    echo "audit: UNVERIFIED: NuGet's advisory data could not be reached (a known-vulnerable canary was not flagged); no result"
  else
    echo "audit: clean: no package has a known advisory"
  fi
} >"$out/audit.txt"
tail -n 1 "$out/audit.txt"
[ "$vulnerable" -eq 0 ]
