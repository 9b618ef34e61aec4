using System.Collections.Concurrent;
using System.Net;
using System.Text;
using Cpm.Api.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Trace;

namespace Cpm.Api.Tests.Telemetry;

/// <summary>A service exporting to a fake OTLP/HTTP collector on loopback, which keeps what it receives.</summary>
public sealed class ExportingService : IAsyncLifetime
{
    private WebApplication _collector = null!;

    public SqliteService Service { get; } = new();

    public ConcurrentQueue<(string Path, byte[] Body)> Received { get; } = new();

    public async Task InitializeAsync()
    {
        _collector = LoopbackServer.Create();
        _collector.MapPost("/v1/{signal}", async (HttpRequest request) =>
        {
            using var body = new MemoryStream();
            await request.Body.CopyToAsync(body);
            Received.Enqueue((request.Path, body.ToArray()));
            return Results.Ok();
        });
        await _collector.StartAsync();

        Service.ExtraSettings["OTEL_EXPORTER_OTLP_ENDPOINT"] = LoopbackServer.AddressOf(_collector);
        Service.ExtraSettings["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf";
        Service.ExtraSettings["OTEL_BSP_SCHEDULE_DELAY"] = "100";
        Service.ExtraSettings["OTEL_METRIC_EXPORT_INTERVAL"] = "200";
        await Service.InitializeAsync();
    }

    public async Task DisposeAsync()
    {
        await Service.DisposeAsync();
        await _collector.DisposeAsync();
    }
}

/// <summary>A service with no OTLP endpoint, whatever the environment running the tests says.</summary>
public sealed class UnexportedService : SqliteService
{
    public UnexportedService() => ExtraSettings["OTEL_EXPORTER_OTLP_ENDPOINT"] = "";
}

/// <summary>
/// With <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> set, spans and metrics reach an OTLP/HTTP collector;
/// without it, nothing is collected at all.
/// </summary>
public sealed class TelemetryExportTests(ExportingService exporting, UnexportedService unexported)
    : IClassFixture<ExportingService>, IClassFixture<UnexportedService>
{
    [Fact]
    public async Task SpansWithTheRequestIdAndRequestMetricsAreExported()
    {
        var requestId = Guid.NewGuid().ToString();

        (await exporting.Service.Client().GetAsync("/_status", ("X-Request-Id", requestId))).AssertStatus(HttpStatusCode.OK);

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
            if (exporting.Received.Any(export => export.Path == path && wanted(Encoding.UTF8.GetString(export.Body))))
            {
                return;
            }

            await Task.Delay(100);
        }

        Assert.Fail($"Nothing matching arrived at {path} within 10 s; got {exporting.Received.Count} exports to {string.Join(", ", exporting.Received.Select(export => export.Path).Distinct())}");
    }
}
