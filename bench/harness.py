#!/usr/bin/env python3
"""Load benchmark of the CPM service against a same-run baseline (see docs/PERFORMANCE.md).

Starts the published service (SQLite store in a temp folder, or DynamoDB on a local moto with
--store dynamodb; a fake ODS on loopback) and the baseline app on free loopback ports, seeds a
register through the HTTP API, then drives each scenario with wrk against the baseline and the service in alternation, so drift on this shared
machine hits both. Prints one Markdown table. Everything it starts binds 127.0.0.1 and is
stopped when it ends (and dies with it, if it is killed).
"""
import argparse
import concurrent.futures
import ctypes
import http.client
import json
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
LUA = os.path.join(HERE, "wrk", "scenario.lua")
API_KEY = "bench-" + uuid.uuid4().hex
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
CORES = os.cpu_count() or 1

# Organisations whose searches answer 10 and 50 products; the rest of the register is made of them.
SMALL_ORG_PRODUCTS = 10
LARGE_ORG_TEAMS, LARGE_ORG_TEAM_PRODUCTS = 2, 25
WRITE_TEAMS = 64
CACHED_ODS_CODE = "BENCHCACHED"
# moto is one Python process answering one request at a time: it seeds about 25 products a second and reads
# every row for an index query, so the DynamoDB run gets a small register, and few connections, since more
# would only queue in moto (and leave a backlog that runs into the next measurement).
DEFAULT_PRODUCTS = {"sqlite": 100_000, "dynamodb": 2_000}
DEFAULT_CONNECTIONS = {"sqlite": 64, "dynamodb": 8}


def die_with_parent():
    """Children get SIGTERM if the harness dies, so nothing outlives a killed run."""
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def request(conn, method, path, body=None):
    headers = {"apikey": API_KEY, "version": "1"}
    if body is not None:
        body = json.dumps(body)
        headers["Content-Type"] = "application/json"
    conn.request(method, path, body=body, headers=headers)
    response = conn.getresponse()
    return response.status, response.read()


def wait_for_port(port, timeout):
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.01)
    raise RuntimeError(f"nothing listens on port {port} after {timeout} s")


