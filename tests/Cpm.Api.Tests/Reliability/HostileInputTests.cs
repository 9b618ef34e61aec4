using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Cpm.Api.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Cpm.Api.Tests.Reliability;

/// <summary>The hardening rules of docs/API.md in a real process and at start-up: hostile ids, webhook URLs and caller names.</summary>
public sealed class HostileInputTests(RealService service) : IClassFixture<RealService>
{
    [Fact]
    public async Task ANonAsciiRequestIdGetsTheErrorBodyAndAnAccessLine()
    {
        var marker = Guid.NewGuid().ToString("N");
        var request = RawHttp.Request("GET", $"/Product/P.{marker}", [$"apikey: {RealService.ApiKey}", "version: 1"]);
        var withId = request[..^2].Concat(Encoding.UTF8.GetBytes("X-Request-Id: caf\u00e9\u0001\r\n\r\n")).ToArray();

        var reply = await RawHttp.SendAsync(new Uri(service.Process.BaseUrl).Port, withId);

        Assert.Equal(400, reply.Status);
        Assert.Equal("""{"errors": [{"code": "VALIDATION_ERROR", "message": "X-Request-Id: must be printable ASCII of at most 200 characters"}]}""", reply.Text);
        var line = await AccessLineAsync(marker);
        Assert.Equal(400, (int)line["Status"]!);
    }

    [Fact]
    public async Task AnOverlongCorrelationIdIsClippedInTheLog()
    {
        var marker = Guid.NewGuid().ToString("N");
        var correlationId = "c" + new string('x', 5000);

        (await service.Client(RealService.ApiKey).GetAsync($"/Product/P.{marker}", ("X-Correlation-Id", correlationId)))
            .AssertError(HttpStatusCode.BadRequest, "VALIDATION_ERROR", "X-Correlation-Id: must be printable ASCII of at most 200 characters");

        var line = await AccessLineAsync(marker);
        Assert.Equal(correlationId[..100] + "\u2026", (string)line["XCorrelationId"]!);
    }

    [Theory]
    [InlineData("file:///etc/passwd")]
    [InlineData("ftp://127.0.0.1/hook")]
    [InlineData("/relative/hook")]
    public async Task StartUpRefusesWebhookUrlsThatAreNotHttp(string url)
    {
        var failure = await Assert.ThrowsAnyAsync<Exception>(async () =>
        {
            await using var refused = IsolatedService.Start(service.Ord.BaseUrl, new Dictionary<string, string?>
            {
                ["Webhooks:Subscriptions:0:Url"] = url,
                ["Webhooks:Subscriptions:0:Secret"] = "a-secret-of-16-chars",
            });
        });

        Assert.Contains("Each Webhooks:Subscriptions entry needs an absolute http or https Url and a Secret.", failure.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("apikey-0", null)]
    [InlineData("APIKEY-0", null)]
    [InlineData("reporting", "reporting")]
    public async Task StartUpRefusesCallerNamesThatAreNotUnique(string first, string? second)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Auth:Clients:0:Name"] = first,
            ["Auth:Clients:0:KeyHash"] = new string('a', 64),
            ["Auth:Clients:0:Scopes:0"] = "read",
        };
        if (second is not null)
        {
            settings["Auth:Clients:1:Name"] = second;
            settings["Auth:Clients:1:KeyHash"] = new string('b', 64);
        }

        var failure = await Assert.ThrowsAnyAsync<Exception>(async () =>
        {
            await using var refused = IsolatedService.Start(service.Ord.BaseUrl, settings);
        });

