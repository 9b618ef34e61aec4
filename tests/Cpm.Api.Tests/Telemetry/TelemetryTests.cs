using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Net;
using Cpm.Api.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Cpm.Api.Tests.Telemetry;

/// <summary>Request spans carry the NHS request ids; ODS outcomes and request latencies are measured.</summary>
public sealed class TelemetryTests(SqliteService service) : IClassFixture<SqliteService>
{
    [Fact]
    public async Task RequestSpansCarryTheRequestAndCorrelationIds()
    {
        var requestId = Guid.NewGuid().ToString();
        var spans = new ConcurrentBag<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == "Microsoft.AspNetCore",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = spans.Add,
        };
        ActivitySource.AddActivityListener(listener);

        (await service.Client().GetAsync("/_status", ("X-Request-Id", requestId), ("X-Correlation-Id", "corr-telemetry"))).AssertStatus(HttpStatusCode.OK);

        // The server's span stops just after the response is sent, so it may land a moment later.
        for (var wait = 0; wait < 50 && !spans.Any(s => (string?)s.GetTagItem("cpm.request_id") == requestId); wait++)
        {
            await Task.Delay(20);
        }

        var span = Assert.Single(spans, s => (string?)s.GetTagItem("cpm.request_id") == requestId);
        Assert.Equal("corr-telemetry", span.GetTagItem("cpm.correlation_id"));
    }

    [Fact]
    public async Task OdsCheckOutcomesAndRequestDurationsByRouteAreMeasured()
    {
        // The listener hears every meter in the test process; only this service's instruments
        // (created through its own IMeterFactory) count, so other classes' traffic cannot pass the test.
        var meters = service.Services.GetRequiredService<IMeterFactory>();
        var measurements = new ConcurrentQueue<(string Instrument, KeyValuePair<string, object?>[] Tags)>();
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, subscription) =>
            {
                if ((instrument.Name is "cpm.ods.checks" or "http.server.request.duration") && ReferenceEquals(instrument.Meter.Scope, meters))
                {
                    subscription.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<long>((instrument, _, tags, _) => measurements.Enqueue((instrument.Name, tags.ToArray())));
        listener.SetMeasurementEventCallback<double>((instrument, _, tags, _) => measurements.Enqueue((instrument.Name, tags.ToArray())));
        listener.Start();

        var client = service.Client();
        await client.CreateTeamAsync();
        (await client.PostAsync("/ProductTeam", """{"ods_code": "BAD42", "name": "n"}""")).AssertStatus(HttpStatusCode.UnprocessableEntity);

        Func<(string Instrument, KeyValuePair<string, object?>[] Tags), bool>[] expected =
        [
            m => m.Instrument == "cpm.ods.checks" && m.Tags.Contains(new("outcome", "valid")),
            m => m.Instrument == "cpm.ods.checks" && m.Tags.Contains(new("outcome", "invalid")),
            m => m.Instrument == "http.server.request.duration"
                && m.Tags.Any(t => t.Key == "http.route" && ((string)t.Value!).TrimEnd('/') == "/ProductTeam")
                && m.Tags.Any(t => t.Key == "http.response.status_code" && Equals(t.Value, 422)),
        ];

        // The request duration is recorded as the request ends, just after the client has its answer.
        for (var wait = 0; wait < 100 && !expected.All(wanted => measurements.Any(wanted)); wait++)
        {
            await Task.Delay(50);
        }

        Assert.All(expected, wanted => Assert.Contains(measurements, measurement => wanted(measurement)));
    }
}
