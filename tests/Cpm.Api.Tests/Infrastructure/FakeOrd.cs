using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Cpm.Api.Tests.Infrastructure;

/// <summary>How the fake ORD server answers for a code.</summary>
public enum OrdBehaviour
{
    Known,
    Unknown,
    ServerError,
    RateLimited,
    Hang,
    Malformed,
}

/// <summary>
/// The one fake ODS ORD API, on a free loopback port: known codes answer 200, unknown ones 404, any
/// other path 200 (as the real API answers for its collection), optionally after a delay; a
/// test can make a code fail, hang or recover. It counts every request it receives, whatever the
/// path, as well as the calls per code its route decodes. Stops with its fixture.
/// </summary>
public sealed class FakeOrd : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, OrdBehaviour> _behaviours = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, int> _failuresLeft = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, int> _calls = new(StringComparer.Ordinal);
    private int _requests;

    private FakeOrd(WebApplication app) => _app = app;

    public string BaseUrl { get; private set; } = "";

    /// <summary>Starts the fake; every answer waits <paramref name="answerDelay"/> first (none by default).</summary>
    public static async Task<FakeOrd> StartAsync(TimeSpan? answerDelay = null)
    {
        var app = LoopbackServer.Create();
        var ord = new FakeOrd(app);

        // Ahead of routing, so a request whose path matches no code (an empty one, say) still counts.
        app.Use(async (context, next) =>
        {
            Interlocked.Increment(ref ord._requests);
            await Task.Delay(answerDelay ?? TimeSpan.Zero, context.RequestAborted);
            await next(context);
        });
        app.MapGet("/ORD/2-0-0/organisations/{code}", ord.AnswerAsync);

        // Any other path answers 200, as the real API does for its organisations collection and root.
        app.MapGet("/{**path}", () => Results.Json(new { Organisations = Array.Empty<object>() }));
        await app.StartAsync();
        ord.BaseUrl = LoopbackServer.AddressOf(app) + "/ORD/2-0-0/organisations";
        return ord;
    }

    public void Set(string code, OrdBehaviour behaviour) => _behaviours[code] = behaviour;

    /// <summary>The next <paramref name="count"/> calls for the code answer 500, then it is known.</summary>
    public void FailTimes(string code, int count)
    {
        _failuresLeft[code] = count;
        _behaviours[code] = OrdBehaviour.Known;
    }

    public int CallsFor(string code) => _calls.TryGetValue(code, out var calls) ? calls : 0;

    /// <summary>Every request received so far, on any path and with any method.</summary>
    public int Requests => Volatile.Read(ref _requests);

    /// <summary>A loopback address where nothing listens, so every connection is refused.</summary>
    public static string ClosedBaseUrl()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return $"http://127.0.0.1:{port}/ORD/2-0-0/organisations";
    }

    public ValueTask DisposeAsync() => _app.DisposeAsync();

    private async Task AnswerAsync(string code, HttpContext context)
    {
        _calls.AddOrUpdate(code, 1, (_, calls) => calls + 1);
        if (_failuresLeft.TryGetValue(code, out var left) && left > 0)
        {
            _failuresLeft[code] = left - 1;
            context.Response.StatusCode = StatusCodes.Status500InternalServerError;
            return;
        }

        switch (_behaviours.GetValueOrDefault(code, code.StartsWith("BAD", StringComparison.Ordinal) ? OrdBehaviour.Unknown : OrdBehaviour.Known))
        {
            case OrdBehaviour.Known:
                await context.Response.WriteAsJsonAsync(new { Organisation = new { Name = "FAKE ORGANISATION", OrgId = new { extension = code } } });
                break;
            case OrdBehaviour.Unknown:
                context.Response.StatusCode = StatusCodes.Status404NotFound;
                await context.Response.WriteAsJsonAsync(new { errorCode = 404, errorText = "Not Found" });
                break;
            case OrdBehaviour.ServerError:
                context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
                break;
            case OrdBehaviour.RateLimited:
                context.Response.StatusCode = StatusCodes.Status429TooManyRequests;
                break;
            case OrdBehaviour.Hang:
                // Bounded: the service's own timeout gives up long before this.
                await Task.Delay(TimeSpan.FromSeconds(30), context.RequestAborted).ContinueWith(_ => { }, TaskScheduler.Default);
                break;
            case OrdBehaviour.Malformed:
                context.Response.ContentType = "application/json";
                await context.Response.WriteAsync("{not json");
                break;
        }
    }
}