def wait_for(port, path, timeout):
    """Seconds from now until path answers 200 (polled every 2 ms), or raises."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            status, _ = request(conn, "GET", path)
            conn.close()
            if status == 200:
                return time.monotonic() - started
        except OSError:
            pass
        time.sleep(0.002)
    raise RuntimeError(f"no 200 from {path} on port {port} within {timeout} s")


class Process:
    """A child process whose CPU time and memory can be read from /proc."""

    def __init__(self, name, args, log_path, env=None, cwd=None, stdin=None):
        self.name = name
        self.log_path = log_path
        self.log = open(log_path, "ab")
        self.started = time.monotonic()
        self.popen = subprocess.Popen(args, stdin=stdin, stdout=self.log, stderr=subprocess.STDOUT, env=env, cwd=cwd,
                                      preexec_fn=die_with_parent)

    @property
    def pid(self):
        return self.popen.pid

    def cpu_seconds(self):
        with open(f"/proc/{self.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS

    def memory_mb(self, field="VmRSS"):
        with open(f"/proc/{self.pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024
        return float("nan")

    def take_log_errors(self):
        """Error lines logged since the last call; the log is then emptied so it cannot fill the disk."""
        self.log.flush()
        with open(self.log_path, "rb") as f:
            errors = [line for line in f if b'"LogLevel":"Error"' in line or b'"LogLevel":"Critical"' in line]
        os.truncate(self.log_path, 0)
        return errors

    def stop(self):
        if self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(10)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()
        if self.popen.stdin:
            self.popen.stdin.close()
        self.log.close()


def busy_seconds():
    """CPU seconds spent busy (not idle, not waiting for I/O) by all cores since boot."""
    with open("/proc/stat") as f:
        values = [int(v) for v in f.readline().split()[1:]]
    return (sum(values[:8]) - values[3] - values[4]) / CLOCK_TICKS


def machine():
    """nproc, CPU model and memory, for the report."""
    with open("/proc/cpuinfo") as f:
        model = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), "unknown CPU")
    with open("/proc/meminfo") as f:
        memory_kb = int(next(line.split()[1] for line in f if line.startswith("MemTotal:")))
    return f"{CORES} cores ({model}), {memory_kb / 1024 / 1024:.0f} GiB memory"


def loadavg():
    with open("/proc/loadavg") as f:
        return float(f.read().split()[0])


# --- the stores -------------------------------------------------------------------------------

# The tests' moto launcher, so both run the same moto: requests serialised (moto's transactions are not
# atomic under concurrent requests), transactions and queries costing what they touch rather than the whole
# table. It exits when its standard input closes.
MOTO_LAUNCHER = os.path.join(HERE, "..", "tests", "Cpm.Api.Tests", "Infrastructure", "moto_launcher.py")
DYNAMODB_TABLE = "cpm-bench"
# moto does not check credentials, but the service signs its requests: fixed dummies (the caller's AWS_*
# variables are not passed on), and the region moto keeps the table in.
DYNAMODB_ENV = {"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "AWS_REGION": "us-east-1"}


def start_store(store, workdir, start):
    """Starts what the store needs; returns the service's settings, its extra environment and the store's
    own process (moto), if any."""
    if store == "sqlite":
        return [f"--Storage:Sqlite:Path={os.path.join(workdir, 'cpm.db')}"], {}, None
    port = free_port()
    moto = start("moto", [sys.executable, MOTO_LAUNCHER, "-H", "127.0.0.1", "-p", str(port)],
                 stdin=subprocess.PIPE)
    wait_for(port, "/moto-api/", 60)
    # The service creates the table with its two indexes at start-up (CreateTable), as the tests do.
    settings = ["--Storage:Provider=DynamoDb", f"--Storage:DynamoDb:TableName={DYNAMODB_TABLE}",
                f"--Storage:DynamoDb:ServiceUrl=http://127.0.0.1:{port}", "--Storage:DynamoDb:CreateTable=true"]
    return settings, DYNAMODB_ENV, moto


# --- seeding ----------------------------------------------------------------------------------

class Seeder:
    """Creates teams and products through the API from many threads, each on its own keep-alive connection."""

    def __init__(self, port, threads):
        self.port = port
        self.threads = threads
        self.local = threading.local()

    def _conn(self):
        if not hasattr(self.local, "conn"):
            self.local.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        return self.local.conn

    def _post(self, path, body, expect=201):
        status, answer = request(self._conn(), "POST", path, body)
        if status != expect:
            raise RuntimeError(f"POST {path} answered {status}: {answer[:300]!r}")
        return json.loads(answer)

    def team(self, spec):
        ods_code, alias = spec
        body = {"name": f"Bench Team {ods_code}", "ods_code": ods_code,
                "keys": [{"key_type": "product_team_id", "key_value": alias}]}
        return self._post("/ProductTeam", body)["id"]

    def product(self, spec):
        team_id, number = spec
        return self._post(f"/ProductTeam/{team_id}/Product", {"name": f"Seed product {number}"})["id"]

    def map(self, function, specs):
        with concurrent.futures.ThreadPoolExecutor(self.threads) as pool:
            return list(pool.map(function, specs, chunksize=64))


# Product ids as the service draws them: P.XXX-XXX from this alphabet.
PRODUCT_ID_ALPHABET = "ACDEFGHJKLMNPRTUVWXY34679"


def register(products):
    """The register's shape: organisations of 10 and of 50 products, totalling `products`. Returns the team
    specs (ODS code, alias) of the register, those of the teams that take the POST load, and the products as
    (index of their team, number within it), shuffled: products of one team arrive interleaved with
    others', as in life."""
    small_orgs = products // 2 // SMALL_ORG_PRODUCTS
    large_orgs = (products - small_orgs * SMALL_ORG_PRODUCTS) // (LARGE_ORG_TEAMS * LARGE_ORG_TEAM_PRODUCTS)
    team_specs = [(f"S{i:06d}", str(uuid.uuid4())) for i in range(small_orgs)]
    team_specs += [(f"L{i:06d}", str(uuid.uuid4())) for i in range(large_orgs) for _ in range(LARGE_ORG_TEAMS)]
    write_specs = [("BENCHW", str(uuid.uuid4())) for _ in range(WRITE_TEAMS)] + [(CACHED_ODS_CODE, str(uuid.uuid4()))]
    product_specs = [(i, n) for i in range(small_orgs) for n in range(SMALL_ORG_PRODUCTS)]
    product_specs += [(i, n) for i in range(small_orgs, len(team_specs)) for n in range(LARGE_ORG_TEAM_PRODUCTS)]
    random.Random(1).shuffle(product_specs)
    return small_orgs, large_orgs, team_specs, write_specs, product_specs


