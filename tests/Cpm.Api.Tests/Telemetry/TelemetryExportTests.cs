using System.Collections.Concurrent;
using System.Net;
using System.Text;
using Cpm.Api.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Trace;

namespace Cpm.Api.Tests.Telemetry;

/// <summary>
/// With <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> set, spans and metrics reach an OTLP/HTTP collector (a
/// fake one on loopback); without it, nothing is collected at all.
/// </summary>
public sealed class TelemetryExportTests(SqliteService unexported) : IClassFixture<SqliteService>, IAsyncLifetime
{
    private readonly ConcurrentQueue<(string Path, byte[] Body)> _received = new();
    private WebApplication _collector = null!;
    private SqliteService _exported = null!;

    public async Task InitializeAsync()
    {
        _collector = LoopbackServer.Create();
        _collector.MapPost("/v1/{signal}", async (HttpRequest request) =>
        {
            using var body = new MemoryStream();
            await request.Body.CopyToAsync(body);
            _received.Enqueue((request.Path, body.ToArray()));
            return Results.Ok();
        });
        await _collector.StartAsync();

        _exported = new SqliteService();
        _exported.ExtraSettings["OTEL_EXPORTER_OTLP_ENDPOINT"] = LoopbackServer.AddressOf(_collector);
        _exported.ExtraSettings["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf";
        _exported.ExtraSettings["OTEL_BSP_SCHEDULE_DELAY"] = "100";
        _exported.ExtraSettings["OTEL_METRIC_EXPORT_INTERVAL"] = "200";
        await _exported.InitializeAsync();
    }

    public async Task DisposeAsync()
    {
        await _exported.DisposeAsync();
        await _collector.DisposeAsync();
    }

    [Fact]
    public async Task SpansWithTheRequestIdAndRequestMetricsAreExported()
    {
        var requestId = Guid.NewGuid().ToString();

        (await _exported.Client().GetAsync("/_status", ("X-Request-Id", requestId))).AssertStatus(HttpStatusCode.OK);

        await WaitForAsync("/v1/traces", body => body.Contains(requestId, StringComparison.Ordinal) && body.Contains("cpm.request_id", StringComparison.Ordinal));
        await WaitForAsync("/v1/metrics", body => body.Contains("http.server.request.duration", StringComparison.Ordinal));
    }

    [Fact]
    public void WithoutAnEndpointNothingIsCollected() =>
        Assert.Null(unexported.Services.GetService<TracerProvider>());

    private async Task WaitForAsync(string path, Func<string, bool> wanted)
    {
        for (var attempt = 0; attempt < 100; attempt++)
        {
            if (_received.Any(export => export.Path == path && wanted(Encoding.UTF8.GetString(export.Body))))
            {
                return;
            }

            await Task.Delay(100);
        }

        Assert.Fail($"Nothing matching arrived at {path} within 10 s; got {_received.Count} exports to {string.Join(", ", _received.Select(export => export.Path).Distinct())}");
    }
}
