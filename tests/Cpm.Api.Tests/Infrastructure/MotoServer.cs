using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Cpm.Api.Tests.Infrastructure;

/// <summary>
/// moto's DynamoDB (the <c>moto_server</c> command, run by the Python it is installed in) on a free
/// loopback port, one for the whole test run: started on first use, killed when the test process
/// exits, and it exits by itself when its standard input closes, so it never outlives a crashed run.
/// moto's transactions are not atomic under concurrent requests (real DynamoDB's are), so the
/// launcher serialises requests; races between our own reads and writes stay visible. It also
/// makes moto's transactions and queries cost what they touch rather than the whole table.
/// </summary>
public sealed class MotoServer : IDisposable
{
    private const string Launcher = """
        import copy, os, sys, threading
        from moto import server
        from moto.dynamodb import models as dynamodb_models
        from moto.dynamodb.models.dynamo_type import DynamoType
        from moto.dynamodb.models.table import Table
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication

        lock = threading.Lock()
        dispatch = DomainDispatcherApplication.__call__

        def serialised(self, environ, start_response):
            with lock:
                return dispatch(self, environ, start_response)

        DomainDispatcherApplication.__call__ = serialised

        # moto deep-copies every table before each transaction (to roll a cancelled one back) and
        # sorts the whole table for every query, so both slow down as a table grows (seconds per
        # transaction, a second per index query at 20,000 rows). Same answers, at the cost of what a
        # call touches: a transaction backs up only the rows it writes, and a query hands moto only
        # the rows its key condition matches (moto checks and sorts them itself). Requests are
        # serialised above, so the state kept between the calls below is never shared.
        class KeepTables:
            @staticmethod
            def deepcopy(value, memo=None):
                return value if isinstance(value, Table) else copy.deepcopy(value, memo)

        transact = dynamodb_models.DynamoDBBackend.transact_write_items

        def transact_write_items(self, transact_items):
            saved = []
            for entry in transact_items:
                op = next(iter(entry.values()))
                table = self.tables.get(op.get("TableName"))
                key = op.get("Item") or op.get("Key") or {}
                if table is not None and table.hash_key_attr in key and table.range_key_attr in key:
                    hash_key, range_key = DynamoType(key[table.hash_key_attr]), DynamoType(key[table.range_key_attr])
                    saved.append((table, hash_key, range_key, copy.deepcopy(table.items.get(hash_key, {}).get(range_key))))
            dynamodb_models.copy = KeepTables
            try:
                return transact(self, transact_items)
            except Exception:
                for table, hash_key, range_key, item in reversed(saved):
                    if item is None:
                        table.items.get(hash_key, {}).pop(range_key, None)
                    else:
                        table.items[hash_key][range_key] = item
                raise
            finally:
                dynamodb_models.copy = copy

        dynamodb_models.DynamoDBBackend.transact_write_items = transact_write_items

        query, all_items = Table.query, Table.all_items
        querying = []

        def narrowed_query(self, hash_key, range_comparison, range_objs, limit, start_key, forward, projection, index_name=None, *args, **kwargs):
            querying.append((self, hash_key, index_name, range_comparison, range_objs))
            try:
                return query(self, hash_key, range_comparison, range_objs, limit, start_key, forward, projection, index_name, *args, **kwargs)
            finally:
                querying.pop()

        def queried_items(self):
            if not querying or querying[-1][0] is not self or not self.range_key_attr or querying[-1][1] is None:
                return all_items(self)
            _, hash_key, index_name, range_comparison, range_objs = querying[-1]
            if index_name is None:
                return [item for item in self.items.get(hash_key, {}).values() if not range_comparison or item.range_key.compare(range_comparison, range_objs)]
            keys = {key["KeyType"]: key["AttributeName"] for key in self.get_index(index_name).schema}
            return [
                item
                for partition in self.items.values()
                for item in partition.values()
                if (value := item.attrs.get(keys["HASH"])) is not None and value.type == hash_key.type and value.value == hash_key.value
                and (not range_comparison or ((bound := item.attrs.get(keys.get("RANGE"))) is not None and bound.compare(range_comparison, range_objs)))
            ]

        Table.query, Table.all_items = narrowed_query, queried_items

        def exit_with_parent():
            sys.stdin.read()
            os._exit(0)

        threading.Thread(target=exit_with_parent, daemon=True).start()
        server.main(sys.argv[1:])
        """;

    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);
    private static readonly Lazy<Task<MotoServer>> SharedServer = new(StartAsync);

    private readonly Process _process;

    private MotoServer(Process process, string url)
    {
        _process = process;
        Url = url;
    }

    public string Url { get; }

    /// <summary>The run's server; each fixture uses its own table in it.</summary>
    public static Task<MotoServer> SharedAsync() => SharedServer.Value;

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(5000);
        }

        _process.Dispose();
    }

    private static async Task<MotoServer> StartAsync()
    {
        var port = FreePort();
        var start = new ProcessStartInfo("python3")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[] { "-c", Launcher, "-H", "127.0.0.1", "-p", port.ToString(CultureInfo.InvariantCulture) })
        {
            start.ArgumentList.Add(argument);
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException("python3 did not start");
        var output = new ConcurrentQueue<string>();
        process.OutputDataReceived += (_, line) => Keep(output, line.Data);
        process.ErrorDataReceived += (_, line) => Keep(output, line.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var server = new MotoServer(process, $"http://127.0.0.1:{port}");
        AppDomain.CurrentDomain.ProcessExit += (_, _) => server.Dispose();

        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var waited = Stopwatch.StartNew();
        while (true)
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException(
                    $"moto_server exited with {process.ExitCode} (install it with: python3 -m pip install 'moto[server]'):\n{string.Join('\n', output)}");
            }

            try
            {
                using var response = await http.GetAsync($"{server.Url}/moto-api/");
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return server;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }
            catch (TaskCanceledException)
            {
                // Still importing.
            }

            if (waited.Elapsed > StartTimeout)
            {
                server.Dispose();
                throw new TimeoutException($"moto_server did not answer on {server.Url} within {StartTimeout.TotalSeconds} s:\n{string.Join('\n', output)}");
            }

            await Task.Delay(100);
        }
    }

    private static void Keep(ConcurrentQueue<string> output, string? line)
    {
        if (line is null)
        {
            return;
        }

        output.Enqueue(line);
        while (output.Count > 50)
        {
            output.TryDequeue(out _);
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