def seed_http(port, products, threads):
    """Creates the register through the API; returns the team ids (in spec order), the product ids and the specs."""
    seeder = Seeder(port, threads)
    started = time.monotonic()
    small_orgs, large_orgs, team_specs, write_specs, product_specs = register(products)
    team_ids = seeder.map(seeder.team, team_specs + write_specs)
    teams_done = time.monotonic()
    product_ids = seeder.map(seeder.product, [(team_ids[team], n) for team, n in product_specs])
    done = time.monotonic()
    print(f"seeded {len(team_ids)} teams in {teams_done - started:.1f} s and {len(product_ids)} products "
          f"in {done - teams_done:.1f} s ({len(product_ids) / (done - teams_done):.0f}/s)", flush=True)
    return team_ids, product_ids, (small_orgs, large_orgs, team_specs)


def python_time(seconds):
    """A timestamp as the service writes it (Python's isoformat of an aware UTC datetime, microseconds)."""
    whole = int(seconds)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole)) + f".{int((seconds - whole) * 1e6):06d}+00:00"


def write_export(path, products):
    """Writes the register as an export file (what GET /Export gives and the import verb loads): teams and
    products with their versions, ordered by id as an export orders them, then one created event for each,
    in the order they were created. Returns the team ids (in spec order), the product ids and the specs."""
    small_orgs, large_orgs, team_specs, write_specs, product_specs = register(products)
    specs = team_specs + write_specs
    team_ids = [str(uuid.uuid4()) for _ in specs]
    draw = random.Random(3)
    product_ids, seen = [], set()
    while len(product_ids) < len(product_specs):
        letters = "".join(draw.choice(PRODUCT_ID_ALPHABET) for _ in range(6))
        product_id = f"P.{letters[:3]}-{letters[3:]}"
        if product_id not in seen:
            seen.add(product_id)
            product_ids.append(product_id)
    start = time.time() - 86400
    team_times = [python_time(start + i / 1000) for i in range(len(specs))]
    product_times = [python_time(start + 3600 + i / 1000) for i in range(len(product_specs))]
    dumps = json.dumps
    with open(path, "w") as f:
        for i in sorted(range(len(specs)), key=team_ids.__getitem__):
            (ods_code, alias), created = specs[i], team_times[i]
            f.write(dumps({"kind": "product_team", "id": team_ids[i], "name": f"Bench Team {ods_code}", "ods_code": ods_code,
                           "status": "active", "created_on": created, "updated_on": None, "deleted_on": None,
                           "keys": [{"key_type": "product_team_id", "key_value": alias}], "version": 1}) + "\n")
        for i in sorted(range(len(product_specs)), key=product_ids.__getitem__):
            team, number = product_specs[i]
            f.write(dumps({"kind": "product", "id": product_ids[i], "cpm_product_team_id": team_ids[team],
                           "product_team_id": specs[team][1], "name": f"Seed product {number}", "ods_code": specs[team][0],
                           "status": "active", "created_on": product_times[i], "updated_on": None, "deleted_on": None,
                           "version": 1}) + "\n")
        for i, (ods_code, alias) in enumerate(specs):
            f.write(dumps({"kind": "event", "event_id": str(uuid.uuid4()), "entity_type": "product_team", "entity_id": team_ids[i],
                           "type": "ProductTeamCreated", "occurred_on": team_times[i], "version": 1, "request_id": None,
                           "correlation_id": None, "actor": "apikey-0",
                           "changes": [{"field": "name", "old": None, "new": f"Bench Team {ods_code}"},
                                       {"field": "ods_code", "old": None, "new": ods_code},
                                       {"field": "status", "old": None, "new": "active"},
                                       {"field": "product_team_id", "old": None, "new": alias}]}) + "\n")
        for i, (team, number) in enumerate(product_specs):
            f.write(dumps({"kind": "event", "event_id": str(uuid.uuid4()), "entity_type": "product", "entity_id": product_ids[i],
                           "type": "ProductCreated", "occurred_on": product_times[i], "version": 1, "request_id": None,
                           "correlation_id": None, "actor": "apikey-0",
                           "changes": [{"field": "name", "old": None, "new": f"Seed product {number}"},
                                       {"field": "cpm_product_team_id", "old": None, "new": team_ids[team]},
                                       {"field": "status", "old": None, "new": "active"}]}) + "\n")
    return team_ids, product_ids, (small_orgs, large_orgs, team_specs)