        Assert.Contains("Caller names must be unique across Auth:Clients and the apikey-N names of Auth:ApiKeys", failure.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task RedirectsAreFailedAttemptsRetriedAndTheUrlsUserInformationIsNeverLogged()
    {
        await using var receiver = await RedirectingReceiver.StartAsync();
        var logs = new LogCapture();
        var url = receiver.Url.Replace("http://", "http://hook-user:hook-password-5c1e@", StringComparison.Ordinal);
        await using var isolated = IsolatedService.Start(service.Ord.BaseUrl, new Dictionary<string, string?>
        {
            ["Webhooks:Subscriptions:0:Url"] = url,
            ["Webhooks:Subscriptions:0:Secret"] = "a-secret-of-16-chars",
            ["Webhooks:FirstRetryDelay"] = "00:00:00.050",
            ["Webhooks:MaxRetryDelay"] = "00:00:00.100",
            ["Logging:LogLevel:Default"] = "Trace",
            ["Logging:LogLevel:System.Net.Http.HttpClient"] = "Trace",
        }, services => services.AddSingleton<ILoggerProvider>(logs), kestrel: true);
        var client = isolated.Client();

        // Delivery starts at the end of the feed once it is running: write until an event reaches the receiver.
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (receiver.Delivered.IsEmpty)
        {
            Assert.True(DateTime.UtcNow < deadline, "no event was delivered");
            await client.CreateTeamAsync();
            await Task.Delay(100);
        }

        // Different teams' events may be sent at once: follow the first event delivered.
        var delivered = receiver.Delivered.First();
        Assert.Equal([307, 302, 200], receiver.Attempts.Where(a => a.Body == delivered).Select(a => a.Status).Take(3));
        Assert.Equal(0, receiver.RedirectTargetHits);
        Assert.Contains("HTTP 307", logs.Text, StringComparison.Ordinal);
        Assert.DoesNotContain("hook-password-5c1e", logs.Text, StringComparison.Ordinal);
        Assert.DoesNotContain("hook-user", logs.Text, StringComparison.Ordinal);
    }

    private async Task<JsonObject> AccessLineAsync(string marker)
    {
        for (var attempt = 0; attempt < 200; attempt++)
        {
            var line = service.Process.Output.Split('\n')
                .Where(text => text.Contains(marker, StringComparison.Ordinal) && text.Contains("RequestContextMiddleware", StringComparison.Ordinal))
                .Select(text => JsonNode.Parse(text)!.AsObject())
                .FirstOrDefault();
            if (line is not null)
            {
                return line;
            }

            await Task.Delay(50);
        }

        throw new Xunit.Sdk.XunitException($"No access line for {marker}:\n{service.Process.Output}");
    }

    /// <summary>Answers each new event with a 307, then a 302, then a 200; counts what reaches the redirect target.</summary>
    private sealed class RedirectingReceiver : IAsyncDisposable
    {
        private readonly WebApplication _app;
        private int _redirectTargetHits;

        private RedirectingReceiver(WebApplication app) => _app = app;

        public string Url { get; private set; } = "";

        public ConcurrentQueue<(string Body, int Status)> Attempts { get; } = new();

        public ConcurrentQueue<string> Delivered { get; } = new();

        public int RedirectTargetHits => Volatile.Read(ref _redirectTargetHits);

        public static async Task<RedirectingReceiver> StartAsync()
        {
            var app = LoopbackServer.Create();
            var receiver = new RedirectingReceiver(app);
            app.MapPost("/hook", async (HttpRequest request, HttpResponse response) =>
            {
                var body = await new StreamReader(request.Body).ReadToEndAsync();
                var status = receiver.Attempts.Count(a => a.Body == body) switch
                {
                    0 => StatusCodes.Status307TemporaryRedirect,
                    1 => StatusCodes.Status302Found,
                    _ => StatusCodes.Status200OK,
                };
                receiver.Attempts.Enqueue((body, status));
                if (status == StatusCodes.Status200OK)
                {
                    receiver.Delivered.Enqueue(body);
                }
                else
                {
                    response.Headers.Location = "/elsewhere";
                }

                response.StatusCode = status;
            });
            app.MapMethods("/elsewhere", ["GET", "POST"], () =>
            {
                Interlocked.Increment(ref receiver._redirectTargetHits);
                return Results.Ok();
            });
            await app.StartAsync();
            receiver.Url = LoopbackServer.AddressOf(app) + "/hook";
            return receiver;
        }

        public ValueTask DisposeAsync() => _app.DisposeAsync();
    }
}