def seed_import(service_dll, store_args, env, cwd, products, workdir):
    """Writes an export file of the register and loads it with the service's import verb (service stopped)."""
    path = os.path.join(workdir, "register.ndjson")
    started = time.monotonic()
    seeded = write_export(path, products)
    written = time.monotonic()
    imported = subprocess.run(["dotnet", service_dll, "import", path, f"--Auth:ApiKeys:0={API_KEY}", *store_args],
                              env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, preexec_fn=die_with_parent)
    done = time.monotonic()
    if imported.returncode != 0:
        raise RuntimeError(f"import failed ({imported.returncode}): {imported.stdout[-3000:].decode(errors='replace')}")
    size_mb = os.path.getsize(path) / 1e6
    os.remove(path)
    print(f"wrote an export of {len(seeded[0])} teams and {len(seeded[1])} products ({size_mb:.0f} MB) in "
          f"{written - started:.1f} s; imported it in {done - written:.1f} s ({len(seeded[1]) / (done - written):,.0f} products/s, "
          f"with {len(seeded[0]) + len(seeded[1])} events): {imported.stdout.decode(errors='replace').strip()}", flush=True)
    return seeded


def wrk_inputs(team_ids, product_ids, shape, workdir):
    """The files wrk reads its paths from; returns their paths and contents."""
    small_orgs, large_orgs, team_specs = shape

    sample = random.Random(2)
    files = {
        "products": [f"/Product/{pid}" for pid in sample.sample(product_ids, min(10_000, len(product_ids)))],
        "aliases": [f"/ProductTeam/{alias}" for _, alias in sample.sample(team_specs, min(10_000, len(team_specs)))],
        "search10": [f"/Product?organisation_code=S{i:06d}" for i in sample.sample(range(small_orgs), min(1000, small_orgs))],
        "search50": [f"/Product?organisation_code=L{i:06d}" for i in sample.sample(range(large_orgs), min(1000, large_orgs))],
        "writes": [f"/ProductTeam/{team_id}/Product" for team_id in team_ids[len(team_specs):len(team_specs) + WRITE_TEAMS]],
    }
    paths = {}
    for name, lines in files.items():
        paths[name] = os.path.join(workdir, name + ".txt")
        with open(paths[name], "w") as f:
            f.write("\n".join(lines) + "\n")
    return paths, files


# --- scenarios --------------------------------------------------------------------------------

class Scenario:
    def __init__(self, name, wrk_args, check, expect_status, ratio_target=None, p99_target_ms=None):
        self.name = name
        self.wrk_args = wrk_args  # callable(run number) -> arguments for scenario.lua
        self.check = check  # (method, path, body) sent once before the runs
        self.expect_status = expect_status
        self.ratio_target = ratio_target
        self.p99_target_ms = p99_target_ms


def scenarios(files, paths, prefix, products):
    register = f"{products / 1000:g}k" if products >= 1000 else str(products)
    return [
        Scenario("GET product by id", lambda _: ["paths", paths["products"]],
                 ("GET", files["products"][0], None), 200, ratio_target=0.5, p99_target_ms=5),
        Scenario("GET team by alias", lambda _: ["paths", paths["aliases"]],
                 ("GET", files["aliases"][0], None), 200, ratio_target=0.5, p99_target_ms=5),
        Scenario(f"search org, 10 of {register}", lambda _: ["paths", paths["search10"]],
                 ("GET", files["search10"][0], None), 200),
        Scenario(f"search org, 50 of {register}", lambda _: ["paths", paths["search50"]],
                 ("GET", files["search50"][0], None), 200, p99_target_ms=20),
        Scenario("POST product", lambda _: ["products", paths["writes"]],
                 ("POST", files["writes"][0], {"name": "check"}), 201, ratio_target=0.2),
        Scenario("POST team, ODS lookup", lambda run: ["teams", f"{prefix}R{run}"],
                 ("POST", "/ProductTeam", {"name": "check", "ods_code": f"{prefix}CHECK"}), 201),
        Scenario("POST team, ODS cached", lambda _: ["teams-cached", CACHED_ODS_CODE],
                 ("POST", "/ProductTeam", {"name": "check", "ods_code": CACHED_ODS_CODE}), 201),
    ]


def run_wrk(port, duration, connections, threads, script_args, target, ours, store=None):
    """One wrk run; also the target's (and its store process's) CPU time per request, and how much CPU
    the rest of the machine took meanwhile, as a share of all cores."""
    args = ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{duration}s", "--timeout", "10s",
            "-s", LUA, f"http://127.0.0.1:{port}", "--", *script_args]
    env = dict(os.environ, BENCH_API_KEY=API_KEY)
    busy_before, ours_before, wall_before = busy_seconds(), sum(p.cpu_seconds() for p in ours), time.monotonic()
    target_before = target.cpu_seconds()
    store_before = store.cpu_seconds() if store else 0.0
    wrk = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, preexec_fn=die_with_parent)
    output = wrk.stdout.read().decode()
    _, status, usage = os.wait4(wrk.pid, 0)
    wall = time.monotonic() - wall_before
    target_cpu = target.cpu_seconds() - target_before
    store_cpu = store.cpu_seconds() - store_before if store else 0.0
    ours = sum(p.cpu_seconds() for p in ours) - ours_before + usage.ru_utime + usage.ru_stime
    foreign = max(0.0, busy_seconds() - busy_before - ours) / (wall * CORES)
    lines = [line for line in output.splitlines() if line.startswith("RESULT ")]
    if status != 0 or not lines:
        raise RuntimeError(f"wrk failed: {output}")
    result = json.loads(lines[-1][len("RESULT "):])
    result["rps"] = result["requests"] / (result["duration_us"] / 1e6)
    result["foreign_cpu"] = foreign
    result["cpu_us"] = target_cpu * 1e6 / max(1, result["requests"])
    result["store_cpu_us"] = store_cpu * 1e6 / max(1, result["requests"])
    return result


def wait_idle(process, timeout):
    """Waits until process has used under 10% of a core for 200 ms: requests wrk abandoned at the end of a
    run are still queued in moto, and would otherwise be served during the next run."""
    deadline = time.monotonic() + timeout
    before = process.cpu_seconds()
    while time.monotonic() < deadline:
        time.sleep(0.2)
        now = process.cpu_seconds()
        if now - before < 0.02:
            return
        before = now
    print(f"{process.name} still busy after {timeout} s; measuring anyway", flush=True)


def check(port, scenario):
    method, path, body = scenario.check
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    status, answer = request(conn, method, path, body)
    conn.close()
    if status != scenario.expect_status:
        raise RuntimeError(f"{scenario.name}: {method} {path} answered {status}: {answer[:300]!r}")
    return answer


# --- the table --------------------------------------------------------------------------------

def ms(us):
    return f"{us / 1000:.2f} ms"


def verdict(ok):
    return "met" if ok else "MISSED"


def report(rows, startup, restart, peak_rss, load_before, load_after, options):
    # The targets are the SQLite store's. On moto, one Python process serving every call, they would
    # measure moto, so that run reports its figures as context and moto's own CPU beside the service's.
    targeted = options.store == "sqlite"
    moto = options.store == "dynamodb"
    lines = [
        f"{options.store}, {options.connections} connections, {options.threads} wrk threads, "
        f"{options.duration} s per run, {options.rounds} round(s) alternating baseline and service, "
        f"{options.products} products in the register (seeded by {options.seed}), fake ODS delay {options.ods_delay_ms} ms; "
        f"{machine()}, load average {load_before:.2f} before and {load_after:.2f} after"
        + (f"; service settings: {', '.join(options.service_setting)}" if options.service_setting else ""),
        "",
        "| scenario | req/s | p50 | p99 | baseline req/s | ratio to baseline | baseline p99 | service RSS after (max) | "
        f"CPU/request service, {'moto, ' if moto else ''}baseline | others' CPU | {'targets' if targeted else 'failures'} |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for row in rows:
        s = row["service"]
        targets = []
        if targeted and row["scenario"].ratio_target is not None:
            targets.append(f"ratio ≥ {row['scenario'].ratio_target:.0%} {verdict(row['ratio'] >= row['scenario'].ratio_target)}")
        if targeted and row["scenario"].p99_target_ms is not None:
            targets.append(f"p99 < {row['scenario'].p99_target_ms} ms {verdict(s['p99_us'] < row['scenario'].p99_target_ms * 1000)}")
        errors = s["status_errors"] + s["socket_errors"]
        if errors or row["log_errors"]:
            targets.append(f"{errors} failed requests, {row['log_errors']} error log lines")
        moto_cpu = f"{s['store_cpu_us']:.0f} µs, " if moto else ""
        lines.append(
            f"| {row['scenario'].name} | {s['rps']:,.0f} | {ms(s['p50_us'])} | {ms(s['p99_us'])} | "
            f"{row['baseline']['rps']:,.0f} | {row['ratio']:.0%} | {ms(row['baseline']['p99_us'])} | {row['rss']:.0f} MB | "
            f"{s['cpu_us']:.0f} µs, {moto_cpu}{row['baseline']['cpu_us']:.0f} µs | {s['foreign_cpu']:.0%} | "
            f"{'; '.join(targets)} |")
    rss_after = max(row["rss"] for row in rows)
    lines += [
        "",
        f"- start-up to first 200 from /_status: {startup * 1000:.0f} ms on an empty store"
        f"{' (creating the table in moto)' if moto else ''}, {restart * 1000:.0f} ms on restart with the seeded store"
        + (f" (target < 1 s: {verdict(max(startup, restart) < 1)})" if targeted else ""),
        f"- service RSS: at most {rss_after:.0f} MB after any run (largest over every round of every scenario), peak {peak_rss:.0f} MB"
        + (f" (target < 200 MB after the run: {verdict(rss_after < 200)})" if targeted else ""),
        "- req/s, latency and CPU/request are the median of the rounds, RSS after the run the largest; CPU/request is the server process's "
        + ("(and moto's, during the service's runs) " if moto else "")
        + "user+system time over the run divided by the requests it answered; others' CPU is the share of all "
        "cores used during the service's runs by processes other than ours (service, baseline, fake ODS, "
        + ("moto, " if moto else "") + "wrk)",
    ]
    if moto:
        lines.append("- moto (in-memory, one Python process, requests serialised by the tests' launcher) stands in "
                     "for DynamoDB: these figures are context, not targets")
    return "\n".join(lines)


# --- webhook drain (its own run: --only "webhook drain") -------------------------------------

WEBHOOK_DRAIN = "webhook drain"


class DrainReceiver:
    """A fast webhook receiver on loopback: answers 200 at once, checks each signature, keeps the event ids."""

    def __init__(self, secret):
        import hashlib
        import hmac
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        receiver = self
        self.lock = threading.Lock()
        self.received = []  # (monotonic time, event id)
        self.bad_signatures = 0

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
                event_id = json.loads(body)["event_id"]
                with receiver.lock:
                    receiver.received.append((time.monotonic(), event_id))
                    receiver.bad_signatures += self.headers.get("X-Cpm-Signature") != expected
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_):
                pass

        ThreadingHTTPServer.daemon_threads = True
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def webhook_drain(options, start, store_args, store_env, ods_port):
    """A backlog of --events events waiting for a subscription, drained by a node that starts on it.

    A first node (delivery off) takes the subscription through POST /Webhooks and the writes; a
    second node on the same store, with delivery on, then takes the lease and drains the backlog to
    DrainReceiver. Prints the drain rate, from the first event received to the last."""
    import hashlib
    admin_key = "bench-admin-" + uuid.uuid4().hex
    secret = "bench-secret-" + uuid.uuid4().hex
    receiver = DrainReceiver(secret)
    env = dict({k: v for k, v in os.environ.items() if not (store_env and k.startswith("AWS_"))},
               ASPNETCORE_ENVIRONMENT="Production", DOTNET_CLI_TELEMETRY_OPTOUT="1", **store_env)
    service_dir = os.path.dirname(os.path.abspath(options.service))

    def node(name, deliver):
        port = free_port()
        args = ["dotnet", os.path.abspath(options.service), f"--urls=http://127.0.0.1:{port}",
                f"--Auth:ApiKeys:0={API_KEY}", f"--Ods:BaseUrl=http://127.0.0.1:{ods_port}",
                "--Auth:Clients:0:Name=bench-admin", f"--Auth:Clients:0:KeyHash={hashlib.sha256(admin_key.encode()).hexdigest()}",
                "--Auth:Clients:0:Scopes:0=admin", "--Auth:Clients:0:Scopes:1=read",
                f"--Webhooks:Deliver={str(deliver).lower()}", "--Webhooks:LeasePollInterval=00:00:00.100",
                *store_args, *(f"--{setting}" for setting in options.service_setting)]
        process = start(name, args, env, service_dir)
        wait_for(port, "/_status", 60)
        return process, port

    def admin(port, method, path, body=None):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        headers = {"apikey": admin_key, "version": "1", "Content-Type": "application/json"}
        conn.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
        response = conn.getresponse()
        answer = response.status, json.loads(response.read())
        conn.close()
        return answer

    try:
        writer, writer_port = node("service-writer", deliver=False)
        status, subscription = admin(writer_port, "POST", "/Webhooks", {"url": receiver.url, "secret": secret})
        if status != 201:
            raise RuntimeError(f"POST /Webhooks answered {status}: {subscription}")
        seeder = Seeder(writer_port, options.seed_threads)
        began = time.monotonic()
        seeder.map(seeder.team, [(f"D{i % 100:03d}", str(uuid.uuid4())) for i in range(options.events)])
        print(f"wrote a backlog of {options.events} events in {time.monotonic() - began:.1f} s", flush=True)
        _, state = admin(writer_port, "GET", f"/Webhooks/{subscription['id']}")
        backlog = state["pending"]
        writer.stop()

        cpu_before = busy_seconds()
        started = time.monotonic()
        deliverer, deliverer_port = node("service-deliverer", deliver=True)
        while True:
            _, state = admin(deliverer_port, "GET", f"/Webhooks/{subscription['id']}")
            if state["pending"] == 0:
                break
            if time.monotonic() - started > 600:
                raise RuntimeError(f"the backlog did not drain in 600 s: {state}")
            time.sleep(0.05)
        drained = time.monotonic()
        cpu = busy_seconds() - cpu_before
        with receiver.lock:
            received = list(receiver.received)
            bad = receiver.bad_signatures
        distinct = len({event_id for _, event_id in received})
        first, last = received[0][0], received[-1][0]
        rate = distinct / (last - first) if last > first else float("nan")
        print(f"{WEBHOOK_DRAIN} ({options.store}): {backlog} events pending, {distinct} delivered ({len(received) - distinct} "
              f"repeats, {bad} bad signatures); {rate:,.0f} events/s from the first received to the last "
              f"({last - first:.2f} s); {drained - started:.1f} s from the delivering node's start until nothing was "
              f"pending; machine CPU busy {cpu / CORES / (drained - started):.0%} meanwhile", flush=True)
        deliverer.stop()
    finally:
        receiver.stop()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--service", required=True, help="the published Cpm.Api.dll")
    parser.add_argument("--baseline", required=True, help="the published Baseline.dll")
    parser.add_argument("--store", default="sqlite", choices=["sqlite", "dynamodb"])
    parser.add_argument("--duration", type=int, default=15, help="seconds per measured run")
    parser.add_argument("--warmup", type=int, default=3, help="seconds of unmeasured load per scenario and app")
    parser.add_argument("--rounds", type=int, default=2,
                        help="measured runs per scenario and app, alternated (baseline first, then service first, ...)")
    parser.add_argument("--connections", type=int,
                        help=f"wrk connections (default {DEFAULT_CONNECTIONS['sqlite']} on sqlite, "
                             f"{DEFAULT_CONNECTIONS['dynamodb']} on dynamodb)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--products", type=int,
                        help=f"products in the register (default {DEFAULT_PRODUCTS['sqlite']:,} on sqlite, "
                             f"{DEFAULT_PRODUCTS['dynamodb']:,} on dynamodb)")
    parser.add_argument("--seed", choices=["import", "http"],
                        help="how the register is seeded: an export file loaded with the import verb before the service "
                             "starts (default on sqlite), or POSTs through the API (default on dynamodb)")
    parser.add_argument("--seed-threads", type=int, default=32, help="client threads seeding through the API")
    parser.add_argument("--ods-delay-ms", type=float, default=0.0)
    parser.add_argument("--only", help=f"run only scenarios whose name contains this text (\"{WEBHOOK_DRAIN}\": only that one)")
    parser.add_argument("--events", type=int, default=5000, help=f"the backlog of the {WEBHOOK_DRAIN} scenario")
    parser.add_argument("--service-setting", action="append", default=[], metavar="KEY=VALUE",
                        help="extra configuration for the service, e.g. Logging:LogLevel:Default=Warning")
    parser.add_argument("--out", help="also write the table to this file")
    options = parser.parse_args()
    if options.products is None:
        options.products = DEFAULT_PRODUCTS[options.store]
    if options.seed is None:
        options.seed = "import" if options.store == "sqlite" else "http"
    if options.connections is None:
        options.connections = DEFAULT_CONNECTIONS[options.store]

    workdir = tempfile.mkdtemp(prefix="cpm-bench-")
    processes = []

    def start(name, args, env=None, cwd=None, stdin=None):
        process = Process(name, args, os.path.join(workdir, name + ".log"), env, cwd, stdin)
        processes.append(process)
        return process

    # SIGTERM (e.g. from a time limit) unwinds through the finally below, like Ctrl-C does.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        load_before = loadavg()
        ods_port = free_port()
        start("ods", [sys.executable, os.path.join(HERE, "fake_ods.py"), f"--port={ods_port}",
                      f"--delay-ms={options.ods_delay_ms}", "--max-seconds=7200"])
        wait_for_port(ods_port, 10)

        store_args, store_env, store = start_store(options.store, workdir, start)
        if options.only and WEBHOOK_DRAIN in options.only.lower():
            return webhook_drain(options, start, store_args, store_env, ods_port)
        env = dict(os.environ, ASPNETCORE_ENVIRONMENT="Production", DOTNET_CLI_TELEMETRY_OPTOUT="1")
        service_port, baseline_port = free_port(), free_port()
        service_args = ["dotnet", os.path.abspath(options.service), f"--urls=http://127.0.0.1:{service_port}",
                        f"--Auth:ApiKeys:0={API_KEY}", f"--Ods:BaseUrl=http://127.0.0.1:{ods_port}",
                        *store_args, *(f"--{setting}" for setting in options.service_setting)]
        env_service = dict({k: v for k, v in env.items() if not (store_env and k.startswith("AWS_"))}, **store_env)
        # Each app runs from its publish folder, as deployed, so its appsettings.json applies.
        service_dir = os.path.dirname(os.path.abspath(options.service))
        service = start("service", service_args, env_service, service_dir)
        wait_for(service_port, "/_status", 30)
        startup = time.monotonic() - service.started
        print(f"service answered /_status after {startup * 1000:.0f} ms", flush=True)
        baseline = start("baseline", ["dotnet", os.path.abspath(options.baseline), f"--urls=http://127.0.0.1:{baseline_port}"],
                         env, os.path.dirname(os.path.abspath(options.baseline)))
        wait_for(baseline_port, "/", 30)

        if options.seed == "import":
            service.stop()
            processes.remove(service)
            seeded = seed_import(os.path.abspath(options.service), store_args, env_service, service_dir, options.products, workdir)
            service = start("service-seeded", service_args, env_service, service_dir)
            print(f"service answered /_status after {wait_for(service_port, '/_status', 30) * 1000:.0f} ms on the imported store", flush=True)
        else:
            seeded = seed_http(service_port, options.products, options.seed_threads)
        paths, files = wrk_inputs(*seeded, workdir)
        prefix = "B" + uuid.uuid4().hex[:6].upper()
        rows = []
        for scenario in scenarios(files, paths, prefix, options.products):
            if options.only and options.only.lower() not in scenario.name.lower():
                continue
            check(service_port, scenario)
            service.take_log_errors()
            runs = {"service": [], "baseline": []}
            plan = [("baseline", baseline_port, baseline), ("service", service_port, service)]
            for phase in range(options.rounds + 1):
                for app, port, process in plan if phase % 2 == 0 else reversed(plan):
                    duration = options.warmup if phase == 0 else options.duration
                    result = run_wrk(port, duration, options.connections, options.threads,
                                     scenario.wrk_args(f"{phase}{app[0]}"), process, processes,
                                     store if app == "service" else None)
                    if phase > 0:
                        runs[app].append(result)
                        if app == "service":
                            result["rss"] = service.memory_mb()
                    if store and app == "service":
                        wait_idle(store, 60)
            log_errors = service.take_log_errors()
            merged = {}
            for app, results in runs.items():
                merged[app] = {key: statistics.median(r[key] for r in results) for key in results[0]}
            # RSS is the largest after any round, not the median: the target holds for every run.
            row = {"scenario": scenario, "service": merged["service"], "baseline": merged["baseline"],
                   "ratio": merged["service"]["rps"] / merged["baseline"]["rps"], "rss": max(r["rss"] for r in runs["service"]),
                   "log_errors": len(log_errors)}
            rows.append(row)
            if row["log_errors"]:
                print(f"{scenario.name}: first error log line: {log_errors[0][:500].decode(errors='replace')}", flush=True)
            print(f"{scenario.name}: {row['service']['rps']:,.0f} req/s (baseline {row['baseline']['rps']:,.0f}, "
                  f"{row['ratio']:.0%}), p50 {ms(row['service']['p50_us'])}, p99 {ms(row['service']['p99_us'])}, "
                  f"RSS at most {row['rss']:.0f} MB, others' CPU {row['service']['foreign_cpu']:.0%}"
                  + (f", moto CPU {row['service']['store_cpu_us']:.0f} µs/request" if store else ""), flush=True)

        peak_rss = service.memory_mb("VmHWM")
        service.stop()
        processes.remove(service)
        service = start("service-restart", service_args, env_service, service_dir)
        wait_for(service_port, "/_status", 30)
        restart = time.monotonic() - service.started
        load_after = loadavg()
        table = report(rows, startup, restart, peak_rss, load_before, load_after, options)
        print()
        print(table)
        if options.out:
            with open(options.out, "w") as f:
                f.write(table + "\n")
    except BaseException:
        for process in processes:
            process.log.flush()
            with open(process.log_path, "rb") as f:
                tail = f.read()[-3000:].decode(errors="replace")
            print(f"--- end of {process.name}'s output ---\n{tail}", file=sys.stderr)
        raise
    finally:
        for process in processes:
            process.stop()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
